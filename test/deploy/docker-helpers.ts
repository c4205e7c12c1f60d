import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { toolsRequired } from '../helpers/tools.js';

/**
 * Helpers for the deployment tests that start the built server as a real process (the image's steps, the
 * image's Node): a throw-away PostgreSQL database, and a child process whose output is kept for failures.
 */

/** TEST_DATABASE_URL's server; these tests run in the PostgreSQL pass only, like the backup test. */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? '';

/**
 * True when TEST_DATABASE_URL is set and answers. These tests do not depend on the test driver, so CI runs
 * them once, in its PostgreSQL pass, not again in the PGlite pass. An unreachable server throws in CI.
 */
export async function postgresAvailable(): Promise<boolean> {
  if (!ADMIN_URL) return false;
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (err) {
    if (toolsRequired) throw new Error(`PostgreSQL at ${new URL(ADMIN_URL).host} is required in CI: ${String(err)}`);
    return false;
  }
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A database of its own (the server migrates its public schema), so parallel test files never meet. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `authly_deploy_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export function startProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ServerProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { child, output: () => text, exited };
}

/**
 * Polls `url` until it answers 200. Polling is the event here: the process gives no other signal that
 * it listens. Fails at once if the process exits first.
 */
export async function waitForOk(server: ServerProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void server.exited.then((code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`server exited (${exited}) before ${url} answered:\n${server.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM, then the exit code; SIGKILL after `ms` so a hung server cannot hang the suite. */
export async function stopProcess(server: ServerProcess, ms = 30_000): Promise<number | string> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), ms);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}
