import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM } from '../../helpers/oauth-flow.js';
import { metricValue } from '../../helpers/redis.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

const RATE_LIMITED = { error: 'rate_limited', error_description: 'too many requests; try again later' };

describe('general rate-limit policy (RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_SECONDS per address)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX_REQUESTS: '5', RATE_LIMIT_WINDOW_SECONDS: '60' });
  });
  afterAll(() => t.close());

  const discovery = (remoteAddress: string) => t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration', remoteAddress });

  it('counts down in RateLimit headers, then answers 429 with Retry-After and an OAuth-style body', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await discovery('192.0.2.10');
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(res.headers['ratelimit-remaining']).toBe(String(4 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    const refused = await discovery('192.0.2.10');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await metricValue(t.app, 'authly_rate_limit_exceeded_total', { policy: 'general' })).toBe(1);
  });

  it('counts each address on its own', async () => {
    expect((await discovery('192.0.2.11')).statusCode).toBe(200);
  });

  it('counts unknown paths too (a 404 flood is a flood)', async () => {
    for (let i = 0; i < 5; i++) expect((await t.app.inject({ method: 'GET', url: '/nope', remoteAddress: '192.0.2.12' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/nope', remoteAddress: '192.0.2.12' })).statusCode).toBe(429);
  });

  it('never limits probes and scrapers: /health, /health/ready and /metrics', async () => {
    for (let i = 0; i < 6; i++) await discovery('192.0.2.13');
    expect((await discovery('192.0.2.13')).statusCode).toBe(429);
    for (const url of ['/health', '/health/ready', '/metrics']) {
      for (let i = 0; i < 10; i++) {
        const res = await t.app.inject({ method: 'GET', url, remoteAddress: '192.0.2.13' });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['ratelimit-limit'], url).toBeUndefined();
      }
    }
  });
});

// Small limits so the test is quick; the defaults (login 100, token 6000, admin 600 per minute) work alike.
const NAMED_POLICIES = { login: { max: 7 }, token: { max: 9 }, admin: { max: 8 } } as const;

describe('named policies: RATE_LIMIT_LOGIN/TOKEN/ADMIN_PER_MINUTE', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_ENABLED: 'true',
      // Lower than the token policy: a request under a named policy does not count against the general one.
      RATE_LIMIT_MAX_REQUESTS: '3',
      RATE_LIMIT_LOGIN_PER_MINUTE: String(NAMED_POLICIES.login.max),
      RATE_LIMIT_TOKEN_PER_MINUTE: String(NAMED_POLICIES.token.max),
      RATE_LIMIT_ADMIN_PER_MINUTE: String(NAMED_POLICIES.admin.max),
    });
  });
  afterAll(() => t.close());

  async function exhaust(
    policy: 'token' | 'login' | 'admin',
    request: () => Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; json(): unknown }>,
  ) {
    const { max } = NAMED_POLICIES[policy];
    for (let i = 0; i < max; i++) {
      const res = await request();
      expect(res.statusCode).not.toBe(429);
      expect(res.headers['ratelimit-limit']).toBe(String(max));
    }
    const refused = await request();
    expect(refused.statusCode).toBe(429);
    if (policy === 'login') {
      // The sign-in form is a person's page: the 429 is a page with the wait in words (issue 12 §5).
      expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(refused.body).toMatch(/<p class="error" role="alert">This browser or network sent too many requests\. Try again in \d+ (second|minute)s?\.<\/p>/);
      expect(refused.body).toContain('Support reference: ');
    } else {
      expect(refused.json()).toEqual(RATE_LIMITED);
    }
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await metricValue(t.app, 'authly_rate_limit_exceeded_total', { policy })).toBe(1);
  }

  it(`token endpoint: ${NAMED_POLICIES.token.max} per minute per address; other endpoints stay open`, async () => {
    const remoteAddress = '198.51.100.1';
    // A request refused before client authentication, so the lockout (which counts failed client
    // authentications) is not what answers 429 here.
    await exhaust('token', () => t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: '', remoteAddress }));
    // Other endpoints count against the general policy (3 here), not the token policy.
    expect((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: '', remoteAddress: '198.51.100.2' })).statusCode).toBe(400);
  });

  it(`login form POST: ${NAMED_POLICIES.login.max} per minute per address, whatever the outcome`, async () => {
    const remoteAddress = '198.51.100.3';
    await exhaust('login', () =>
      t.app.inject({ method: 'POST', url: '/interaction/unknown-uid/login', headers: FORM, payload: 'username=a&password=b', remoteAddress }),
    );
    // The sign-in page itself (GET) is not the login policy's business.
    expect((await t.app.inject({ method: 'GET', url: '/interaction/unknown-uid', remoteAddress })).statusCode).not.toBe(429);
  });

  it(`admin API: ${NAMED_POLICIES.admin.max} per minute per address, counted before the token is checked`, async () => {
    await exhaust('admin', () => t.app.inject({ method: 'GET', url: '/admin/status', remoteAddress: '198.51.100.4' }));
  });
});

describe('a named policy set to 0 is off: its endpoint counts against the general policy', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REQUESTS_PER_MINUTE: '4', RATE_LIMIT_TOKEN_PER_MINUTE: '0' });
  });
  afterAll(() => t.close());

  it('RATE_LIMIT_REQUESTS_PER_MINUTE (the guides\' name) sets the general policy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: '', remoteAddress: '198.51.100.9' });
      statuses.push(res.statusCode);
      if (i === 0) expect(res.headers['ratelimit-limit']).toBe('4');
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
  });
});

describe('RATE_LIMIT_ENABLED=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MAX_REQUESTS: '1' });
  });
  afterAll(() => t.close());

  it('turns every policy off: no RateLimit headers, no 429', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: '' });
      expect(res.statusCode).toBe(400);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});
