import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Copy, DockerfileParser, Env, From, Healthcheck } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/config/routes.js';
import { freePort } from '../helpers/e2e-server.js';
import { hasTool } from '../helpers/tools.js';
import { createScratchDatabase, postgresAvailable, startProcess, stopProcess, waitForOk, type ScratchDatabase } from './docker-helpers.js';

/**
 * No Docker engine runs on these machines, so this test performs the Dockerfile's own steps: it reads the
 * instructions with dockerfile-ast and, stage by stage, copies what each COPY copies from the build
 * context (honouring .dockerignore) or from an earlier stage, runs each RUN in that stage's directory with
 * the stage's ENV, then starts the runtime stage's CMD — as an unprivileged user, with the whole image tree
 * read-only — against a real PostgreSQL and probes it with the HEALTHCHECK's own command. A wrong COPY,
 * a missing file, a dev dependency needed at run time or a write to disk fails here.
 *
 * Not covered (needs an engine): the base image itself (its Node major is covered by node-lts.test.ts),
 * layer caching, and `docker build` syntax beyond what the linter checks.
 */

const ROOT = process.cwd();
const dockerfile = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8'));

// ---- .dockerignore, with Docker's rules: patterns are Go filepath.Match globs (plus **) against the
// slash-separated path from the context root; a match on a parent directory excludes everything in it;
// later `!` lines re-include. ----
const ignoreRules = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((line) => {
    const negate = line.startsWith('!');
    const pattern = path.posix.normalize(line.replace(/^!/, '').replace(/^\/+/, ''));
    const source = pattern
      .split('**')
      .map((part) => part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
      .join('.*');
    return { negate, regex: new RegExp(`^${source}$`) };
  });

function ignored(relative: string): boolean {
  const parts = relative.split('/');
  let result = false;
  for (const rule of ignoreRules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.regex.test(parts.slice(0, n).join('/'))) {
        result = !rule.negate;
        break;
      }
    }
  }
  return result;
}

/** Copies a context path into dest the way COPY does (directory contents, minus ignored files). */
function copyFromContext(source: string, dest: string): number {
  const from = path.join(ROOT, source);
  if (ignored(source) || !existsSync(from)) throw new Error(`COPY ${source}: not in the build context (missing or in .dockerignore)`);
  let count = 0;
  const walk = (rel: string, to: string) => {
    const abs = path.join(ROOT, rel);
    if (ignored(rel)) return;
    if (statSync(abs).isDirectory()) {
      mkdirSync(to, { recursive: true });
      for (const name of readdirSync(abs)) walk(path.posix.join(rel, name), path.join(to, name));
    } else {
      cpSync(abs, to);
      count++;
    }
  };
  walk(source, dest);
  return count;
}

