import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertScope } from '../../../src/repositories/scopes-repository.js';
import { clientSigningKey, JWT_BEARER, signAssertion, type AssertionOptions, type ClientSigningKey } from '../../helpers/client-assertion.js';
import { basicAuth } from '../../helpers/fixtures.js';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';
import { ERROR_DESCRIPTION_CHARS, FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';

const TOKEN_URL = `${TEST_ISSUER}/oauth/token`;
const CC = { grant_type: 'client_credentials', scope: 'api:read' };

/**
 * private_key_jwt and client_secret_jwt (RFC 7523 sections 2.2 and 3, OIDC Core section 9) at the token,
 * introspection and revocation endpoints, through app.inject; clients made through the admin API.
 */
describe('client assertions (RFC 7523)', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  let keys: Record<'ES256' | 'PS256' | 'EdDSA' | 'RS256', ClientSigningKey>;
  let stranger: ClientSigningKey;
  let pkj: string;
  let pinned: string;
  let csj: { clientId: string; secret: string };
  let basicClient: { clientId: string; secret: string };
  let jwksServer: MetadataDocumentServer;

  async function create(body: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }> {
    const res = await call('POST', '/admin/clients', { client_name: 'Assertion client', grant_types: ['client_credentials'], scope: 'api:read', ...body });
    if (res.statusCode !== 201) throw new Error(res.body);
    return res.json() as { client_id: string; client_secret?: string };
  }

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, OUTBOUND_ALLOW_LOOPBACK: 'true', AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    call = adminCall(t.app, await adminToken(t.app));
    await insertScope(t.app.ctx.db, { name: 'api:read', description: 'Read the API', isDefault: false });
    keys = {
      ES256: await clientSigningKey('ES256'),
      PS256: await clientSigningKey('PS256'),
      EdDSA: await clientSigningKey('EdDSA'),
      RS256: await clientSigningKey('RS256'),
    };
    stranger = await clientSigningKey('ES256');
    const jwks = { keys: Object.values(keys).map((k) => k.publicJwk) };
    const created = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks });
    expect(created.client_secret).toBeUndefined();
    pkj = created.client_id;
    pinned = (await create({ token_endpoint_auth_method: 'private_key_jwt', jwks, token_endpoint_auth_signing_alg: 'ES256' })).client_id;
    const c = await create({ token_endpoint_auth_method: 'client_secret_jwt' });
    csj = { clientId: c.client_id, secret: c.client_secret! };
    const b = await create({});
    basicClient = { clientId: b.client_id, secret: b.client_secret! };
    jwksServer = await MetadataDocumentServer.start();
  });
  afterAll(async () => {
    await jwksServer?.close();
    await t?.close();
  });

  const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
  function send(url: string, fields: Record<string, string>, headers: Record<string, string> = FORM) {
    return t.app.inject({ method: 'POST', url, headers, payload: form(fields) });
  }
  const withAssertion = (assertion: string, extra: Record<string, string> = {}) => ({
    ...CC,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  });
  const sign = (key: ClientSigningKey | { alg: string; secret: string }, options: Partial<AssertionOptions> = {}) =>
    signAssertion(key, { clientId: pkj, audience: TEST_ISSUER, ...options });

  function expectError(res: LightMyRequestResponse, status: number, error: string, description: string) {
    expect(res.json()).toEqual({ error, error_description: description });
    expect(res.statusCode).toBe(status);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(description).toMatch(ERROR_DESCRIPTION_CHARS);
  }

  describe('accepted', () => {
    it.each(['ES256', 'PS256', 'EdDSA', 'RS256'] as const)('private_key_jwt signed with %s', async (alg) => {
      const res = await send('/oauth/token', withAssertion(await sign(keys[alg])));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ token_type: 'Bearer', scope: 'api:read' });
    });

    it.each([
      ['the token endpoint URL', TOKEN_URL],
      ['an array naming the issuer', [TEST_ISSUER, 'https://other.example.com']],
    ])('aud as %s', async (_name, audience) => {
      const res = await send('/oauth/token', withAssertion(await sign(keys.ES256, { audience })));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('with a matching client_id and the explicit typ of RFC 7523bis', async () => {
      const assertion = await sign(keys.ES256, { header: { typ: 'client-authentication+jwt' } });
      expect((await send('/oauth/token', withAssertion(assertion, { client_id: pkj }))).statusCode).toBe(200);
    });

    it.each(['HS256', 'HS384', 'HS512'])('client_secret_jwt with %s', async (alg) => {
      const assertion = await signAssertion({ alg, secret: csj.secret }, { clientId: csj.clientId, audience: TEST_ISSUER });
      const res = await send('/oauth/token', withAssertion(assertion));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('client_secret_jwt keeps working after a secret rotation, with the new secret only', async () => {
      const c = await create({ token_endpoint_auth_method: 'client_secret_jwt' });
      const rotated = (await call('POST', `/admin/clients/${c.client_id}/rotate-secret`)).json() as { client_secret: string };
      const signWith = (secret: string) => signAssertion({ alg: 'HS256', secret }, { clientId: c.client_id, audience: TEST_ISSUER });
      expect((await send('/oauth/token', withAssertion(await signWith(rotated.client_secret)))).statusCode).toBe(200);
      expectError(await send('/oauth/token', withAssertion(await signWith(c.client_secret!))), 401, 'invalid_client', 'the client assertion signature is not valid');
    });

    it('at introspection and revocation, with their own URL as aud too', async () => {
      const token = ((await send('/oauth/token', withAssertion(await sign(keys.ES256)))).json() as { access_token: string }).access_token;
      for (const [path, audience] of [
        ['/oauth/introspect', TEST_ISSUER],
        ['/oauth/introspect', `${TEST_ISSUER}/oauth/introspect`],
        ['/oauth/revoke', `${TEST_ISSUER}/oauth/revoke`],
      ] as const) {
        const res = await send(path, { token, client_assertion_type: JWT_BEARER, client_assertion: await sign(keys.ES256, { audience }) });
        expect(res.statusCode, `${path} ${res.body}`).toBe(200);
      }
      // Another endpoint's URL is not this one's audience.
      const res = await send('/oauth/introspect', { token, client_assertion_type: JWT_BEARER, client_assertion: await sign(keys.ES256, { audience: `${TEST_ISSUER}/oauth/revoke` }) });
      expectError(res, 401, 'invalid_client', 'the client assertion aud must be the issuer identifier of this server');
    });
  });

  describe('refused with invalid_client (401)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => Promise<string>, string][] = [
      ['a wrong aud', () => sign(keys.ES256, { audience: 'https://other.example.com' }), 'the client assertion aud must be the issuer identifier of this server'],
      ['sub not the client', () => sign(keys.ES256, { claims: { sub: 'someone-else' } }), 'the client assertion iss and sub must both be the client_id'],
      ['no sub', () => sign(keys.ES256, { claims: { sub: undefined } }), 'the client assertion iss and sub must both be the client_id'],
      ['expired', () => sign(keys.ES256, { claims: { exp: now() - 120, iat: now() - 180 } }), 'the client assertion has expired'],
      ['no exp', () => sign(keys.ES256, { claims: { exp: undefined } }), 'the client assertion must have a numeric exp'],
      ['exp too far ahead', () => sign(keys.ES256, { claims: { exp: now() + 3600 } }), 'the client assertion exp is too far in the future (at most 300 seconds)'],
      ['nbf in the future', () => sign(keys.ES256, { claims: { nbf: now() + 120 } }), 'the client assertion is not valid yet (nbf)'],
      ['iat in the future', () => sign(keys.ES256, { claims: { iat: now() + 120 } }), 'the client assertion iat is in the future'],
      ['no jti', () => sign(keys.ES256, { claims: { jti: undefined } }), 'the client assertion must have a jti'],
      ['a numeric jti', () => sign(keys.ES256, { claims: { jti: 5 } }), 'the client assertion jti must be a string of 1 to 256 characters'],
      ['an unregistered key', () => sign(stranger), 'no registered key of the client matches the client assertion (kid, alg)'],
      ['a forged signature under a registered kid', () => sign({ ...stranger, kid: keys.ES256.kid }), 'the client assertion signature is not valid'],
      ['an HMAC alg for private_key_jwt', () => sign({ alg: 'HS256', secret: 'x'.repeat(32) }), 'the client assertion alg must be one of RS256, PS256, ES256, EdDSA for this client'],
      [
        'alg none',
        async () => {
          const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
          return `${part({ alg: 'none' })}.${part({ iss: pkj, sub: pkj, aud: TEST_ISSUER, exp: now() + 60, jti: 'n' })}.`;
        },
        'the client assertion alg must be one of RS256, PS256, ES256, EdDSA for this client',
      ],
      ['another kind of token (typ dpop+jwt)', () => sign(keys.ES256, { header: { typ: 'dpop+jwt' } }), 'the client assertion typ must be JWT or client-authentication+jwt'],
      ['an alg other than the pinned one', () => sign(keys.PS256, { clientId: pinned }), 'the client assertion alg must be one of ES256 for this client'],
      ['an unknown client', () => sign(keys.ES256, { clientId: 'nobody' }), 'client authentication failed'],
      ['a client registered for client_secret_basic', () => sign(keys.ES256, { clientId: basicClient.clientId }), 'the client is registered for client_secret_basic, not for a client assertion'],
      [
        'client_secret_jwt signed with another secret',
        () => signAssertion({ alg: 'HS256', secret: 'not-the-secret-0123456789abcdef' }, { clientId: csj.clientId, audience: TEST_ISSUER }),
        'the client assertion signature is not valid',
      ],
      [
        'client_secret_jwt with an asymmetric alg',
        () => signAssertion(keys.ES256, { clientId: csj.clientId, audience: TEST_ISSUER }),
        'the client assertion alg must be one of HS256, HS384, HS512 for this client',
      ],
      ['not a JWT', async () => 'not-a-jwt', 'the client assertion is not a JWT naming the client in iss'],
    ];
    it.each(cases)('%s', async (_name, assertion, description) => {
      expectError(await send('/oauth/token', withAssertion(await assertion())), 401, 'invalid_client', description);
    });

    it('a replayed assertion, and audits it', async () => {
      const assertion = await sign(keys.ES256);
      expect((await send('/oauth/token', withAssertion(assertion))).statusCode).toBe(200);
      expectError(await send('/oauth/token', withAssertion(assertion)), 401, 'invalid_client', 'the client assertion was already used (jti)');
      // A jti is the client's own: the same jti from another client is not a replay.
      const jti = 'shared-jti-value';
      expect((await send('/oauth/token', withAssertion(await sign(keys.ES256, { claims: { jti } })))).statusCode).toBe(200);
      const other = await signAssertion({ alg: 'HS256', secret: csj.secret }, { clientId: csj.clientId, audience: TEST_ISSUER, claims: { jti } });
      expect((await send('/oauth/token', withAssertion(other))).statusCode).toBe(200);
      const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'client.assertion_replayed');
      expect(line).toMatchObject({ event: 'client.assertion_replayed', client_id: pkj });
    });

    it('a private_key_jwt client trying a secret', async () => {
      const res = await send('/oauth/token', CC, { ...FORM, authorization: basicAuth(pkj, 'guess') });
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'this client authenticates with private_key_jwt' });
      expect(res.statusCode).toBe(401);
      const post = await send('/oauth/token', { ...CC, client_id: csj.clientId, client_secret: csj.secret });
      expectError(post, 401, 'invalid_client', 'this client authenticates with client_secret_jwt');
    });
  });

  describe('refused with invalid_request (400): the form of the request', () => {
    it.each([
      ['Basic and an assertion', async () => send('/oauth/token', withAssertion(await sign(keys.ES256)), { ...FORM, authorization: basicAuth(pkj, 'x') }), 'client authentication must use only one method'],
      ['client_secret and an assertion', async () => send('/oauth/token', withAssertion(await sign(keys.ES256), { client_secret: 'x' })), 'client authentication must use only one method'],
      ['an assertion without its type', async () => send('/oauth/token', { ...CC, client_assertion: await sign(keys.ES256) }), 'client_assertion_type is required with client_assertion'],
      ['a type without an assertion', async () => send('/oauth/token', { ...CC, client_assertion_type: JWT_BEARER }), 'client_assertion is required with client_assertion_type'],
      [
        'an unknown assertion type',
        async () => send('/oauth/token', { ...CC, client_assertion_type: 'urn:example:saml', client_assertion: await sign(keys.ES256) }),
        'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      ],
      ['a client_id of another client', async () => send('/oauth/token', withAssertion(await sign(keys.ES256), { client_id: csj.clientId })), 'client_id does not match the client assertion'],
    ])('%s', async (_name, req, description) => {
      expectError(await req(), 400, 'invalid_request', description);
    });
  });

  it('counts failed assertions in the brute-force throttle of the client it names', async () => {
    const app = await createTestApp({ ...ADMIN_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '3' });
    try {
      const admin = adminCall(app.app, await adminToken(app.app));
      const created = await admin('POST', '/admin/clients', { client_name: 'Locked', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.ES256.publicJwk] } });
      const clientId = (created.json() as { client_id: string }).client_id;
      const attempt = async (key: ClientSigningKey) =>
        app.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: form(withAssertion(await signAssertion(key, { clientId, audience: TEST_ISSUER }), { scope: '' })) });
      for (let i = 0; i < 3; i++) expect((await attempt(stranger)).statusCode).toBe(401);
      const locked = await attempt(keys.ES256);
      expect(locked.statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('jwks_uri served by a real HTTP receiver: a rotated key is picked up on its unknown kid', async () => {
    const k1 = await clientSigningKey('ES256', 'rot-1');
    const k2 = await clientSigningKey('ES256', 'rot-2');
    const jwksUri = jwksServer.serve('/rotating-jwks.json', { body: { keys: [k1.publicJwk] } });
    const clientId = (await create({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri })).client_id;
    const signed = (key: ClientSigningKey) => signAssertion(key, { clientId, audience: TEST_ISSUER });
    expect((await send('/oauth/token', withAssertion(await signed(k1)))).statusCode).toBe(200);
    expect((await send('/oauth/token', withAssertion(await signed(k1)))).statusCode).toBe(200);
    expect(jwksServer.count('/rotating-jwks.json')).toBe(1);

    jwksServer.serve('/rotating-jwks.json', { body: { keys: [k2.publicJwk] } });
    expect((await send('/oauth/token', withAssertion(await signed(k2)))).statusCode).toBe(200);
    expect(jwksServer.count('/rotating-jwks.json')).toBe(2);

    // A storm of unknown kids within the interval fetches nothing more.
    const strangers = await Promise.all(Array.from({ length: 10 }, (_, i) => clientSigningKey('ES256', `storm-${i}`)));
    const results = await Promise.all(strangers.map(async (k) => send('/oauth/token', withAssertion(await signed(k)))));
    for (const res of results) expectError(res, 401, 'invalid_client', 'no registered key of the client matches the client assertion (kid, alg)');
    expect(jwksServer.count('/rotating-jwks.json')).toBe(2);
  });

  it('jwks_uri that fails: invalid_client naming why, never a 5xx', async () => {
    const jwksUri = jwksServer.serve('/broken-jwks.json', { status: 500, body: { error: 'down' } });
    const clientId = (await create({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri })).client_id;
    const res = await send('/oauth/token', withAssertion(await signAssertion(keys.ES256, { clientId, audience: TEST_ISSUER })));
    expectError(res, 401, 'invalid_client', 'The client jwks_uri did not answer 200.');
  });
});
