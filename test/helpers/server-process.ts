import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { TEST_DATABASE_URL } from './test-db.js';

/**
 * The real server as a child process, for tests of what only a process shows (signals, exit codes,
 * node:cluster). The sources are compiled into a build of this test file's own (a temp directory laid out
 * like the repository: dist/ next to links to migrations/, node_modules/ and package.json), so test files
 * running in parallel never overwrite each other's build nor the developer's dist/.
 */
export function buildServer(): { dir: string; main: string; cleanup(): void } {
  const root = path.resolve('.');
  const dir = mkdtempSync(path.join(tmpdir(), 'authly-build-'));
  for (const name of ['migrations', 'node_modules', 'package.json', 'console']) symlinkSync(path.join(root, name), path.join(dir, name));
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0 && tsc.status !== 2) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  return { dir, main: path.join(dir, 'dist/main.js'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A database of its own on the test PostgreSQL server (dropped by the returned function), or undefined on PGlite. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const name = `authly_proc_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  /** stdout lines so far (JSON log lines and the banner). */
  lines: string[];
  /** Resolves with the first line (already seen or future) that matches. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code and signal once the process has ended and its output is read to the end. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * What every spawned test server needs: loopback on `port`, an issuer (its own URL unless given), a data
 * directory of its own, a server secret and no development bootstrap. Tests add what they are about.
 */
export function baseServerEnv(port: number, issuerPort = port): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    DEFAULT_ISSUER_URL: `http://127.0.0.1:${issuerPort}`,
    AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-process-')),
    JWT_SECRET_KEY: 'process-test-secret-key-at-least-32-characters',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
  };
}

export function spawnServer(main: string, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [main], {
    cwd: path.dirname(path.dirname(main)),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': it comes once stdout and stderr are read to the end, so a test that awaits the
  // exit sees every line the process wrote (pino writes asynchronously and may trail the exit event).
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitForLine(match, timeoutMs = 60_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)), timeoutMs);
        const waiter = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            reject(new Error(`the server exited before a matching line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
          }
        });
      });
    },
  };
}

/** A JSON log line's fields, or undefined for the banner and other text. */
export function logFields(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
