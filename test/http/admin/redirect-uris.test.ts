import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_CLIENT_ID } from '../../../src/services/account/account-client.js';
import { authorizeUrl, isInteractionRedirect } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP, tokenFor } from './admin-helpers.js';

const FIRST = 'https://app.example.com/cb';
const SECOND = 'https://app.example.com/other';

type WireClient = Record<string, unknown> & { client_id: string; redirect_uris: string[] };

/** Issue 14 §4: POST/DELETE /admin/clients/{client_id}/redirect-uris, one redirect URI at a time. */
describe('admin API: redirect URIs one at a time', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  const newClient = async (body: Record<string, unknown> = {}) =>
    (await call('POST', '/admin/clients', { client_name: 'Redirects', redirect_uris: [FIRST], ...body })).json() as WireClient;
  const uris = (clientId: string) => `/admin/clients/${encodeURIComponent(clientId)}/redirect-uris`;
  const removeUrl = (clientId: string, uri: string) => `${uris(clientId)}?${new URLSearchParams({ redirect_uri: uri })}`;
  const audit = (event: string) => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);

  it('adds a redirect URI and answers with the client, as GET does; adding it again changes nothing', async () => {
    const client = await newClient();
    const updatedBefore = audit('admin.client.updated').length;

    const added = await call('POST', uris(client.client_id), { redirect_uri: SECOND });
    expect(added.statusCode).toBe(200);
    const { updated_at: _u, client_secret: _s, client_secret_expires_at: _e, ...unchanged } = client;
    expect(added.json()).toEqual({ ...unchanged, redirect_uris: [FIRST, SECOND], updated_at: expect.stringMatching(ISO_TIMESTAMP) });
    expect(added.json()).toEqual((await call('GET', `/admin/clients/${client.client_id}`)).json());

    const again = await call('POST', uris(client.client_id), { redirect_uri: SECOND });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(added.json());
    expect(audit('admin.client.updated').length).toBeGreaterThanOrEqual(updatedBefore + 1);
    expect(audit('admin.client.updated').at(-1)).toMatchObject({ event: 'admin.client.updated', actor_type: 'client' });
  });

  it('removes a redirect URI (200 with the client); one not registered is 404', async () => {
    const client = await newClient({ redirect_uris: [FIRST, SECOND] });
    const removed = await call('DELETE', removeUrl(client.client_id, FIRST));
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ client_id: client.client_id, redirect_uris: [SECOND] });

    const absent = await call('DELETE', removeUrl(client.client_id, FIRST));
    expect(absent.statusCode).toBe(404);
    expect(absent.json()).toEqual({ error: 'not_found', message: 'redirect URI not found' });
    // Exact string match (RFC 9700 section 2.1): a trailing slash is another URI.
    expect((await call('DELETE', removeUrl(client.client_id, `${SECOND}/`))).statusCode).toBe(404);
  });

  it('refuses to remove the last redirect URI of a code-flow client', async () => {
    const client = await newClient();
    const res = await call('DELETE', removeUrl(client.client_id, FIRST));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the client registration is not valid',
      fields: { redirect_uris: 'at least one redirect URI is required for authorization_code' },
    });
    expect((await call('GET', `/admin/clients/${client.client_id}`)).json()).toMatchObject({ redirect_uris: [FIRST] });
  });

  it('refuses a redirect URI for a client without the code grant, as an update would', async () => {
    const client = await newClient({ grant_types: ['client_credentials'], redirect_uris: [] });
    const res = await call('POST', uris(client.client_id), { redirect_uri: FIRST });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the client registration is not valid',
      fields: { redirect_uris: 'must be empty without the authorization_code grant' },
    });
  });

  it.each([
    ['https://app.example.com/cb#frag', 'must not contain a fragment (RFC 6749 section 3.1.2)'],
    ['http://app.example.com/cb', 'http is allowed only for loopback hosts (RFC 8252 section 7.3); use https'],
    ['javascript:alert(1)', 'must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)'],
    ['https://user:pw@app.example.com/cb', 'must not contain user credentials'],
    ['/relative/cb', 'must be an absolute URI'],
    ['https://app.example.com/a b', 'must be printable ASCII without spaces (percent-encode other characters)'],
  ])('refuses the redirect URI %s with 400', async (uri, reason) => {
    const client = await newClient();
    const res = await call('POST', uris(client.client_id), { redirect_uri: uri });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the redirect URI is not valid', fields: { redirect_uri: reason } });
  });

  it('accepts loopback and private-use redirect URIs (RFC 8252)', async () => {
    const client = await newClient({ token_endpoint_auth_method: 'none' });
    for (const uri of ['http://127.0.0.1:8765/cb', 'com.example.app:/oauth2redirect']) {
      expect((await call('POST', uris(client.client_id), { redirect_uri: uri })).statusCode).toBe(200);
    }
    expect((await call('GET', `/admin/clients/${client.client_id}`)).json()).toMatchObject({
      redirect_uris: [FIRST, 'http://127.0.0.1:8765/cb', 'com.example.app:/oauth2redirect'],
    });
  });

  it.each([
    ['no redirect_uri', {}, { redirect_uri: 'required' }],
    ['a number', { redirect_uri: 42 }, { redirect_uri: 'expected string, received number' }],
    ['an unknown field', { redirect_uri: FIRST, extra: 1 }, { extra: 'unknown field' }],
    ['an empty string', { redirect_uri: '' }, { redirect_uri: 'Too small: expected string to have >=1 characters' }],
    ['2025 characters', { redirect_uri: `https://app.example.com/${'a'.repeat(2000)}` }, { redirect_uri: 'Too big: expected string to have <=2000 characters' }],
  ] as const)('answers a POST body with %s with 400', async (_label, body, fields) => {
    const client = await newClient();
    const res = await call('POST', uris(client.client_id), body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message: 'the request body is not valid', fields });
  });

  it('answers DELETE without redirect_uri, or with an unknown parameter, with 400', async () => {
    const client = await newClient();
    const missing = await call('DELETE', uris(client.client_id));
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ error: 'validation_failed', message: 'the query parameters are not valid', fields: { redirect_uri: 'required' } });
    const extra = await call('DELETE', `${removeUrl(client.client_id, FIRST)}&x=1`);
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ fields: { x: 'unknown field' } });
  });

  it('answers 404 for an unknown client', async () => {
    for (const clientId of ['no-such-client', 'with space']) {
      const added = await call('POST', uris(clientId), { redirect_uri: FIRST });
      expect(added.statusCode, clientId).toBe(404);
      expect(added.json()).toEqual({ error: 'not_found', message: 'client not found' });
      const removed = await call('DELETE', removeUrl(clientId, FIRST));
      expect(removed.statusCode, clientId).toBe(404);
      expect(removed.json()).toEqual({ error: 'not_found', message: 'client not found' });
    }
  });

  it('refuses more than 50 redirect URIs', async () => {
    const full = Array.from({ length: 50 }, (_, i) => `https://app.example.com/cb/${i}`);
    const client = await newClient({ redirect_uris: full });
    const res = await call('POST', uris(client.client_id), { redirect_uri: SECOND });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: 'the client has as many redirect URIs as it may',
      fields: { redirect_uris: 'at most 50 redirect URIs' },
    });
    // Already registered: still idempotent at the limit.
    expect((await call('POST', uris(client.client_id), { redirect_uri: full[7] })).statusCode).toBe(200);
  });

  it('keeps every one of many concurrent additions (the list is changed under the row lock)', async () => {
    const client = await newClient();
    const added = Array.from({ length: 20 }, (_, i) => `https://app.example.com/parallel/${i}`);
    const results = await Promise.all(added.map((uri) => call('POST', uris(client.client_id), { redirect_uri: uri })));
    expect(results.map((r) => r.statusCode)).toEqual(added.map(() => 200));
    const stored = ((await call('GET', `/admin/clients/${client.client_id}`)).json() as WireClient).redirect_uris;
    expect([...stored].sort()).toEqual([FIRST, ...added].sort());
  });

  it('takes effect at the authorization endpoint at once (the cached client is dropped)', async () => {
    const client = await newClient({ token_endpoint_auth_method: 'none' });
    const refused = await t.app.inject({ method: 'GET', url: authorizeUrl(client.client_id, { redirect_uri: SECOND }) });
    expect(refused.statusCode).toBe(400);
    expect(isInteractionRedirect(await t.app.inject({ method: 'GET', url: authorizeUrl(client.client_id, { redirect_uri: FIRST }) }))).toBe(true);

    await call('POST', uris(client.client_id), { redirect_uri: SECOND });
    expect(isInteractionRedirect(await t.app.inject({ method: 'GET', url: authorizeUrl(client.client_id, { redirect_uri: SECOND }) }))).toBe(true);

    await call('DELETE', removeUrl(client.client_id, SECOND));
    expect((await t.app.inject({ method: 'GET', url: authorizeUrl(client.client_id, { redirect_uri: SECOND }) })).statusCode).toBe(400);
  });

  it('follows the update privilege rules: clients write scope, authly:admin for admin-capable and built-in clients', async () => {
    const scoped = async (scope: string) => {
      const created = (await call('POST', '/admin/clients', { client_name: scope, grant_types: ['client_credentials'], scope })).json() as {
        client_id: string;
        client_secret: string;
      };
      return adminCall(t.app, await tokenFor(t.app, created.client_id, created.client_secret, scope));
    };
    const reader = await scoped('admin:clients:read');
    const writer = await scoped('admin:clients:write');
    const plain = await newClient();
    const adminCapable = await newClient({ scope: 'openid admin:users:read' });

    for (const res of [
      await reader('POST', uris(plain.client_id), { redirect_uri: SECOND }),
      await reader('DELETE', removeUrl(plain.client_id, FIRST)),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'insufficient_scope' });
    }
    expect((await writer('POST', uris(plain.client_id), { redirect_uri: SECOND })).statusCode).toBe(200);
    expect((await writer('DELETE', removeUrl(plain.client_id, SECOND))).statusCode).toBe(200);

    for (const clientId of [adminCapable.client_id, ACCOUNT_CLIENT_ID]) {
      const res = await writer('POST', uris(clientId), { redirect_uri: 'https://attacker.example/cb' });
      expect(res.statusCode, clientId).toBe(403);
      expect(res.json()).toMatchObject({ error: 'insufficient_privilege' });
      expect(((await call('GET', `/admin/clients/${clientId}`)).json() as WireClient).redirect_uris).not.toContain('https://attacker.example/cb');
    }
    expect(audit('admin.privilege_denied').at(-1)).toMatchObject({ reason: 'builtin_client', subject: ACCOUNT_CLIENT_ID });
  });
});
