import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROUTES } from '../../src/config/routes.js';
import type { User } from '../../src/repositories/users-repository.js';
import { codeFlow } from '../e2e/openid-client-support.js';
import { FetchBrowser, freePort, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createClient, createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { NGINX_DIR, nginxTest, prepareNginxPrefix, startNginx, type NginxPrefix, type RunningNginx } from '../helpers/nginx.js';
import { tlsFetch } from '../helpers/tls-fetch.js';
import { hasTool } from '../helpers/tools.js';

const shipped = readFileSync(path.join(NGINX_DIR, 'nginx.conf'), 'utf8');

/** Every location of the shipped config, with the part of the path it matches. */
function locations(conf: string): string[] {
  return [...conf.matchAll(/^\s*location\s+(.+?)\s*\{/gm)].map((m) => m[1]!);
}

describe('nginx/nginx.conf (static)', () => {
  it('has a location only for paths Authly serves (from the route table)', () => {
    const served = Object.values(ROUTES);
    const samples: Record<string, string> = { ':uid': 'abc123' };
    const concrete = served.map((route) => route.replace(/:(\w+)/g, (m) => samples[m] ?? 'x'));
    const found = locations(shipped);
    expect(found).toEqual([
      '/.well-known/acme-challenge/',
      '/',
      '= /oauth/token',
      '= /oauth/authorize',
      '~ ^/interaction/[^/]+/login$',
      '~ ^/\\.well-known/(openid-configuration|oauth-authorization-server|jwks\\.json)$',
      '/admin',
      '= /metrics',
      '/',
      '@rate_limited',
      '= /_nginx/rate-limited',
    ]);
    for (const location of found) {
      // Named and internal locations are nginx's own (its 429 answers), not paths a client requests.
      if (location === '/' || location.startsWith('@') || location === '= /_nginx/rate-limited' || location.startsWith('/.well-known/acme-challenge')) continue;
      const [modifier, pattern] = location.includes(' ') ? location.split(/\s+/, 2) : ['', location];
      const matches = concrete.filter((p) =>
        modifier === '=' ? p === pattern : modifier === '~' ? new RegExp(pattern!).test(p) : p.startsWith(pattern!),
      );
      expect(matches, `location ${location} matches no route`).not.toEqual([]);
    }
    // The rate-limited and cached locations cover exactly the routes they are for.
    const regexOf = (needle: string) => new RegExp(found.find((l) => l.startsWith('~') && l.includes(needle))!.split(/\s+/, 2)[1]!);
    expect(concrete.filter((p) => regexOf('interaction').test(p))).toEqual(['/interaction/abc123/login']);
    expect(concrete.filter((p) => regexOf('well-known').test(p)).sort()).toEqual(
      [ROUTES.jwks, ROUTES.openidConfiguration, ROUTES.oauthAuthorizationServer].sort(),
    );
  });

  it('never logs query strings, Referer or Location, and restricts /admin and /metrics', () => {
    const logFormat = /log_format authly_json[^;]*;/s.exec(shipped)![0];
    for (const banned of ['$request_uri', '$request', '$args', '$query_string', '$http_referer', '$sent_http_location']) {
      expect(logFormat.includes(`${banned}"`) || logFormat.includes(`${banned},`) || logFormat.includes(`${banned}}`), banned).toBe(false);
    }
    expect(logFormat).toContain('"path":"$uri"');
    for (const block of ['location /admin {', 'location = /metrics {']) {
      const body = shipped.slice(shipped.indexOf(block), shipped.indexOf('}', shipped.indexOf(block)));
      expect(body).toMatch(/allow 10\.0\.0\.0\/8;[\s\S]*deny all;/);
      expect(body).not.toMatch(/allow all/);
    }
    expect(shipped).toContain('client_max_body_size 64k;');
  });
});

describe.skipIf(!hasTool('nginx') || !hasTool('openssl'))('nginx in front of a running Authly over TLS', () => {
  let server: E2eServer;
  let prefix: NginxPrefix;
  let nginx: RunningNginx;
  let issuer: string;
  let user: User;
  let httpPort: number;
  const seen: { url: URL; status: number; location: string | null; cookies: string[] }[] = [];
  let secureFetch: typeof fetch;

  beforeAll(async () => {
    const httpsPort = await freePort();
    httpPort = await freePort();
    issuer = `https://localhost:${httpsPort}`;
    server = await startE2eServer({ DEFAULT_ISSUER_URL: issuer, TRUST_PROXY: '127.0.0.1' });
    user = await createUser(server.app);
    const upstream = Number(new URL(server.issuer).port);
    prefix = prepareNginxPrefix({ http: httpPort, https: httpsPort, upstream });
    nginx = await startNginx(prefix, { http: httpPort, https: httpsPort });
    secureFetch = tlsFetch({
      ca: prefix.caPem,
      onResponse: (url, response) =>
        seen.push({ url, status: response.status, location: response.headers.get('location'), cookies: response.headers.getSetCookie() }),
    });
    // FetchBrowser and openid-client call the global fetch: this file's worker talks TLS with the test CA.
    vi.stubGlobal('fetch', secureFetch);
    // Generous: on a loaded machine the server start, certificates and the flow take a while.
  }, 180_000);
  afterAll(async () => {
    vi.unstubAllGlobals();
    await nginx?.stop();
    await server?.close();
    prefix?.remove();
  });

  it('passes nginx -t with the development certificates, and without the swap fails only on the upstream name', () => {
    const ok = nginxTest(prefix);
    expect(ok.output).toContain('syntax is ok');
    expect(ok.output).toContain('test is successful');
    expect(ok.status).toBe(0);

    const asShipped = prepareNginxPrefix({ http: 1, https: 2 });
    try {
      const result = nginxTest(asShipped);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/host not found in upstream "authly:8000"/);
      expect(result.output.match(/\[emerg\]/g)).toHaveLength(1);
    } finally {
      asShipped.remove();
    }
  });

  it('runs discovery, the code flow, token exchange and userinfo through nginx, all https with Secure cookies', async () => {
    const registered = await createClient(server.app);
    const config = await client.discovery(new URL(issuer), registered.clientId, undefined, client.ClientSecretBasic(registered.clientSecret!), {
      execute: [client.enableNonRepudiationChecks],
    });
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(issuer);
    for (const key of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint'] as const) {
      expect(metadata[key], key).toMatch(new RegExp(`^${issuer}/`));
    }

    const before = seen.length;
    const browser = new FetchBrowser(issuer);
    const { tokens, pages } = await codeFlow(config, browser, { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD });
    expect(pages).toEqual(['login', 'consent']);
    expect(tokens.claims()).toMatchObject({ iss: issuer, sub: user.id });
    const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info.preferred_username).toBe(user.username);

    const walk = seen.slice(before);
    const cookies = walk.flatMap((r) => r.cookies);
    expect(cookies.length).toBeGreaterThanOrEqual(2);
    for (const cookie of cookies) expect(cookie, cookie.split('=')[0]).toMatch(/;\s*Secure(;|$)/i);
    const locations = walk.map((r) => r.location).filter((l): l is string => l !== null);
    expect(locations.length).toBeGreaterThanOrEqual(3);
    for (const location of locations) {
      // Relative redirects resolve against the https page; absolute ones must be https themselves.
      expect(new URL(location, issuer).protocol, location).toBe('https:');
    }
    expect(locations.at(-1)).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
    // The authorization response names the https issuer (RFC 9207).
    expect(new URL(locations.at(-1)!).searchParams.get('iss')).toBe(issuer);
  });

  it('serves discovery and JWKS from its cache on the second request', async () => {
    for (const route of [ROUTES.openidConfiguration, ROUTES.jwks]) {
      const statuses: (string | null)[] = [];
      const bodies: string[] = [];
      for (let i = 0; i < 2; i++) {
        const response = await secureFetch(`${issuer}${route}?bust=${i}`);
        expect(response.status).toBe(200);
        statuses.push(response.headers.get('x-cache-status'));
        bodies.push(await response.text());
      }
      // A first request may already hit when an earlier test fetched it; the second always does.
      expect(statuses[1], route).toBe('HIT');
      expect(bodies[1]).toBe(bodies[0]);
    }
    const uncached = await secureFetch(`${issuer}${ROUTES.openidConfigurationAlias}`);
    expect(uncached.headers.get('x-cache-status')).toBeNull();
  });

  it('sets each security header once: HSTS from nginx, the page CSP from Authly', async () => {
    const health = await secureFetch(`${issuer}${ROUTES.health}`);
    expect(health.status).toBe(200);
    expect(health.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(health.headers.get('server')).toBe('nginx');

    const tooLarge = await secureFetch(`${issuer}${ROUTES.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}`,
    });
    expect(tooLarge.status).toBe(413);
    // nginx's own response gets the fall-back headers.
    expect(tooLarge.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
    expect(tooLarge.headers.get('x-content-type-options')).toBe('nosniff');
    expect(tooLarge.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('redirects plain HTTP to https', async () => {
    const response = await secureFetch(`http://127.0.0.1:${httpPort}/oauth/authorize?client_id=x`);
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('https://127.0.0.1/oauth/authorize?client_id=x');
  });

  it('answers /admin and /metrics only to allowed addresses (127.0.0.2 is not)', async () => {
    const outsider = tlsFetch({ ca: prefix.caPem, localAddress: '127.0.0.2' });
    for (const route of ['/admin/clients', ROUTES.metrics]) {
      const denied = await outsider(`${issuer}${route}`);
      expect(denied.status, route).toBe(403);
    }
    const metrics = await secureFetch(`${issuer}${ROUTES.metrics}`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('authly_http_requests_total');
    const admin = await secureFetch(`${issuer}/admin/clients`);
    expect(admin.status).toBe(401);
    // Other routes stay public for that address.
    expect((await outsider(`${issuer}${ROUTES.health}`)).status).toBe(200);
  });

  it('passes the request id through and keeps codes and tokens out of the access log', async () => {
    const tagged = await secureFetch(`${issuer}${ROUTES.health}`, { headers: { 'x-request-id': 'nginx-test-req-1' } });
    expect(tagged.headers.get('x-request-id')).toBe('nginx-test-req-1');
    const secret = 'eyJhbGciOiJSUzI1NiJ9.sensitive-hint-value.signature';
    await secureFetch(`${issuer}${ROUTES.endSession}?id_token_hint=${secret}&state=s3cret-state`);

    // nginx writes a log line once the response is sent; wait for both lines to arrive.
    await vi.waitFor(() => {
      expect(nginx.accessLog().some((l) => l.includes('nginx-test-req-1'))).toBe(true);
      expect(nginx.accessLog().some((l) => l.includes('"/oidc/logout"'))).toBe(true);
    });
    const entries = nginx.accessLog().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.find((e) => e.request_id === 'nginx-test-req-1')).toMatchObject({ method: 'GET', path: '/health', status: 200, tls: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(server.logs.some((l) => l.includes('"reqId":"nginx-test-req-1"'))).toBe(true);
    const log = nginx.accessLog().join('\n');
    expect(log).not.toContain('?');
    expect(log).not.toContain('sensitive-hint-value');
    expect(log).not.toContain('s3cret-state');
    expect(log).not.toMatch(/code=/);
    expect(entries.filter((e) => e.path === '/oauth/authorize').length).toBeGreaterThan(0);
  });

  it('tells Authly the client address (X-Forwarded-For overwritten, not appended: a forged one is dropped)', async () => {
    const other = tlsFetch({ ca: prefix.caPem, localAddress: '127.0.0.2' });
    const response = await other(`${issuer}${ROUTES.health}`, { headers: { 'x-request-id': 'nginx-xff-1', 'x-forwarded-for': '6.6.6.6' } });
    expect(response.status).toBe(200);
    await vi.waitFor(() => expect(server.logs.some((l) => l.includes('"reqId":"nginx-xff-1"') && l.includes('remoteAddress'))).toBe(true));
    const line = server.logs.find((l) => l.includes('"reqId":"nginx-xff-1"') && l.includes('remoteAddress'))!;
    // TRUST_PROXY=127.0.0.1 (nginx): Authly takes the address nginx saw.
    expect((JSON.parse(line) as { req: { remoteAddress: string } }).req.remoteAddress).toBe('127.0.0.2');
    expect(server.logs.join('\n')).not.toContain('6.6.6.6');
  });

  it.skipIf(!hasTool('curl'))('passes scripts/post_deployment_tests.sh over https (HSTS checked)', async () => {
    // Asynchronously: Authly runs in this process and must keep answering while the script runs.
    const ca = `${prefix.dir}/certs/ca.crt`;
    const script = path.join(NGINX_DIR, '../scripts/post_deployment_tests.sh');
    const { stdout } = await promisify(execFile)(script, ['--cacert', ca, '--metrics', 'open', issuer]);
    expect(stdout).toContain('PASS  Strict-Transport-Security: max-age=63072000; includeSubDomains');
    expect(stdout).toContain(`PASS  discovery issuer is ${issuer}`);
    expect(stdout).not.toContain('FAIL');
    expect(stdout.trim().split('\n').at(-1)).toBe('All checks passed');
  });

  it('limits the login POST per address with a JSON 429 in Authly\'s shape', async () => {
    // Its own source address, so the limit does not touch the other tests' client.
    const flooder = tlsFetch({ ca: prefix.caPem, localAddress: '127.0.0.3' });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 20; i++) {
      const response = await flooder(`${issuer}/interaction/unknown-uid/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=a&password=b',
      });
      statuses.push(response.status);
      if (response.status === 429 && !limited) limited = response;
    }
    // rate=30r/m with burst=10: the first requests reach Authly, the rest are refused by nginx (one
    // more slot frees every 2 s, so a slow machine may let one or two more through).
    expect(statuses.slice(0, 10)).not.toContain(429);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    expect(statuses.at(-1)).toBe(429);
    expect(limited!.headers.get('retry-after')).toBe('5');
    expect(limited!.headers.get('content-type')).toBe('application/json');
    expect(await limited!.json()).toEqual({ error: 'rate_limited', error_description: 'too many requests; try again later' });
  });

  it('answers a browser its 429 as a page in its language, with the request id as reference and a CSP that allows only its style', async () => {
    // Another source address of its own, so this flood limits nobody else.
    const browser = tlsFetch({ ca: prefix.caPem, localAddress: '127.0.0.4' });
    const post = (language: string, requestId: string) =>
      browser(`${issuer}/interaction/unknown-uid/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'accept-language': language, 'x-request-id': requestId },
        body: 'username=a&password=b',
      });
    let page: Response | undefined;
    for (let i = 0; i < 30 && !page; i++) {
      const response = await post('en-GB,en;q=0.8', `flood-${i}`);
      if (response.status === 429) page = response;
      else await response.arrayBuffer();
    }
    expect(page, 'nginx never limited the flood').toBeDefined();
    expect(page!.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page!.headers.get('retry-after')).toBe('5');
    const html = await page!.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<h1>Too many requests</h1>');
    expect(html).toMatch(/<code>flood-\d+<\/code>/);
    expect(html).not.toContain('__REQUEST_ID__');
    // The CSP names the hash of exactly the page's one <style>: an edited style without a new hash fails here.
    const style = /<style>([^<]*)<\/style>/.exec(html)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(page!.headers.get('content-security-policy')).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    );
    expect(page!.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');

    const german = await post('de-DE,de;q=0.9,en;q=0.5', 'flood-de');
    expect(german.status).toBe(429);
    const germanHtml = await german.text();
    expect(germanHtml).toContain('<html lang="de">');
    expect(germanHtml).toContain('<h1>Zu viele Anfragen</h1>');
    expect(germanHtml).toContain('<code>flood-de</code>');
    // Both language versions carry the same style, so one hash serves both.
    expect(/<style>([^<]*)<\/style>/.exec(germanHtml)![1]).toBe(style);
  });
});
