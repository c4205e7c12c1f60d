import fc from 'fast-check';
import { SignJWT } from 'jose';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopKey, type DpopTestKey } from '../../helpers/dpop.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { ERROR_DESCRIPTION_CHARS } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';

/**
 * The no-5xx property of fuzz-no-5xx.test.ts for the DPoP header (RFC 9449) and the DPoP authorization
 * scheme: random text, JWS-shaped garbage, and proofs really signed by a key with random headers and
 * claims, at the token, userinfo, revocation and introspection endpoints. Every answer is a success or an
 * exact OAuth error (never a 5xx), with a printable challenge. Replay a failure with FUZZ_SEED=<seed>.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jsonValue = () => fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
const CLAIMS = ['jti', 'htm', 'htu', 'iat', 'ath', 'nonce', 'exp', 'nbf'];
const HEADERS = ['typ', 'alg', 'jwk', 'kid', 'crit', 'b64'];

const ALLOWED_ERRORS = new Set(['invalid_dpop_proof', 'use_dpop_nonce', 'invalid_token', 'invalid_request', 'invalid_client', 'invalid_grant', 'insufficient_scope']);

describe('fuzz: DPoP headers never yield a 5xx', () => {
  let t: TestApp;
  let key: DpopTestKey;
  let service: TestClient;
  let accessToken: string;

  beforeAll(async () => {
    t = await createTestApp({ DPOP_REQUIRE_NONCE: 'false' });
    key = await dpopKey('ES256');
    service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(service.clientId, service.clientSecret!) },
      payload: 'grant_type=client_credentials',
    });
    accessToken = res.json().access_token;
  });
  afterAll(() => t.close());

  /** Proofs a real key signed, with random members next to (or instead of) the right ones. */
  const signedProof = () =>
    fc
      .record({
        claims: fc.dictionary(fc.oneof(fc.constantFrom(...CLAIMS), fc.string({ maxLength: 8 })), jsonValue(), { maxKeys: 8 }),
        header: fc.dictionary(fc.constantFrom(...HEADERS), jsonValue(), { maxKeys: 3 }),
        keepGood: fc.boolean(),
      })
      .map(({ claims, header, keepGood }) => async () => {
        const base = keepGood ? { jti: 'j', htm: 'POST', htu: `${TEST_ISSUER}/oauth/token`, iat: Math.floor(Date.now() / 1000) } : {};
        const protectedHeader = { typ: 'dpop+jwt', jwk: key.publicJwk, ...header, alg: 'ES256' } as { alg: string };
        try {
          return await new SignJWT({ ...base, ...claims }).setProtectedHeader(protectedHeader).sign(key.privateKey);
        } catch {
          // jose refuses some headers (crit, b64): send them unsigned instead.
          return `${b64(protectedHeader)}.${b64({ ...base, ...claims })}.c2ln`;
        }
      });
  const dpopHeader = () =>
    fc.oneof(
      printable(200).map((s) => async () => s),
      fc.tuple(jsonValue(), jsonValue(), printable(20)).map(([h, p, s]) => async () => `${b64(h)}.${b64(p)}.${b64(s)}`),
      fc.tuple(printable(30), printable(30)).map(([a, b]) => async () => `${a}, ${b}`),
      signedProof(),
    );

  function check(res: LightMyRequestResponse, what: string) {
    expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
    if (res.statusCode >= 400) {
      const body = res.json() as { error: string; error_description?: string };
      expect(ALLOWED_ERRORS.has(body.error), `${what} → ${res.body}`).toBe(true);
      expect(body.error_description ?? '', what).toMatch(ERROR_DESCRIPTION_CHARS);
    }
    const challenge = res.headers['www-authenticate'];
    if (typeof challenge === 'string') expect(challenge, what).toMatch(/^[\x20-\x7e]*$/);
  }

  const fuzz = (make: (dpop: string) => InjectOptions) =>
    fc.assert(
      fc.asyncProperty(dpopHeader(), async (header) => {
        const dpop = await header();
        const req = make(dpop);
        check(await t.app.inject(req), `DPoP: ${dpop.slice(0, 200)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );

  it('at the token endpoint', async () => {
    await fuzz((dpop) => ({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(service.clientId, service.clientSecret!), dpop },
      payload: 'grant_type=client_credentials',
    }));
  });

  it('at userinfo, with the DPoP scheme', async () => {
    await fuzz((dpop) => ({ method: 'GET', url: '/oidc/userinfo', headers: { authorization: `DPoP ${accessToken}`, dpop } }));
  });

  it.each(['/oauth/revoke', '/oauth/introspect'])('at %s', async (url) => {
    await fuzz((dpop) => ({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(service.clientId, service.clientSecret!), dpop },
      payload: `token=${accessToken}`,
    }));
  });

  it('the DPoP authorization scheme with random tokens', async () => {
    await fc.assert(
      fc.asyncProperty(printable(300), dpopHeader(), async (token, header) => {
        const res = await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers: { authorization: `DPoP ${token}`, dpop: await header() } });
        check(res, `DPoP ${token.slice(0, 100)}`);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });
});
