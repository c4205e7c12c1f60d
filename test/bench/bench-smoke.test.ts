import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.mjs';
import { markdownTable } from '../../bench/lib/report.mjs';
import { ARGON2_PARAMS } from '../../src/services/password-hasher.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { TEST_DATABASE_URL } from '../helpers/test-db.js';

/**
 * Keeps bench/ from rotting: the real harness (seeding through the admin API, codes minted through the
 * login and consent pages, autocannon with every body checked, the report) for one short scenario,
 * against an in-process Authly on PostgreSQL and the oidc-provider peer. The figures are not asserted,
 * only that the run is valid. PostgreSQL only (the benchmark's premise): skipped without TEST_DATABASE_URL.
 */
const ADMIN_SECRET = 'bench-smoke-admin-secret-0123456789';
const SERVER_ENV = {
  AUTHLY_ADMIN_CLIENT_ID: 'bench-admin',
  AUTHLY_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
  RATE_LIMIT_ENABLED: 'false',
  // As bench/servers/authly.mjs: one account signs in from one address over many connections at once.
  AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000',
  LOG_LEVEL: 'warn',
  JWT_ALGORITHM: 'ES256',
};

describe.skipIf(!TEST_DATABASE_URL)('bench harness smoke run', () => {
  let server: E2eServer;
  beforeAll(async () => {
    server = await startE2eServer(SERVER_ENV);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('measures client_credentials on both servers with every response verified', async () => {
    const result = await runBench({
      duration: 1,
      warmup: 0,
      connections: 4,
      rounds: 1,
      scenarios: ['client_credentials'],
      alg: 'ES256',
      servers: ['authly', 'peer'],
      logLevel: 'warn',
      workersScaling: [],
      codeRate: 10,
      nodeArgs: [],
      authlyEnv: {},
      measureCeiling: false,
      argon2Params: { memoryCost: ARGON2_PARAMS.memoryCost, timeCost: ARGON2_PARAMS.timeCost, parallelism: ARGON2_PARAMS.parallelism },
      externalAuthly: {
        issuer: server.issuer,
        adminSecret: ADMIN_SECRET,
        countAccessTokens: async () => {
          const { rows } = await server.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens');
          return rows[0]!.n;
        },
      },
    });
    const cc = result.scenarios.client_credentials!;
    for (const side of [cc.authly!, cc.peer!]) {
      expect(side.errors).toBe(0);
      expect(side.non2xx).toBe(0);
      expect(side.rps).toBeGreaterThan(0);
      expect(side.exhausted).toBe(false);
    }
    expect(cc.ratio).toBeCloseTo(cc.authly!.rps / cc.peer!.rps, 1);
    // Revoked tokens are refused by both servers, and every token Authly issued has its jti row.
    expect(result.correctness.authly).toMatch(/^PASS: revoke 200, userinfo after revocation 401, introspection active=false; \d+ access_tokens rows/);
    expect(result.correctness.peer).toBe('PASS: revoke 200, userinfo after revocation 401, introspection active=false');
    expect(markdownTable(result)).toMatch(/^\| client_credentials \| \d+ \| \d+ \| \d+\.\d\d× /m);
  }, 60_000);

  it('measures passkey_sign_in on Authly alone (the peer has no passkeys), every assertion verified', async () => {
    // A server of its own: the harness seeds the fixtures once per server.
    const own = await startE2eServer(SERVER_ENV);
    try {
      const result = await runBench({
        duration: 1,
        warmup: 0,
        connections: 4,
        rounds: 1,
        scenarios: ['passkey_sign_in'],
        alg: 'ES256',
        servers: ['authly'],
        logLevel: 'warn',
        workersScaling: [],
        codeRate: 200,
        nodeArgs: [],
        authlyEnv: {},
        measureCeiling: false,
        argon2Params: { memoryCost: ARGON2_PARAMS.memoryCost, timeCost: ARGON2_PARAMS.timeCost, parallelism: ARGON2_PARAMS.parallelism },
        externalAuthly: {
          issuer: own.issuer,
          adminSecret: ADMIN_SECRET,
          countAccessTokens: async () => {
            const { rows } = await own.testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens');
            return rows[0]!.n;
          },
        },
      });
      const passkey = result.scenarios.passkey_sign_in!;
      expect(passkey.note).toBe('Authly only: the peer (oidc-provider) has no passkeys');
      expect(passkey.peer).toBeUndefined();
      expect(passkey.authly!.errors).toBe(0);
      expect(passkey.authly!.rps).toBeGreaterThan(0);
      // A fast machine may use up the one-second pool: the table then says so next to the rate.
      expect(markdownTable(result)).toMatch(/^\| passkey_sign_in \| \d+( \(pool ran dry\))? \| — \| — \| /m);
    } finally {
      await own.close();
    }
  }, 60_000);
});
