import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.mjs';
import { ARGON2_PARAMS } from '../../src/services/password-hasher.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { TEST_DATABASE_URL } from '../helpers/test-db.js';

/**
 * The DPoP scenarios of the bench (issue 13 §1): client_credentials_dpop and refresh_token_dpop, a fresh
 * proof per request, every response checked for token_type DPoP, on both servers. Figures not asserted.
 */
const ADMIN_SECRET = 'bench-smoke-admin-secret-0123456789';
const SERVER_ENV = {
  AUTHLY_ADMIN_CLIENT_ID: 'bench-admin',
  AUTHLY_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
  RATE_LIMIT_ENABLED: 'false',
  AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000',
  LOG_LEVEL: 'warn',
  JWT_ALGORITHM: 'ES256',
};

describe.skipIf(!TEST_DATABASE_URL)('bench DPoP scenarios smoke run', () => {
  let server: E2eServer;
  beforeAll(async () => {
    server = await startE2eServer(SERVER_ENV);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('measures client_credentials_dpop and refresh_token_dpop on both servers with every response verified', async () => {
    const result = await runBench({
      duration: 1,
      warmup: 0,
      connections: 4,
      rounds: 1,
      scenarios: ['client_credentials_dpop', 'refresh_token_dpop'],
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
    for (const scenario of ['client_credentials_dpop', 'refresh_token_dpop']) {
      const entry = result.scenarios[scenario]!;
      for (const side of [entry.authly!, entry.peer!]) {
        expect(side.errors, scenario).toBe(0);
        expect(side.non2xx, scenario).toBe(0);
        expect(side.rps, scenario).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});
