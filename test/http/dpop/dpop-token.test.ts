import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { currentDpopNonce } from '../../../src/services/dpop/dpop-nonce.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { dpopKey, dpopProof, type DpopTestKey } from '../../helpers/dpop.js';
import { createClient, createUser, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { exchangeCode, obtainCode, tokenRequest } from '../../helpers/oauth-flow.js';
import { createTestApp, TEST_ISSUER, type TestApp } from '../../helpers/test-app.js';
import { introspect, revoke } from '../../helpers/token-management.js';

const USERINFO = `${TEST_ISSUER}/oidc/userinfo`;
const ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];

/** RFC 9449 at the token endpoint, userinfo, introspection and revocation, through app.inject. */
describe('DPoP (RFC 9449)', () => {
  let t: TestApp;
  let user: User;
  let key: DpopTestKey;
  let otherKey: DpopTestKey;
  let service: TestClient;
  let confidential: TestClient;
  let spa: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    user = await createUser(t.app);
    key = await dpopKey('ES256');
    otherKey = await dpopKey('EdDSA');
    service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    confidential = await createClient(t.app);
    spa = await createClient(t.app, { tokenEndpointAuthMethod: 'none' });
  });
  afterAll(() => t.close());

  const withProof = async (k: DpopTestKey, options: Parameters<typeof dpopProof>[1] = {}) => ({ headers: { dpop: await dpopProof(k, options) } });

  async function codeTokens(client: TestClient, k: DpopTestKey | undefined, overrides: Record<string, string> = {}) {
    const code = await obtainCode(new InjectBrowser(t.app), client, user.username, { scope: 'openid email offline_access', ...overrides });
    const res = await tokenRequest(
      t.app,
      client,
      { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT_URI, code_verifier: code.verifier },
      k ? await withProof(k) : {},
    );
    return res;
  }

  const userinfoDpop = async (accessToken: string, k: DpopTestKey, options: Parameters<typeof dpopProof>[1] = {}) =>
    t.app.inject({
      method: 'GET',
      url: '/oidc/userinfo',
      headers: { authorization: `DPoP ${accessToken}`, dpop: await dpopProof(k, { htm: 'GET', htu: USERINFO, accessToken, ...options }) },
    });

  describe('token endpoint', () => {
    it('client_credentials with a proof: token_type DPoP, cnf.jkt in the JWT, introspection reports cnf', async () => {
      const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, await withProof(key));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.token_type).toBe('DPoP');
      expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
      expect(res.headers['dpop-nonce']).toBeUndefined();
      const info = await introspect(t.app, service, { token: body.access_token });
      expect(info.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
      // The audit line of the issue names the key (its thumbprint: a public value).
      const audit = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === 'token.issued');
      expect(audit.some((l) => l.dpop_jkt === key.jkt && l.token_type === 'DPoP' && l.client_id === service.clientId)).toBe(true);
    });

    it('discovery advertises dpop_signing_alg_values_supported', async () => {
      const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
      expect(discovery.dpop_signing_alg_values_supported).toEqual(ALGS);
    });

    it('without a proof the token stays Bearer (no cnf)', async () => {
      const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' });
      expect(res.json().token_type).toBe('Bearer');
      expect(decodeJwt(res.json().access_token).cnf).toBeUndefined();
      const info = await introspect(t.app, service, { token: res.json().access_token });
      expect(info.json().token_type).toBe('Bearer');
      expect(info.json().cnf).toBeUndefined();
    });

    it('an invalid proof: 400 invalid_dpop_proof, exact body', async () => {
      const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, await withProof(key, { htu: `${TEST_ISSUER}/oauth/revoke` }));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof htu does not match the request URL' });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('two DPoP headers: 400 invalid_dpop_proof', async () => {
      // light-my-request sends an array as repeated header lines, as a client would.
      const dpop = [await dpopProof(key), await dpopProof(key)] as unknown as string;
      const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, { headers: { dpop } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'exactly one DPoP header is allowed' });
    });

    it('a replayed proof is refused', async () => {
      const proof = await withProof(key);
      expect((await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, proof)).statusCode).toBe(200);
      const again = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, proof);
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used (jti replayed)' });
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^authly_dpop_proofs_total\{at="authorization_server",result="replayed"\} [1-9]/m);
      expect(metrics).toMatch(/^authly_dpop_proofs_total\{at="authorization_server",result="valid"\} [1-9]/m);
    });

    it('the client authenticates before the proof is looked at', async () => {
      const res = await tokenRequest(t.app, { clientId: service.clientId, clientSecret: 'wrong' }, { grant_type: 'client_credentials' }, { headers: { dpop: 'garbage' } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
    });

    it('dpop_bound_access_tokens: a token request without a proof is refused with invalid_request', async () => {
      const bound = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '', dpopBoundAccessTokens: true });
      const res = await tokenRequest(t.app, bound, { grant_type: 'client_credentials' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)',
      });
      const ok = await tokenRequest(t.app, bound, { grant_type: 'client_credentials' }, await withProof(key));
      expect(ok.json().token_type).toBe('DPoP');
    });
  });

  describe('code and refresh', () => {
    it('public client: access and refresh tokens bound; refresh with another key or none → invalid_grant; successors keep the binding', async () => {
      const res = await codeTokens(spa, key);
      expect(res.statusCode).toBe(200);
      const tokens = res.json();
      expect(tokens.token_type).toBe('DPoP');
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });

      const noProof = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      expect(noProof.statusCode).toBe(400);
      expect(noProof.json()).toEqual({ error: 'invalid_grant', error_description: 'a DPoP proof is required: the refresh token is bound to a DPoP key' });
      const wrongKey = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, await withProof(otherKey));
      expect(wrongKey.statusCode).toBe(400);
      expect(wrongKey.json()).toEqual({ error: 'invalid_grant', error_description: 'the DPoP proof key does not match the key the refresh token is bound to' });

      // The refusals above did not use the token up nor revoke the family: the right key still refreshes.
      const refreshed = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, await withProof(key));
      expect(refreshed.statusCode).toBe(200);
      expect(refreshed.json().token_type).toBe('DPoP');
      const successor = refreshed.json().refresh_token as string;
      const successorWrong = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: successor }, await withProof(otherKey));
      expect(successorWrong.json().error).toBe('invalid_grant');
      const successorRight = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: successor }, await withProof(key));
      expect(successorRight.statusCode).toBe(200);
    });

    it('confidential client: the refresh token is not bound; each refresh binds its access token to its own proof', async () => {
      const tokens = (await codeTokens(confidential, key)).json();
      expect(tokens.token_type).toBe('DPoP');
      const info = await introspect(t.app, confidential, { token: tokens.refresh_token });
      expect(info.json().cnf).toBeUndefined();
      const withOther = await tokenRequest(t.app, confidential, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, await withProof(otherKey));
      expect(withOther.statusCode).toBe(200);
      expect(decodeJwt(withOther.json().access_token).cnf).toEqual({ jkt: otherKey.jkt });
      const bearer = await tokenRequest(t.app, confidential, { grant_type: 'refresh_token', refresh_token: withOther.json().refresh_token });
      expect(bearer.json().token_type).toBe('Bearer');
    });

    it('dpop_jkt binds the code: another key → invalid_grant; the right key → DPoP tokens', async () => {
      const code = await obtainCode(new InjectBrowser(t.app), spa, user.username, { dpop_jkt: key.jkt });
      const wrong = await exchangeCode(t.app, spa, code, {});
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toEqual({ error: 'invalid_grant', error_description: 'a DPoP proof is required: the authorization request was bound with dpop_jkt' });

      const code2 = await obtainCode(new InjectBrowser(t.app), spa, user.username, { dpop_jkt: key.jkt });
      const other = await tokenRequest(
        t.app,
        spa,
        { grant_type: 'authorization_code', code: code2.code, redirect_uri: REDIRECT_URI, code_verifier: code2.verifier },
        await withProof(otherKey),
      );
      expect(other.json()).toEqual({ error: 'invalid_grant', error_description: 'the DPoP proof key does not match the dpop_jkt of the authorization request' });

      const code3 = await obtainCode(new InjectBrowser(t.app), spa, user.username, { dpop_jkt: key.jkt });
      const right = await tokenRequest(
        t.app,
        spa,
        { grant_type: 'authorization_code', code: code3.code, redirect_uri: REDIRECT_URI, code_verifier: code3.verifier },
        await withProof(key),
      );
      expect(right.statusCode).toBe(200);
      expect(right.json().token_type).toBe('DPoP');
    });

    it('a malformed dpop_jkt is refused at the authorization endpoint', async () => {
      const browser = new InjectBrowser(t.app);
      const res = await browser.get(`/oauth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: spa.clientId, redirect_uri: REDIRECT_URI, scope: 'openid', state: 's',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', dpop_jkt: 'short',
      })}`);
      const location = new URL(res.headers.location as string);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toBe('dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key');
    });
  });

  describe('userinfo (RFC 9449 section 7)', () => {
    let accessToken: string;
    beforeAll(async () => {
      accessToken = (await codeTokens(confidential, key)).json().access_token;
    });

    it('accepts the DPoP scheme with a proof carrying ath', async () => {
      const res = await userinfoDpop(accessToken, key);
      expect(res.statusCode).toBe(200);
      expect(res.json().sub).toBe(user.id);
    });

    it('refuses a DPoP-bound token presented as Bearer, with a DPoP challenge', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers: { authorization: `Bearer ${accessToken}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof' });
      expect(res.headers['www-authenticate']).toBe(
        `DPoP error="invalid_token", error_description="the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof", algs="${ALGS.join(' ')}"`,
      );
    });

    it('refuses a proof by another key', async () => {
      const res = await userinfoDpop(accessToken, otherKey);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'the DPoP proof is not signed by the key the access token is bound to' });
    });

    it('refuses a proof without ath: 401 invalid_dpop_proof with a DPoP challenge', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/oidc/userinfo',
        headers: { authorization: `DPoP ${accessToken}`, dpop: await dpopProof(key, { htm: 'GET', htu: USERINFO }) },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof must carry ath' });
      expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_dpop_proof", error_description="the DPoP proof must carry ath", algs="${ALGS.join(' ')}"`);
    });

    it('refuses the DPoP scheme without a proof', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers: { authorization: `DPoP ${accessToken}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'a DPoP proof is required' });
    });

    it('refuses a replayed proof', async () => {
      const proof = await dpopProof(key, { htm: 'GET', htu: USERINFO, accessToken });
      const headers = { authorization: `DPoP ${accessToken}`, dpop: proof };
      expect((await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers })).statusCode).toBe(200);
      const again = await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers });
      expect(again.statusCode).toBe(401);
      expect(again.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used (jti replayed)' });
    });

    it('refuses a Bearer token presented with the DPoP scheme; Bearer challenges stay Bearer', async () => {
      const bearer = (await codeTokens(confidential, undefined)).json().access_token as string;
      const res = await userinfoDpop(bearer, key);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'the access token is not DPoP-bound: present it with the Bearer scheme' });
      const ok = await t.app.inject({ method: 'GET', url: '/oidc/userinfo', headers: { authorization: `Bearer ${bearer}` } });
      expect(ok.statusCode).toBe(200);
      const none = await t.app.inject({ method: 'GET', url: '/oidc/userinfo' });
      expect(none.headers['www-authenticate']).toBe('Bearer realm="authly"');
    });

    it('the admin API refuses a DPoP-bound token as Bearer', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/clients', headers: { authorization: `Bearer ${accessToken}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
    });
  });

  describe('revocation and introspection with a proof', () => {
    it('a public client revokes its bound refresh token without a proof (RFC 7009), and not with a proof by another key', async () => {
      const first = (await codeTokens(spa, key)).json();
      const refused = await revoke(t.app, spa, { token: first.refresh_token }, { headers: { dpop: await dpopProof(otherKey, { htu: `${TEST_ISSUER}/oauth/revoke` }) } });
      expect(refused.statusCode).toBe(200);
      const stillLive = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, await withProof(key));
      expect(stillLive.statusCode).toBe(200);
      const revoked = await revoke(t.app, spa, { token: stillLive.json().refresh_token });
      expect(revoked.statusCode).toBe(200);
      const dead = await tokenRequest(t.app, spa, { grant_type: 'refresh_token', refresh_token: stillLive.json().refresh_token }, await withProof(key));
      expect(dead.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token has been revoked' });
    });

    it('a bad proof at revocation or introspection is refused, never ignored', async () => {
      const rev = await revoke(t.app, spa, { token: 'x' }, { headers: { dpop: await dpopProof(key) } });
      expect(rev.statusCode).toBe(400);
      expect(rev.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof htu does not match the request URL' });
      const intro = await introspect(t.app, confidential, { token: 'x' }, { headers: { dpop: 'nonsense' } });
      expect(intro.statusCode).toBe(400);
      expect(intro.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof is not a well-formed JWT' });
      const good = await introspect(t.app, confidential, { token: 'x' }, { headers: { dpop: await dpopProof(key, { htu: `${TEST_ISSUER}/oauth/introspect` }) } });
      expect(good.json()).toEqual({ active: false });
    });
  });
});

