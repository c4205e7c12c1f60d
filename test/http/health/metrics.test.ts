import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, TEST_PASSWORD, type TestClient } from '../../helpers/fixtures.js';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import { authorizeUrl, exchangeCode, obtainCode, tokenRequest, type Tokens } from '../../helpers/oauth-flow.js';
import type { User } from '../../../src/repositories/users-repository.js';

/** Prometheus metrics: the documented series, route patterns as labels, no secrets in labels. */
describe('/metrics', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let metrics: string;
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
    const browser = new InjectBrowser(t.app);

    // A failed and a successful login on one interaction.
    const start = await browser.get(authorizeUrl(client.clientId, { scope: 'openid offline_access' }));
    const uid = (start.headers.location as string).split('/').pop()!;
    secrets.push(uid);
    const page = await browser.get(start.headers.location as string);
    await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: 'wrong' });
    await browser.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: TEST_PASSWORD });

    const code = await obtainCode(browser, client, user.username, { scope: 'openid offline_access' });
    const tokens = (await exchangeCode(t.app, client, code)).json() as Tokens;
    await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    await exchangeCode(t.app, client, code); // replay → invalid_grant
    await tokenRequest(t.app, client, { grant_type: 'password', username: 'x', password: 'y' });
    await t.app.inject('/no/such/path/secret-path-value');
    secrets.push(code.code, code.verifier, tokens.access_token, tokens.refresh_token!, client.clientSecret!, 'secret-path-value');

    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    metrics = res.body;
  });
  afterAll(() => t.close());

  it.each([
    'authly_http_requests_total',
    'authly_http_request_duration_seconds_bucket',
    'authly_oauth_token_requests_total',
    'authly_auth_login_attempts_total',
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_seconds',
  ])('exposes %s', (name) => {
    expect(metrics).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
  });

  it('counts token requests by grant_type and status', () => {
    expect(metrics).toMatch(/^authly_oauth_token_requests_total\{grant_type="authorization_code",status="success"\} 1$/m);
    expect(metrics).toMatch(/^authly_oauth_token_requests_total\{grant_type="authorization_code",status="invalid_grant"\} 1$/m);
    expect(metrics).toMatch(/^authly_oauth_token_requests_total\{grant_type="refresh_token",status="success"\} 1$/m);
    // An unknown grant_type never becomes a label value (unbounded cardinality).
    expect(metrics).not.toContain('grant_type="password"');
    expect(metrics).toMatch(/^authly_oauth_token_requests_total\{grant_type="invalid",status="unsupported_grant_type"\} 1$/m);
  });

  it('counts login attempts by status', () => {
    expect(metrics).toMatch(/^authly_auth_login_attempts_total\{status="failure"\} 1$/m);
    expect(metrics).toMatch(/^authly_auth_login_attempts_total\{status="success"\} 1$/m);
  });

  it('labels requests by route pattern, never by raw URL', () => {
    expect(metrics).toMatch(/authly_http_requests_total\{method="GET",route="\/interaction\/:uid",status_code="200"\} \d+/);
    expect(metrics).toMatch(/authly_http_requests_total\{method="POST",route="\/interaction\/:uid\/login",status_code="\d+"\} \d+/);
    expect(metrics).toMatch(/authly_http_requests_total\{method="GET",route="\/oauth\/authorize",status_code="303"\} \d+/);
    const routes = new Set([...metrics.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const route of routes) expect(route, route).not.toMatch(/\?/);
  });

  it('carries no interaction id, code, verifier, token, secret or unmatched path', () => {
    for (const secret of secrets) expect(metrics).not.toContain(secret);
  });
});
