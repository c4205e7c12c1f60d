import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/authly-cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

/** Issue 13 §2: the per-client PAR and request object settings through `authly admin client`. */
describe('authly admin client: pushed authorization requests and request objects', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  async function adminJson(...argv: string[]): Promise<Record<string, unknown>> {
    let stdout = '';
    let stderr = '';
    const code = await run(
      ['admin', '--url', url, '--client-id', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, '--client-secret', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, '--json', ...argv],
      { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, stdin: Readable.from(['']), env: {} },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  it('sets --require-par, --request-object-alg and --require-signed-request; an empty alg returns to any', async () => {
    const created = await adminJson(
      'client', 'create', '--id', 'cli-par', '--name', 'PAR', '--redirect-uri', 'https://cli.example.com/cb',
      '--require-par', 'true', '--request-object-alg', 'ES256', '--require-signed-request', 'true',
    );
    expect(created).toMatchObject({ require_pushed_authorization_requests: true, request_object_signing_alg: 'ES256', require_signed_request_object: true });
    expect(await adminJson('client', 'update', 'cli-par', '--request-object-alg', '', '--require-par', 'false')).toMatchObject({
      require_pushed_authorization_requests: false,
      request_object_signing_alg: null,
    });
  });
});
