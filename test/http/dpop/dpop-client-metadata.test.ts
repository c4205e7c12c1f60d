import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/authly-cli.js';
import { dpopKey, dpopProof } from '../../helpers/dpop.js';
import { basicAuth } from '../../helpers/fixtures.js';
import { FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV } from '../admin/admin-helpers.js';

/** RFC 9449 section 5.2 `dpop_bound_access_tokens` through the admin API, the CLI and dynamic registration. */
describe('dpop_bound_access_tokens client metadata', () => {
  let t: TestApp;
  let admin: ReturnType<typeof adminCall>;

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, REGISTRATION_POLICY: 'open' });
    admin = adminCall(t.app, await adminToken(t.app));
  });
  afterAll(() => t.close());

  const clientCredentials = (clientId: string, secret: string, dpop?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basicAuth(clientId, secret), ...(dpop ? { dpop } : {}) },
      payload: 'grant_type=client_credentials',
    });

  it('admin API: created false by default, set to true by PATCH, then enforced at the token endpoint', async () => {
    const created = await admin('POST', '/admin/clients', { client_name: 'DPoP service', grant_types: ['client_credentials'], scope: '' });
    expect(created.statusCode).toBe(201);
    const { client_id: id, client_secret: secret, dpop_bound_access_tokens: initial } = created.json();
    expect(initial).toBe(false);
    expect((await clientCredentials(id, secret)).statusCode).toBe(200);

    const patched = await admin('PATCH', `/admin/clients/${id}`, { dpop_bound_access_tokens: true });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().dpop_bound_access_tokens).toBe(true);
    const refused = await clientCredentials(id, secret);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ error: 'invalid_request', error_description: 'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)' });
    const ok = await clientCredentials(id, secret, await dpopProof(await dpopKey()));
    expect(ok.json().token_type).toBe('DPoP');
  });

  it('admin API: a value that is not a boolean is a validation error', async () => {
    const res = await admin('POST', '/admin/clients', { client_name: 'x', dpop_bound_access_tokens: 'yes' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual({ dpop_bound_access_tokens: 'expected boolean, received string' });
  });

  it('dynamic registration: accepted and returned; a non-boolean is invalid_client_metadata', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', dpop_bound_access_tokens: true }),
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.dpop_bound_access_tokens).toBe(true);
    expect((await clientCredentials(body.client_id, body.client_secret)).json().error).toBe('invalid_request');

    const bad = await t.app.inject({
      method: 'POST',
      url: '/oauth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_types: ['client_credentials'], dpop_bound_access_tokens: 'true' }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_client_metadata');
  });

  it('CLI: authly admin client create/update --dpop-bound', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await run(
        ['admin', '--url', url, '--client-id', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, '--client-secret', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, '--json', ...argv],
        { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, stdin: Readable.from(['']), env: {} },
      );
      return { code, stdout, stderr };
    };
    const created = await cli('client', 'create', '--id', 'cli-dpop', '--name', 'CLI DPoP', '--grant-type', 'client_credentials', '--dpop-bound', 'true');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(created.stdout).dpop_bound_access_tokens).toBe(true);
    const updated = await cli('client', 'update', 'cli-dpop', '--dpop-bound', 'false');
    expect(JSON.parse(updated.stdout).dpop_bound_access_tokens).toBe(false);
  });
});
