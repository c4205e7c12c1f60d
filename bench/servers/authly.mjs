// Authly under test: `node dist/main.js` on a fresh PostgreSQL database of its own, in production mode,
// seeded through the admin API (the way an operator would), with the bench's clients and user.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { basicAuth } from '../lib/browser.mjs';
import { freePort, startChild } from './child.mjs';

/** A fresh database on BENCH_DATABASE_URL's server, dropped by `drop()`. */
export async function createBenchDatabase(serverUrl) {
  const name = `authly_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function json(res, expected) {
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${res.url}: expected ${expected}, got ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function startAuthly({ root, databaseUrl, options, fixtures, workDir, workers = 1 }) {
  if (options.externalAuthly) {
    // An Authly the caller runs (the smoke test: in-process, built from src/ by vitest).
    const { issuer, adminSecret } = options.externalAuthly;
    const { insertResource } = options.externalAuthly;
    return { name: 'authly', issuer, child: { pid: process.pid, stop: async () => {} }, adminSecret, seed: () => seedAuthly(issuer, adminSecret, fixtures, insertResource) };
  }
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const adminSecret = randomBytes(32).toString('base64url');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENVIRONMENT: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DEFAULT_ISSUER_URL: issuer,
    DATABASE_URL: databaseUrl,
    AUTHLY_DATA_DIR: path.join(workDir, 'authly-data'),
    JWT_SECRET_KEY: randomBytes(32).toString('base64url'),
    // Production requires private signing keys encrypted at rest.
    AUTHLY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    JWT_ALGORITHM: options.alg,
    ACCESS_TOKEN_FORMAT: options.format ?? 'opaque',
    LOG_LEVEL: options.logLevel,
    // The peer has no rate limiter; brute-force lockout (AUTHLY_LOCKOUT_*) stays on. The login scenario
    // signs one account in from one address over 32 connections at once, and a sign-in counts as a
    // failure until its password is verified (parallel guesses cannot pass the limit), so the allowance
    // per account and address must exceed the concurrency.
    RATE_LIMIT_ENABLED: 'false',
    AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    AUTHLY_ADMIN_CLIENT_ID: 'bench-admin',
    AUTHLY_ADMIN_CLIENT_SECRET: adminSecret,
    CLEANUP_INTERVAL_MINUTES: '0',
    WORKERS: String(workers),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.uvThreadpoolSize ? { UV_THREADPOOL_SIZE: String(options.uvThreadpoolSize) } : {}),
    ...options.authlyEnv,
  };
  const args = [...options.nodeArgs, path.join(root, 'dist/main.js')];
  const child = startChild('authly', args, env, path.join(workDir, `authly-${port}.log`));
  try {
    await child.waitReady(`${issuer}/health/ready`);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name: 'authly', issuer, child, adminSecret, seed: () => seedAuthly(issuer, adminSecret, fixtures, (r) => insertResourceRow(databaseUrl, r)) };
}

/**
 * The bench's resource (RFC 8707), written as a row: the admin API for resources is built on another branch
 * of issue 11; once merged, seed it through /admin/resources like everything else.
 */
async function insertResourceRow(databaseUrl, { identifier, name, scopes }) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('INSERT INTO resources (identifier, name, scopes) VALUES ($1, $2, $3)', [identifier, name, scopes]);
  } finally {
    await c.end();
  }
}

/** Creates the bench's scope, clients, user and resource; returns the clients' secrets. */
async function seedAuthly(issuer, adminSecret, fixtures, insertResource) {
  const token = await json(
    await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basicAuth('bench-admin', adminSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=authly%3Aadmin',
    }),
    200,
  );
  const admin = (method, p, body) =>
    fetch(`${issuer}/admin${p}`, {
      method,
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await json(await admin('POST', '/scopes', { name: 'api:read', description: 'Bench API' }), 201);
  const cc = await json(
    await admin('POST', '/clients', {
      client_id: fixtures.clients.cc.id,
      client_name: 'Bench service',
      grant_types: ['client_credentials'],
      response_types: [],
      scope: 'api:read',
      token_endpoint_auth_method: 'client_secret_basic',
    }),
    201,
  );
  const userClients = {};
  for (const key of ['web', 'login']) {
    userClients[key] = await json(
      await admin('POST', '/clients', {
        client_id: fixtures.clients[key].id,
        client_name: `Bench ${key}`,
        redirect_uris: [fixtures.clients.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'openid profile email offline_access',
        token_endpoint_auth_method: 'client_secret_basic',
      }),
      201,
    );
  }
  const user = await json(
    await admin('POST', '/users', {
      username: fixtures.user.username,
      password: fixtures.user.password,
      email: fixtures.user.email,
      email_verified: true,
      name: fixtures.user.name,
    }),
    201,
  );
  if (insertResource) await insertResource({ identifier: fixtures.resource, name: 'Bench API', scopes: ['api:read'] });
  return {
    clients: {
      cc: { id: cc.client_id, secret: cc.client_secret },
      web: { id: userClients.web.client_id, secret: userClients.web.client_secret },
      login: { id: userClients.login.client_id, secret: userClients.login.client_secret },
      redirectUri: fixtures.clients.redirectUri,
    },
    userId: user.id,
  };
}