describe('DPoP with opaque access tokens and required nonces', () => {
  let t: TestApp;
  let key: DpopTestKey;
  let service: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ACCESS_TOKEN_FORMAT: 'opaque', DPOP_REQUIRE_NONCE: 'true' });
    key = await dpopKey('ES256');
    service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
  });
  afterAll(() => t.close());

  it('a proof without a nonce: 400 use_dpop_nonce with DPoP-Nonce; with it: 200, the nonce again, and the opaque token recorded bound', async () => {
    const first = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: await dpopProof(key) } });
    expect(first.statusCode).toBe(400);
    expect(first.json()).toEqual({ error: 'use_dpop_nonce', error_description: 'a DPoP nonce is required' });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toBe(currentDpopNonce(t.app.ctx));

    const second = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: await dpopProof(key, { nonce }) } });
    expect(second.statusCode).toBe(200);
    expect(second.headers['dpop-nonce']).toBe(nonce);
    expect(second.json().token_type).toBe('DPoP');
    const info = await introspect(t.app, service, { token: second.json().access_token });
    expect(info.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });

  it('a Bearer client is not asked for a nonce and gets no DPoP-Nonce header', async () => {
    const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['dpop-nonce']).toBeUndefined();
  });
});

describe('DPOP_ENABLED=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ DPOP_ENABLED: 'false' });
  });
  afterAll(() => t.close());

  it('ignores DPoP headers (Bearer tokens) and is absent from discovery', async () => {
    const service = await createClient(t.app, { grantTypes: ['client_credentials'], scope: '' });
    const res = await tokenRequest(t.app, service, { grant_type: 'client_credentials' }, { headers: { dpop: 'anything' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().token_type).toBe('Bearer');
    const discovery = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    expect(discovery.dpop_signing_alg_values_supported).toBeUndefined();
  });
});
