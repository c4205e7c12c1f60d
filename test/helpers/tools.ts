import { spawnSync } from 'node:child_process';

/**
 * External tools (nginx, promtool, shellcheck, docker-compose, redis-server, pg_dump…) and services that
 * some tests drive for real. A newcomer's `npm test` skips those tests when a tool is missing; `.ci/run`
 * installs them and sets AUTHLY_CI_REQUIRE_TOOLS=1, which turns a missing tool into a failure, so a green
 * CI run can never hide a test that did not run.
 */
export const toolsRequired = process.env.AUTHLY_CI_REQUIRE_TOOLS === '1';

const found = new Map<string, boolean>();

/** True when `command` can be run (it is on PATH, or an absolute path); false or throw otherwise. */
export function hasTool(command: string): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
    found.set(command, ok);
  }
  if (!ok && toolsRequired) throw new Error(`${command} is required in CI (AUTHLY_CI_REQUIRE_TOOLS=1) but missing`);
  return ok;
}

/** The Redis that integration tests use (TEST_REDIS_URL), or undefined to skip them. */
export function testRedisUrl(): string | undefined {
  const url = process.env.TEST_REDIS_URL;
  if (!url && toolsRequired) throw new Error('TEST_REDIS_URL is required in CI (AUTHLY_CI_REQUIRE_TOOLS=1)');
  return url || undefined;
}
