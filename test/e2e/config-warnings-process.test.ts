import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/e2e-server.js';
import { baseServerEnv, buildServer, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * The real process reads ./.env and names, once at start-up, each setting that changes nothing: a
 * misspelled variable in .env and a deployment-guide variable Authly does not read (issue 10 §5).
 */
describe('start-up warnings (a real server process)', () => {
  let build: ReturnType<typeof buildServer>;
  let server: ServerProcess;

  beforeAll(async () => {
    build = buildServer();
    writeFileSync(path.join(build.dir, '.env'), 'ACCES_TOKEN_EXPIRE_MINUTES=30\nPKCE_REQUIRED=true\n');
    server = spawnServer(build.main, { ...baseServerEnv(await freePort()), CACHE_TTL: '300', CLEANUP_INTERVAL_MINUTES: '0' });
    await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
  }, 120_000);

  afterAll(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    build.cleanup();
  });

  it('logs one warning per ignored variable, naming it and why', async () => {
    // The log is asynchronous: the lines may follow the banner.
    await server.waitForLine((l) => logFields(l)?.variable === 'ACCES_TOKEN_EXPIRE_MINUTES');
    await server.waitForLine((l) => logFields(l)?.variable === 'CACHE_TTL');
    const warnings = server.lines.map(logFields).filter((f) => f?.level === 40);
    expect(warnings.map((f) => f!.variable)).toEqual(['CACHE_TTL', 'ACCES_TOKEN_EXPIRE_MINUTES']);
    expect(warnings[1]!.msg).toBe('ACCES_TOKEN_EXPIRE_MINUTES (set in .env) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?');
  });
});
