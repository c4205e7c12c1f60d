import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { createTestDb, type TestDb } from '../../helpers/test-db.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';

/**
 * TRUST_PROXY decides whether X-Forwarded-For/-Proto/-Host are believed. The app is built with one extra
 * route, added here in the test only, that echoes what Fastify derived for the request.
 */
async function appWith(db: TestDb, env: Record<string, string>): Promise<FastifyInstance> {
  const config = loadConfig({
    DEFAULT_ISSUER_URL: TEST_ISSUER,
    LOG_LEVEL: 'silent',
    AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-test-')),
    JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    CLEANUP_INTERVAL_MINUTES: '0',
    ...env,
  });
  const app = await buildApp(config, { db: db.db });
  app.get('/test-echo', async (request) => ({ ip: request.ip, protocol: request.protocol, host: request.host, hostname: request.hostname }));
  await app.ready();
  return app;
}

const FORWARDED = {
  host: 'authly-7d9f:8000',
  'x-forwarded-for': '198.51.100.7, 203.0.113.9',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'auth.example.com',
};

describe('TRUST_PROXY', () => {
  let db: TestDb;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await db.drop();
  });
  const make = async (env: Record<string, string>) => {
    const app = await appWith(db, env);
    apps.push(app);
    return app;
  };
  const echo = async (app: FastifyInstance, remoteAddress: string) =>
    (await app.inject({ method: 'GET', url: '/test-echo', remoteAddress, headers: FORWARDED })).json() as Record<string, string>;

  it('false (default): X-Forwarded-* are ignored, the socket is the client', async () => {
    const app = await make({});
    expect(await echo(app, '10.0.0.5')).toEqual({ ip: '10.0.0.5', protocol: 'http', host: 'authly-7d9f:8000', hostname: 'authly-7d9f' });
  });

  it('a proxy address list: believed from that proxy only', async () => {
    const app = await make({ TRUST_PROXY: '10.0.0.0/8' });
    // From the trusted proxy: the last untrusted address in X-Forwarded-For is the client.
    expect(await echo(app, '10.0.0.5')).toEqual({ ip: '203.0.113.9', protocol: 'https', host: 'auth.example.com', hostname: 'auth.example.com' });
    // Straight from the internet: the same headers are a spoofing attempt and change nothing.
    expect(await echo(app, '192.0.2.1')).toEqual({ ip: '192.0.2.1', protocol: 'http', host: 'authly-7d9f:8000', hostname: 'authly-7d9f' });
  });

  it('a hop count trusts that many proxies in front', async () => {
    const one = await make({ TRUST_PROXY: '1' });
    expect((await echo(one, '10.0.0.5')).ip).toBe('203.0.113.9');
    const two = await make({ TRUST_PROXY: '2' });
    expect((await echo(two, '10.0.0.5')).ip).toBe('198.51.100.7');
  });

  it('true is one hop: the address the nearest proxy saw, never the leftmost entry the client wrote', async () => {
    const app = await make({ TRUST_PROXY: 'true' });
    // The client sent "X-Forwarded-For: 198.51.100.7"; the appending proxy added the real 203.0.113.9.
    expect(await echo(app, '192.0.2.1')).toMatchObject({ ip: '203.0.113.9', protocol: 'https', hostname: 'auth.example.com' });
    // So a per-address limit cannot be dodged by writing a fresh address into the header each time.
    const spoofed = await app.inject({ method: 'GET', url: '/test-echo', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4, 203.0.113.9' } });
    expect((spoofed.json() as { ip: string }).ip).toBe('203.0.113.9');
  });

  it('the issuer never comes from the request, trusted proxy or not', async () => {
    const app = await make({ TRUST_PROXY: 'true' });
    const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers: FORWARDED });
    const doc = res.json() as { issuer: string; token_endpoint: string };
    expect(doc.issuer).toBe(TEST_ISSUER);
    expect(doc.token_endpoint).toBe(`${TEST_ISSUER}/oauth/token`);
  });

  it('the login lockout counts the forwarded client address when the proxy is trusted', async () => {
    // Throttling keys on request.ip: behind a trusted proxy two clients are two addresses, not one proxy.
    const app = await make({ TRUST_PROXY: '10.0.0.0/8', AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1' });
    let n = 0;
    // A different (unknown) client each time, so only the per-IP count can lock.
    const attempt = (client: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '10.0.0.5',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`nobody-${++n}:wrong`).toString('base64')}`,
          'x-forwarded-for': client,
        },
        payload: 'grant_type=client_credentials',
      });
    // Client authentications per IP are allowed ten times the per-client limit; exhaust one address.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt('203.0.113.50')).statusCode);
    expect(statuses.at(-1)).toBe(429);
    // Another client behind the same proxy is not locked out by the first one's failures.
    expect((await attempt('203.0.113.51')).statusCode).toBe(401);
  });
});
