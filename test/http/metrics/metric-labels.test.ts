import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { basicAuth, createClient, type TestClient } from '../../helpers/fixtures.js';
import { FORM } from '../../helpers/oauth-flow.js';

/** Every metric the issue, the dashboards and the alert rules rely on. */
const REQUIRED_METRICS = [
  'authly_http_requests_total',
  'authly_http_request_duration_seconds',
  'authly_oauth_token_requests_total',
  'authly_oauth_authorization_requests_total',
  'authly_auth_login_attempts_total',
  'authly_database_connections',
  'authly_cleanup_deleted_total',
  'authly_audit_events_total',
];

/** name → list of label sets of its samples, from the Prometheus text format. */
function samples(text: string, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length + 1, line.lastIndexOf('}'));
    out.push(Object.fromEntries([...labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!])));
  }
  return out;
}

const distinct = (rows: Record<string, string>[], label: string) => new Set(rows.map((r) => r[label]));

describe('metric labels stay bounded whatever clients send', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app, { grantTypes: ['client_credentials'] });
  });
  afterAll(() => t.close());

  it('every required metric is exported', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of REQUIRED_METRICS) expect(text).toContain(`# TYPE ${name} `);
    expect(samples(text, 'authly_database_connections').map((r) => r.state).sort()).toEqual(['active', 'idle', 'waiting']);
  });

  it('odd URLs, methods and grant types add no new label values', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...'abcXYZ09-_.%~:@!$&\'()*+,;=/'.split('')), minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth/token', '/admin/clients/', '/interaction/', '/.well-known/', '/', '/no-such/', '/oidc/userinfo/'),
        segment,
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        fc.string({ maxLength: 30 }),
        async (prefix, rest, method, grantType) => {
          const res = await t.app.inject({
            method,
            url: `${prefix}${rest}?grant_type=${encodeURIComponent(grantType)}`,
            headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
            payload: method === 'GET' || method === 'HEAD' ? undefined : new URLSearchParams({ grant_type: grantType }).toString(),
          });
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150, seed: 4242 },
    );
    // The token endpoint with grant types nobody registered.
    for (const grantType of ['password', 'implicit', 'urn:x:evil', '<script>', 'a'.repeat(200), 'client_credentials']) {
      await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...FORM, authorization: basicAuth(client.clientId, client.clientSecret!) },
        payload: new URLSearchParams({ grant_type: grantType }).toString(),
      });
    }

    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const http = samples(text, 'authly_http_requests_total');
    expect(http.length).toBeGreaterThan(3);
    // A route label is "unmatched" or the pattern of a route that exists (for that method).
    for (const { route, method } of http) {
      if (route !== 'unmatched') expect(t.app.hasRoute({ url: route!, method: method as 'GET' }), `${method} ${route}`).toBe(true);
    }
    for (const method of distinct(http, 'method')) expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other']).toContain(method);
    for (const status of distinct(http, 'status_code')) expect(status).toMatch(/^[1-5]\d\d$/);

    const token = samples(text, 'authly_oauth_token_requests_total');
    expect(distinct(token, 'grant_type')).toEqual(new Set(['invalid', 'client_credentials']));
    for (const status of distinct(token, 'status')) {
      expect(['success', 'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'rate_limited', 'temporarily_unavailable', 'server_error']).toContain(
        status,
      );
    }
    // Bounded in number, too: a raw URL label would have produced one series per fuzzed request.
    expect(distinct(http, 'route').size).toBeLessThan(25);
  });
});

describe('METRICS_ENABLED=false', () => {
  it('does not serve /metrics; the probes stay', async () => {
    const t = await createTestApp({ METRICS_ENABLED: 'false' });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
