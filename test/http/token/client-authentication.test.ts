import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { ERROR_DESCRIPTION_CHARS, FORM } from '../../helpers/oauth-flow.js';
import { insertScope } from '../../../src/repositories/scopes-repository.js';

/** RFC 6749 sections 2.3, 3.2 and 5.2: client authentication and request validation at the token endpoint. */
describe('token endpoint: client authentication and request validation', () => {
  let t: TestApp;
  let confidential: TestClient;
  let postClient: TestClient;
  let publicClient: TestClient;
  let disabledClient: TestClient;
  let codeOnly: TestClient;

  beforeAll(async () => {
    // Many deliberate failures for one client: lockout has its own test (security/rate-limits).
    t = await createTestApp({ AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    await insertScope(t.app.ctx.db, { name: 'api:read', description: 'Read the API', isDefault: false });
    const cc = { grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], scope: 'openid api:read' };
    confidential = await createClient(t.app, cc);
    postClient = await createClient(t.app, { ...cc, tokenEndpointAuthMethod: 'client_secret_post' });
    publicClient = await createClient(t.app, { tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    disabledClient = await createClient(t.app, { ...cc, isActive: false });
    codeOnly = await createClient(t.app, { grantTypes: ['authorization_code'] });
  });
  afterAll(() => t.close());

  function send(payload: string, headers: Record<string, string> = FORM) {
    return t.app.inject({ method: 'POST', url: '/oauth/token', headers, payload });
  }
  const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
  const basic = (c: TestClient, secret = c.clientSecret!) => ({ ...FORM, authorization: basicAuth(c.clientId, secret) });
  const CC = { grant_type: 'client_credentials', scope: 'api:read' };

  function expectError(res: LightMyRequestResponse, status: number, error: string, description: string) {
    expect(res.statusCode).toBe(status);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error, error_description: description });
    expect(description).toMatch(ERROR_DESCRIPTION_CHARS);
  }

  describe('invalid_client (401)', () => {
    const cases: { name: string; req: () => Promise<LightMyRequestResponse>; description: string; basicChallenge: boolean }[] = [
      { name: 'no client authentication at all', req: () => send(form(CC)), description: 'client authentication is required', basicChallenge: false },
      { name: 'Basic with a wrong secret', req: () => send(form(CC), basic(confidential, 'wrong-secret')), description: 'client authentication failed', basicChallenge: true },
      { name: 'Basic with an empty secret', req: () => send(form(CC), basic(confidential, '')), description: 'client authentication failed', basicChallenge: true },
      { name: 'Basic for an unknown client', req: () => send(form(CC), { ...FORM, authorization: basicAuth('nobody', 'secret') }), description: 'client authentication failed', basicChallenge: true },
      { name: 'Basic for a disabled client', req: () => send(form(CC), basic(disabledClient)), description: 'client authentication failed', basicChallenge: true },
      { name: 'malformed Basic (no colon)', req: () => send(form(CC), { ...FORM, authorization: `Basic ${Buffer.from('abc').toString('base64')}` }), description: 'invalid HTTP Basic authorization header', basicChallenge: true },
      { name: 'malformed Basic (not base64)', req: () => send(form(CC), { ...FORM, authorization: 'Basic !!!' }), description: 'invalid HTTP Basic authorization header', basicChallenge: true },
      { name: 'malformed Basic (bad percent-encoding)', req: () => send(form(CC), { ...FORM, authorization: `Basic ${Buffer.from('%zz:%zz').toString('base64')}` }), description: 'invalid HTTP Basic authorization header', basicChallenge: true },
      { name: 'client_secret_post with a wrong secret', req: () => send(form({ ...CC, client_id: confidential.clientId, client_secret: 'wrong' })), description: 'client authentication failed', basicChallenge: false },
      { name: 'confidential client with client_id only', req: () => send(form({ ...CC, client_id: confidential.clientId })), description: 'client authentication failed', basicChallenge: false },
      { name: 'unknown client_id in the body', req: () => send(form({ ...CC, client_id: 'nobody', client_secret: 'x' })), description: 'client authentication failed', basicChallenge: false },
      { name: 'public client sending a secret in the body', req: () => send(form({ ...CC, client_id: publicClient.clientId, client_secret: 'anything' })), description: 'public clients do not authenticate with a secret', basicChallenge: false },
      { name: 'public client sending a secret with Basic', req: () => send(form(CC), { ...FORM, authorization: basicAuth(publicClient.clientId, 'anything') }), description: 'public clients do not authenticate with a secret', basicChallenge: true },
      { name: "another client's secret", req: () => send(form(CC), basic(confidential, postClient.clientSecret!)), description: 'client authentication failed', basicChallenge: true },
    ];

    it.each(cases)('$name', async ({ req, description, basicChallenge }) => {
      const res = await req();
      expectError(res, 401, 'invalid_client', description);
      if (basicChallenge) expect(res.headers['www-authenticate']).toBe('Basic realm="authly"');
      else expect(res.headers['www-authenticate']).toBeUndefined();
    });
  });

  describe('invalid_request (400)', () => {
    it('Basic and client_secret in the body at once', async () => {
      expectError(
        await send(form({ ...CC, client_secret: confidential.clientSecret! }), basic(confidential)),
        400,
        'invalid_request',
        'client authentication must use only one method',
      );
    });

    it('client_id in the body differs from the Basic client', async () => {
      expectError(await send(form({ ...CC, client_id: postClient.clientId }), basic(confidential)), 400, 'invalid_request', 'client_id does not match the authenticated client');
    });

    it('missing grant_type', async () => {
      expectError(await send(form({ scope: 'api:read' }), basic(confidential)), 400, 'invalid_request', 'grant_type is required');
    });

    it.each(['grant_type', 'scope', 'client_id', 'client_secret'])('repeated %s', async (name) => {
      const q = new URLSearchParams({ ...CC, client_id: postClient.clientId, client_secret: postClient.clientSecret! });
      q.append(name, q.get(name)!);
      expectError(await send(q.toString()), 400, 'invalid_request', `${name} must not be repeated`);
    });

    it.each([
      ['application/json', JSON.stringify(CC)],
      ['text/plain', form(CC)],
      ['application/json; charset=utf-8', '{"grant_type":"client_credentials"}'],
    ])('a %s body → invalid_request', async (type, payload) => {
      const res = await send(payload, { 'content-type': type, authorization: basicAuth(confidential.clientId, confidential.clientSecret!) });
      expectError(res, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    });

    it('no body and no content type → invalid_request', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: basicAuth(confidential.clientId, confidential.clientSecret!) } });
      expectError(res, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
    });

    it('a body without a content type → 4xx invalid_request, never 5xx', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basicAuth(confidential.clientId, confidential.clientSecret!) },
        payload: form(CC),
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error).toBe('invalid_request');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('malformed JSON → 400 invalid_request', async () => {
      const res = await send('{"grant_type":', { 'content-type': 'application/json' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_request');
    });
  });

  describe('grant type checks', () => {
    it.each(['password', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'token'])(
      'grant_type=%s → unsupported_grant_type',
      async (grantType) => {
        const res = await send(form({ grant_type: grantType, username: 'u', password: 'p' }), basic(confidential));
        expectError(res, 400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
      },
    );

    it('a grant the client is not registered for → unauthorized_client', async () => {
      expectError(await send(form(CC), basic(codeOnly)), 400, 'unauthorized_client', 'this client may not use the client_credentials grant');
      // RFC 8628's grant is supported (DEVICE_GRANT_ENABLED), so a client not registered for it is unauthorized.
      expectError(
        await send(form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x' }), basic(codeOnly)),
        400,
        'unauthorized_client',
        'this client may not use the urn:ietf:params:oauth:grant-type:device_code grant',
      );
      expectError(
        await send(form({ grant_type: 'refresh_token', refresh_token: 'x' }), basic(codeOnly)),
        400,
        'unauthorized_client',
        'this client may not use the refresh_token grant',
      );
    });
  });

  describe('successful authentication', () => {
    it.each([
      ['client_secret_basic', () => send(form(CC), basic(confidential))],
      ['client_secret_post', () => send(form({ ...CC, client_id: postClient.clientId, client_secret: postClient.clientSecret! }))],
      ['client_secret_post by a client registered for Basic', () => send(form({ ...CC, client_id: confidential.clientId, client_secret: confidential.clientSecret! }))],
      ['Basic with a matching client_id in the body', () => send(form({ ...CC, client_id: confidential.clientId }), basic(confidential))],
      ['Basic with a lower-case scheme', () => send(form(CC), { ...FORM, authorization: basicAuth(confidential.clientId, confidential.clientSecret!).replace('Basic', 'basic') })],
    ])('%s → 200 with no-store', async (_name, req) => {
      const res = await req();
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.json()).toMatchObject({ token_type: 'Bearer', scope: 'api:read', expires_in: 900 });
    });

    it('client ids and secrets with reserved characters are form-encoded in Basic (RFC 6749 section 2.3.1)', async () => {
      const odd = await createClient(t.app, { clientId: 'odd:client id+/%', grantTypes: ['client_credentials'], scope: 'api:read' });
      const res = await send(form(CC), { ...FORM, authorization: basicAuth(odd.clientId, odd.clientSecret!) });
      expect(res.statusCode).toBe(200);
    });
  });
});
