import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, type TestClient } from '../../helpers/fixtures.js';
import { authorizeParams } from '../../helpers/oauth-flow.js';

/**
 * OAuth 2.1 section 2.3.1 / RFC 8252 section 7.3: a loopback redirect URI may differ from the registered one
 * only in its port. Every other character must match exactly, so spellings that a URL parser would
 * normalize to the registered URI (upper-case scheme, dot segments, other IPv4 notations) are refused.
 */
describe('loopback redirect URIs: only the port may vary', () => {
  let t: TestApp;
  let native: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    native = await createClient(t.app, { tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb'] });
  });
  afterAll(() => t.close());

  it.each(['HTTP://127.0.0.1:5000/cb', 'http://127.0.0.1:5000/a/../cb', 'http://127.0.0.1:5000/./cb', 'http://0x7f.0.0.1:5000/cb', 'http://127.1:5000/cb', 'http://127.0.0.1:05000/cb'])(
    'refuses the non-canonical spelling %s with the error page',
    async (uri) => {
      const res = await t.app.inject(`/oauth/authorize?${authorizeParams(native.clientId, { redirect_uri: uri })}`);
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('The redirect_uri is not registered for this application.');
    },
  );
});
