import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';
import { authorizeUrl, ERROR_DESCRIPTION_CHARS, FORM } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * Fuzz properties for client_id URLs (client ID metadata documents): whatever URL-like client_id arrives,
 * the authorization endpoint answers with its error page (or, for the one valid document, the sign-in
 * page) and never redirects to an unverified URI, the token endpoint answers 400 or 401 with a safe
 * error_description, and nothing is a 5xx. Names resolve to a private address here (a resolver of the
 * test's own), and IP literals are special-use ones, so the fuzz never reaches the network.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const enc = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

describe('fuzz: client_id URLs', () => {
  let t: TestApp;
  let docs: MetadataDocumentServer;
  let valid: string;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
    valid = docs.document('/valid.json');
    t = await createTestApp(
      { CIMD_ALLOW_LOOPBACK: 'true', CIMD_FETCH_TIMEOUT_MS: '2000' },
      {
        resolve: async (hostname) => {
          return hostname === 'localhost' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.9.8.7', family: 4 }];
        },
      },
    );
  });
  afterAll(async () => {
    await t.close();
    await docs.close();
  });

  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
  const host = () =>
    fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
      fc.constantFrom(
        '10.0.0.1', '127.0.0.1', '127.1', '0x7f.0.0.1', '2130706433', '0.0.0.0', '169.254.169.254', '100.64.1.1', '192.168.0.1',
        '[::1]', '[::]', '[fe80::1]', '[fd00::1]', '[::ffff:127.0.0.1]', '[::ffff:a00:1]', '[64:ff9b::a00:1]', '[2001:db8::1]',
        'localhost', 'LOCALHOST', 'xn--nxasmq6b', 'ex\u00e4mple.com', 'a..b', '', '%31%30.0.0.1', 'user@10.0.0.1', 'user:pw@example.com',
        new URL(docs?.base ?? 'http://127.0.0.1:1').host,
      ),
    );
  const path = () =>
    fc.oneof(
      fc.constantFrom('', '/', '/valid.json', '/client.json', '/./client.json', '/a/../client.json', '/%2e%2e/x', '/x#frag', '/x?y=1', '//x'),
      fc.string({ maxLength: 30 }).map((s) => `/${enc(s)}`),
    );
  const scheme = fc.constantFrom('https://', 'http://', 'HTTPS://', 'https:/', 'https:///', 'https:\\\\', 'ftp://');
  const port = fc.oneof(fc.constant(''), fc.constantFrom(':443', ':0', ':65536', ':80', ':8443'));
  const clientId = () =>
    fc.oneof(
      fc.tuple(scheme, host(), port, path()).map(([s, h, p, rest]) => `${s}${h}${p}${rest}`),
      fc.constant(valid),
      fc.string({ maxLength: 40 }).map((s) => `https://${s}`),
    );

  it('GET /oauth/authorize: an error page or the sign-in page, never a redirect to the client, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(clientId(), async (id) => {
        const res = await t.app.inject({ method: 'GET', url: authorizeUrl(id, { redirect_uri: 'https://mcp-client.example.com/callback' }) });
        const what = `${id} → ${res.statusCode} ${String(res.headers.location ?? '')} ${res.body.slice(-300)}`;
        if (res.statusCode === 303) {
          expect(id, what).toBe(valid);
          expect(String(res.headers.location), what).toMatch(/^\/interaction\//);
        } else {
          expect(res.statusCode, what).toBe(400);
          expect(res.headers.location, what).toBeUndefined();
          expect(res.headers['content-type'], what).toBe('text/html; charset=utf-8');
        }
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it('POST /oauth/token: 400 or 401 with an OAuth error and a safe description, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(clientId(), fc.integer({ min: 0, max: 65535 }), async (id, n) => {
        const res = await t.app.inject({
          method: 'POST',
          // A fresh address each time: the brute-force throttle (429 after a few invalid_client) is tested elsewhere.
          remoteAddress: `198.18.${n >> 8}.${n & 255}`,
          url: '/oauth/token',
          headers: FORM,
          payload: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://mcp-client.example.com/callback', code_verifier: 'v'.repeat(43), client_id: id }).toString(),
        });
        const what = `${id} → ${res.statusCode} ${res.body}`;
        expect([400, 401], what).toContain(res.statusCode);
        const body = res.json() as { error: string; error_description: string };
        expect(['invalid_client', 'invalid_request', 'invalid_grant'], what).toContain(body.error);
        expect(body.error_description, what).toMatch(ERROR_DESCRIPTION_CHARS);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });
});