interface Stage {
  name: string;
  /** The stage's filesystem root on this machine; image paths map below it. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[] | undefined;
  healthcheck: string[] | undefined;
  ran: string[];
}

const work = mkdtempSync(path.join(tmpdir(), 'authly-docker-'));
const stages = new Map<string, Stage>();
let runtime: Stage;
let database: ScratchDatabase | undefined;
const skip = !hasTool('npm') || !(await postgresAvailable());

function hostPath(stage: Stage, imagePath: string): string {
  return path.join(stage.root, path.posix.resolve(stage.workdir, imagePath));
}

/** One RUN line, as `sh -c` would run it, in the stage's working directory with its ENV. */
function run(stage: Stage, command: string): void {
  for (const step of command.split('&&').map((s) => s.trim())) {
    // Image-filesystem chores outside the app directory are recorded, not applied to this machine.
    if (/^(mkdir -p|chown) /.test(step) && !step.includes(stage.workdir)) {
      stage.ran.push(`(image only) ${step}`);
      continue;
    }
    if (!/^npm (ci|run|cache) /.test(step)) throw new Error(`RUN step this test does not know how to perform: ${step}`);
    const result = spawnSync('sh', ['-c', step], {
      cwd: hostPath(stage, '.'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache, ...stage.env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`RUN ${step} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    stage.ran.push(step);
  }
}

function build(): void {
  let current: Stage | undefined;
  const args = new Map<string, string>();
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const text = instruction.getArgumentsContent() ?? '';
    if (keyword === 'ARG') {
      const [name, value] = text.split('=');
      if (value !== undefined) args.set(name!, value);
    } else if (instruction instanceof From) {
      const image = instruction.getImageName()!.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '');
      const parent = stages.get(image);
      const name = instruction.getBuildStage()!;
      const root = path.join(work, name);
      // FROM an earlier stage starts from its files; FROM the base image starts empty (Node is this machine's).
      // Hard links: a stage's copy of node_modules costs no time or space (nothing edits files in place).
      if (parent && spawnSync('cp', ['-al', parent.root, root]).status !== 0) throw new Error(`FROM ${image}: copy failed`);
      if (!parent) mkdirSync(root);
      current = { name, root, workdir: parent?.workdir ?? '/', env: { ...parent?.env }, user: undefined, cmd: undefined, healthcheck: undefined, ran: [] };
      stages.set(name, current);
    } else if (!current) {
      throw new Error(`${keyword} before FROM`);
    } else if (keyword === 'WORKDIR') {
      current.workdir = path.posix.resolve(current.workdir, text);
      mkdirSync(hostPath(current, '.'), { recursive: true });
    } else if (instruction instanceof Env) {
      for (const property of instruction.getProperties()) current.env[property.getName()] = property.getValue() ?? '';
    } else if (instruction instanceof Copy) {
      const parts = instruction.getArguments().map((a) => a.getValue());
      const dest = parts.pop()!;
      const fromFlag = instruction.getFromFlag()?.getValue();
      for (const source of parts) {
        const target = dest.endsWith('/') ? hostPath(current, path.posix.join(dest, path.posix.basename(source))) : hostPath(current, dest);
        if (fromFlag) {
          const from = stages.get(fromFlag);
          if (!from) throw new Error(`COPY --from=${fromFlag}: no such stage`);
          const abs = path.join(from.root, source);
          if (!existsSync(abs)) throw new Error(`COPY --from=${fromFlag} ${source}: not produced by that stage`);
          cpSync(abs, target, { recursive: true, verbatimSymlinks: true });
        } else {
          copyFromContext(source, target);
        }
      }
    } else if (keyword === 'RUN') {
      run(current, text);
    } else if (keyword === 'USER') {
      current.user = text;
    } else if (keyword === 'CMD') {
      current.cmd = JSON.parse(text) as string[];
    } else if (instruction instanceof Healthcheck) {
      // Exec form only: `CMD ["node", "-e", …]` (the flags are not part of the arguments).
      current.healthcheck = JSON.parse(text.replace(/^CMD\s+/, '')) as string[];
    } else if (!['LABEL', 'EXPOSE', 'STOPSIGNAL'].includes(keyword)) {
      throw new Error(`instruction this test does not know how to perform: ${keyword}`);
    }
  }
  runtime = current!;
}

describe.skipIf(skip)('the Dockerfile, performed step by step (no engine)', () => {
  beforeAll(() => {
    build();
  }, 600_000);

  afterAll(async () => {
    await database?.drop();
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it('builds: every stage ran its steps, the runtime has production dependencies only', () => {
    expect([...stages.keys()]).toEqual(['deps', 'build', 'runtime']);
    expect(stages.get('build')!.ran).toContain('npm run build');
    expect(runtime.ran.some((s) => /^npm ci .*--omit=dev/.test(s))).toBe(true);
    const app = hostPath(runtime, '.');
    expect(existsSync(path.join(app, 'dist/main.js'))).toBe(true);
    expect(existsSync(path.join(app, 'dist/cli/authly.js'))).toBe(true);
    expect(readdirSync(path.join(app, 'migrations')).some((f) => f.endsWith('.sql'))).toBe(true);
    // Runtime dependencies present, build and test tools absent.
    for (const dep of ['fastify', 'argon2', 'pg', 'jose']) expect(existsSync(path.join(app, 'node_modules', dep))).toBe(true);
    for (const dev of ['typescript', 'vitest', 'fast-check', 'dockerfile-utils']) {
      expect(existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    }
    // Nothing from .dockerignore slipped in through a COPY.
    expect(existsSync(path.join(stages.get('build')!.root, 'app/src'))).toBe(true);
    expect(existsSync(path.join(app, 'test'))).toBe(false);
    expect(existsSync(path.join(app, '.env'))).toBe(false);
  });

  it('runs as CMD, unprivileged, on a read-only tree, secrets from files, writing nothing; HEALTHCHECK passes; SIGTERM exits 0', async () => {
    database = await createScratchDatabase();
    const port = await freePort();
    // The whole image tree read-only, as with readOnlyRootFilesystem; AUTHLY_DATA_DIR (ENV /data) does not
    // exist on this machine and cannot be created by the unprivileged user: any write would fail.
    spawnSync('chmod', ['-R', 'a-w,a+rX', runtime.root]);
    chmodSync(work, 0o755);
    // Secrets as files, as Docker secrets and Kubernetes secret volumes give them (NAME_FILE).
    const secrets = path.join(work, 'run-secrets');
    mkdirSync(secrets);
    const secret = (name: string, value: string) => {
      writeFileSync(path.join(secrets, name), `${value}\n`, { mode: 0o444 });
      return path.join(secrets, name);
    };
    const env: NodeJS.ProcessEnv = {
      ...runtime.env,
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL_FILE: secret('database_url', database.url),
      JWT_SECRET_KEY_FILE: secret('jwt_secret_key', randomBytes(48).toString('base64')),
      AUTHLY_KEY_ENCRYPTION_KEY_FILE: secret('key_encryption_key', randomBytes(48).toString('base64')),
      DEFAULT_ISSUER_URL: `http://127.0.0.1:${port}`,
    };
    expect(env.ENVIRONMENT).toBe('production');
    // `setpriv` drops to nobody when the suite runs as root (CI); otherwise the user is unprivileged already.
    const asNobody = process.getuid?.() === 0 && hasTool('setpriv');
    const [command, ...args] = runtime.cmd!;
    const server = startProcess(
      asNobody ? 'setpriv' : command!,
      asNobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', '--', command!, ...args] : args,
      { cwd: hostPath(runtime, '.'), env },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForOk(server, base + ROUTES.healthReady);
      expect((await fetch(base + ROUTES.openidConfiguration)).status).toBe(200);
      expect(existsSync('/data')).toBe(false);

      // The HEALTHCHECK's own command, exactly as Docker would exec it inside the container.
      const [hcCommand, ...hcArgs] = runtime.healthcheck!;
      expect(spawnSync(hcCommand!, hcArgs, { env: { PATH: process.env.PATH, PORT: String(port) } }).status).toBe(0);
      // …and it fails when nothing listens (it can fail).
      const closed = await freePort();
      expect(spawnSync(hcCommand!, hcArgs, { env: { PATH: process.env.PATH, PORT: String(closed) } }).status).toBe(1);

      expect(await stopProcess(server)).toBe(0);
    } finally {
      await stopProcess(server);
    }
    expect(server.output()).not.toMatch(/EACCES|EROFS/);
  }, 120_000);
});
