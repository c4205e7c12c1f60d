import { loadConfig } from '../../../src/config/config.js';
import { describe, expect, it } from 'vitest';
import { FallbackWindowCounter, LocalWindowCounter, RedisWindowCounter } from '../../../src/cache/rate-limit-counter.js';
import type { RedisConnection } from '../../../src/db/redis-connection.js';
import { namedPolicies, namedPolicyFor } from '../../../src/plugins/rate-limit.js';

describe('LocalWindowCounter', () => {
  it('counts within a window and starts over when it has passed', () => {
    const counter = new LocalWindowCounter();
    expect(counter.incrSync('k', 1000, 0)).toEqual({ current: 1, ttlMs: 1000 });
    expect(counter.incrSync('k', 1000, 400)).toEqual({ current: 2, ttlMs: 600 });
    expect(counter.incrSync('other', 1000, 400)).toEqual({ current: 1, ttlMs: 1000 });
    expect(counter.incrSync('k', 1000, 1000)).toEqual({ current: 1, ttlMs: 1000 });
  });

  it('stays bounded: expired windows are swept first, then the oldest key goes', () => {
    const counter = new LocalWindowCounter(2);
    counter.incrSync('a', 100, 0);
    counter.incrSync('b', 1000, 0);
    counter.incrSync('c', 1000, 200); // 'a' has expired and is swept
    expect(counter.size).toBe(2);
    expect(counter.incrSync('b', 1000, 200).current).toBe(2);
    counter.incrSync('d', 1000, 300); // nothing expired: the oldest ('b') goes
    expect(counter.size).toBe(2);
    expect(counter.incrSync('c', 1000, 300).current).toBe(2);
  });
});

describe('FallbackWindowCounter', () => {
  const failingRedis = { isUp: true, client: { eval: async () => Promise.reject(new Error('connection lost')) } } as unknown as RedisConnection;

  it('counts per process when Redis is down', async () => {
    const down = { isUp: false } as RedisConnection;
    const counter = new FallbackWindowCounter(new LocalWindowCounter(), new RedisWindowCounter(down, 'p:'), down);
    await counter.incr('k', 1000);
    expect((await counter.incr('k', 1000)).current).toBe(2);
  });

  it('counts per process when a Redis command fails mid-request', async () => {
    const counter = new FallbackWindowCounter(new LocalWindowCounter(), new RedisWindowCounter(failingRedis, 'p:'), failingRedis);
    await counter.incr('k', 1000);
    expect((await counter.incr('k', 1000)).current).toBe(2);
  });

  it('uses Redis while it answers', async () => {
    const calls: unknown[][] = [];
    const redis = { isUp: true, client: { eval: async (...args: unknown[]) => (calls.push(args), [7, 500]) } } as unknown as RedisConnection;
    const counter = new FallbackWindowCounter(new LocalWindowCounter(), new RedisWindowCounter(redis, 'p:'), redis);
    expect(await counter.incr('general:1.2.3.4', 60000)).toEqual({ current: 7, ttlMs: 500 });
    expect(calls[0]!.slice(1)).toEqual([1, 'p:rl:general:1.2.3.4', '60000']);
  });
});

describe('namedPolicyFor', () => {
  it.each([
    ['POST', '/oauth/token', 'token'],
    ['GET', '/oauth/token', undefined],
    ['POST', '/interaction/:uid/login', 'login'],
    ['POST', '/interaction/:uid/consent', undefined],
    // A passkey assertion is a sign-in attempt like a password.
    ['POST', '/interaction/:uid/passkey', 'login'],
    ['POST', '/interaction/:uid/passkey/options', undefined],
    ['GET', '/admin/status', 'admin'],
    ['DELETE', '/admin/clients/:client_id', 'admin'],
    ['GET', '/administrator', undefined],
    ['POST', '/oauth/introspect', undefined],
    ['POST', '/oauth/register', 'registration'],
    ['GET', '/oauth/register/:client_id', undefined],
    ['POST', '/forgot-password', 'login'],
    ['GET', '/forgot-password', undefined],
    ['POST', '/sign-up', 'login'],
    ['POST', '/verify-email/resend', 'login'],
    ['POST', '/reset-password', 'login'],
    ['GET', undefined, undefined],
  ] as const)('%s %s', (method, url, policy) => {
    expect(namedPolicyFor(method, url)).toBe(policy);
  });

  it('each named policy is settable per minute, and 0 turns it off', () => {
    const config = loadConfig({
      RATE_LIMIT_LOGIN_PER_MINUTE: '0',
      RATE_LIMIT_TOKEN_PER_MINUTE: '12',
      RATE_LIMIT_ADMIN_PER_MINUTE: '34',
      RATE_LIMIT_REGISTRATION_PER_MINUTE: '5',
    });
    expect(namedPolicies(config)).toEqual({
      token: { name: 'token', max: 12, windowSeconds: 60 },
      admin: { name: 'admin', max: 34, windowSeconds: 60 },
      registration: { name: 'registration', max: 5, windowSeconds: 60 },
    });
    expect(namedPolicies(loadConfig({ RATE_LIMIT_REGISTRATION_PER_MINUTE: '0' }))).not.toHaveProperty('registration');
  });

  it('defaults a normal deployment does not trip: one egress address may carry a cluster of services', () => {
    const defaults = namedPolicies(loadConfig({}));
    expect(defaults.token!.max).toBeGreaterThanOrEqual(3000);
    expect(defaults.login!.max).toBeGreaterThanOrEqual(60);
    expect(defaults.admin!.max).toBeGreaterThanOrEqual(300);
  });
});
