import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The shipped nginx configuration (nginx/) in a temporary prefix, changed only where nginx.conf says a
 * line is substituted for tests: conf.d/upstream.conf points at a local Authly, the listen ports are
 * free loopback ports, and the cache directory is inside the prefix. Certificates come from
 * scripts/setup-dev-certs.sh. Every substitution must match exactly as often as expected, so a change
 * to the shipped file that the test would silently skip fails instead.
 */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const NGINX_DIR = path.join(REPO_ROOT, 'nginx');

export interface NginxPrefix {
  dir: string;
  confPath: string;
  caPem: string;
  remove(): void;
}

export interface NginxPorts {
  http: number;
  https: number;
  /** Authly on 127.0.0.1; undefined keeps the shipped upstream (authly:8000). */
  upstream?: number;
}

function substitute(text: string, pattern: RegExp, replacement: string, expected: number, what: string): string {
  const count = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))?.length ?? 0;
  if (count !== expected) throw new Error(`nginx.conf: expected ${expected} ${what}, found ${count}`);
  return text.replace(new RegExp(pattern.source, 'gm'), replacement);
}

export function prepareNginxPrefix(ports: NginxPorts): NginxPrefix {
  const dir = mkdtempSync(path.join(tmpdir(), 'authly-nginx-'));
  // As root, nginx's workers run as an unprivileged user: they must reach the cache inside the prefix.
  chmodSync(dir, 0o755);
  // nginx creates the last level of its temp and cache paths, not their parent (/var/cache/nginx).
  mkdirSync(path.join(dir, 'cache'));
  cpSync(path.join(NGINX_DIR, 'nginx.conf'), path.join(dir, 'nginx.conf'));
  cpSync(path.join(NGINX_DIR, 'conf.d'), path.join(dir, 'conf.d'), { recursive: true });
  cpSync(path.join(NGINX_DIR, 'snippets'), path.join(dir, 'snippets'), { recursive: true });
  cpSync(path.join(NGINX_DIR, 'errors'), path.join(dir, 'errors'), { recursive: true });
  const certs = spawnSync(path.join(REPO_ROOT, 'scripts/setup-dev-certs.sh'), ['--out', path.join(dir, 'certs')], { encoding: 'utf8' });
  if (certs.status !== 0) throw new Error(`setup-dev-certs.sh failed: ${certs.stderr}`);

  let conf = readFileSync(path.join(dir, 'nginx.conf'), 'utf8');
  conf = substitute(conf, /^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${ports.http};`, 1, 'IPv4 http listen');
  conf = substitute(conf, /^(\s*)listen 443 ssl http2;$/m, `$1listen 127.0.0.1:${ports.https} ssl http2;`, 1, 'IPv4 https listen');
  // The loopback test does not use IPv6 (which a CI container may not even have).
  conf = substitute(conf, /^\s*listen \[::\]:(80|443)[^;]*;\n/m, '', 2, 'IPv6 listens');
  conf = substitute(conf, /\/var\/cache\/nginx\//m, `${dir}/cache/`, 3, 'cache paths');
  conf = substitute(conf, /^(\s*)root \/etc\/nginx\/errors;$/m, `$1root ${dir}/errors;`, 1, 'error pages directory');
  writeFileSync(path.join(dir, 'nginx.conf'), conf);

  if (ports.upstream !== undefined) {
    const upstreamPath = path.join(dir, 'conf.d/upstream.conf');
    const upstream = substitute(readFileSync(upstreamPath, 'utf8'), /server authly:8000 /m, `server 127.0.0.1:${ports.upstream} `, 1, 'upstream server');
    writeFileSync(upstreamPath, upstream);
  }
  return {
    dir,
    confPath: path.join(dir, 'nginx.conf'),
    caPem: readFileSync(path.join(dir, 'certs/ca.crt'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Arguments that keep nginx entirely inside the prefix (pid file, start-up error log). */
export function nginxArgs(prefix: NginxPrefix, ...extra: string[]): string[] {
  return ['-p', `${prefix.dir}/`, '-c', prefix.confPath, '-e', path.join(prefix.dir, 'error.log'), '-g', `pid ${prefix.dir}/nginx.pid;${extra.join('')}`];
}

/** `nginx -t` on the prefix: exit status and output. */
export function nginxTest(prefix: NginxPrefix): { status: number | null; output: string } {
  // nginx -t opens the log files too, and /dev/stdout cannot be opened on Node's socket pipes.
  const stdoutFd = openSync(path.join(prefix.dir, 'stdout.log'), 'a');
  try {
    const result = spawnSync('nginx', ['-t', ...nginxArgs(prefix)], { encoding: 'utf8', stdio: ['ignore', stdoutFd, 'pipe'] });
    return { status: result.status, output: result.stderr };
  } finally {
    closeSync(stdoutFd);
  }
}

export interface RunningNginx {
  /** stdout lines so far: the JSON access log. */
  accessLog(): string[];
  stderr: string[];
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts nginx in the foreground on the prefix and waits until it accepts connections. */
export async function startNginx(prefix: NginxPrefix, ports: NginxPorts): Promise<RunningNginx> {
  // stdout goes to a file: the config logs to /dev/stdout, which nginx cannot open on the socket
  // Node would give it as a pipe.
  const stdoutPath = path.join(prefix.dir, 'stdout.log');
  const stdoutFd = openSync(stdoutPath, 'a');
  // nginx runs under a small shell watchdog that stops it when this test process goes away, even when
  // the process is killed (a timed-out run), so no nginx outlives its test.
  const watchdog = [
    'parent=$1; shift',
    '"$@" & child=$!',
    `trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit $?' TERM INT`,
    'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1 & wait $!; done',
    'kill -TERM "$child" 2>/dev/null',
    'wait "$child"',
  ].join('\n');
  const child: ChildProcess = spawn('sh', ['-c', watchdog, 'nginx-watchdog', String(process.pid), 'nginx', ...nginxArgs(prefix, ' daemon off;')], {
    stdio: ['ignore', stdoutFd, 'pipe'],
  });
  closeSync(stdoutFd);
  const accessLog = () => readFileSync(stdoutPath, 'utf8').split('\n').filter(Boolean);
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  // nginx prints nothing when it is ready: poll until it accepts connections (or exits, with its reason).
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(ports.https))) {
    if (!running) throw new Error(`nginx exited: ${stderr.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    accessLog,
    stderr,
    async stop() {
      if (running) child.kill('SIGTERM');
      await exited;
    },
  };
}
