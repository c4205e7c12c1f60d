import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS, loadConfig } from '../../src/config/config.js';
import { hasTool } from '../helpers/tools.js';

/**
 * The Compose files, validated by Debian's docker-compose (v1, `config`: it parses, merges, interpolates
 * and checks the files against its schema; no engine needed). The commands are not listed here: they are
 * read from docs/deployment.md, every `docker compose … up` line of it, so the test runs exactly what the
 * documentation tells people to run. Then the resolved configuration is checked for what the deployment
 * promises: health-gated start, no published database ports, secrets as files in production, real
 * Authly variables, mounted files that exist.
 */

const DOC = 'docs/deployment.md';
const skip = !hasTool('docker-compose');
const work = mkdtempSync(path.join(tmpdir(), 'authly-compose-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface DocCommand {
  line: string;
  env: Record<string, string>;
  /** Options before the subcommand (-f, --env-file, --profile). */
  options: string[];
}

/** Every `docker compose … up` command in the document's shell blocks, with leading VAR=value pairs. */
function documentedCommands(): DocCommand[] {
  const text = readFileSync(DOC, 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
  const commands: DocCommand[] = [];
  for (const raw of blocks.flatMap((b) => b.split('\n')).map((l) => l.trim())) {
    const m = /^((?:[A-Z_]+=\S+ )*)docker compose (.*)$/.exec(raw);
    if (!m) continue;
    const words = m[2]!.split(/\s+/);
    const up = words.indexOf('up');
    if (up < 0) continue;
    const env = Object.fromEntries(m[1]!.trim().split(/\s+/).filter(Boolean).map((pair) => pair.split('=') as [string, string]));
    commands.push({ line: raw, env, options: words.slice(0, up) });
  }
  return commands;
}

/** The Compose variables a user would have: .env.hub.example, copied as the documentation says. */
function envFileFor(options: string[]): string {
  const i = options.indexOf('--env-file');
  if (i >= 0) {
    // The documentation's .env.hub is a copy of .env.hub.example.
    expect(options[i + 1]).toBe('.env.hub');
    return path.resolve('.env.hub.example');
  }
  // Without --env-file Compose reads ./.env, which the documentation makes from the same example (a
  // developer's own .env must not influence the test, so it is passed explicitly).
  return path.resolve('.env.hub.example');
}

function runConfig(command: DocCommand): { status: number | null; stdout: string; stderr: string } {
  const options = [...command.options];
  const i = options.indexOf('--env-file');
  if (i >= 0) options.splice(i, 2);
  const args = ['--env-file', envFileFor(command.options), ...options, 'config'];
  const result = spawnSync('docker-compose', args, {
    encoding: 'utf8',
    // Only PATH and the documented VAR=value pairs: nothing from the caller's environment leaks in.
    env: { PATH: process.env.PATH, HOME: work, ...command.env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const commands = documentedCommands();
const resolved = new Map<string, any>();
function config(command: DocCommand): any {
  let cfg = resolved.get(command.line);
  if (!cfg) {
    const result = runConfig(command);
    if (result.status !== 0) throw new Error(`${command.line}\n${result.stderr}`);
    cfg = parse(result.stdout);
    resolved.set(command.line, cfg);
  }
  return cfg;
}

const files = (c: DocCommand) => c.options.filter((_, i) => c.options[i - 1] === '-f');
const profiles = (c: DocCommand) => c.options.filter((_, i) => c.options[i - 1] === '--profile');
const isDev = (c: DocCommand) => files(c).includes('docker-compose.dev.yml');
const isProd = (c: DocCommand) => files(c).includes('docker-compose.prod.yml');

/** Published host ports of a service, as "ip:port". */
const published = (service: any): string[] =>
  (service.ports ?? []).map((p: any) => (typeof p === 'string' ? p : `${p.host_ip ?? '0.0.0.0'}:${p.published}`));

describe.skipIf(skip)('Compose files (docker-compose config, every command of docs/deployment.md)', () => {
  it('the documentation covers every stack and combination', () => {
    const combos = new Set(commands.map((c) => [...files(c), ...profiles(c).map((p) => `profile:${p}`)].join(' ')));
    for (const expected of [
      '', // docker compose up: docker-compose.yml
      'docker-compose.yml docker-compose.dev.yml',
      'docker-compose.yml docker-compose.prod.yml',
      'docker-compose.yml docker-compose.prod.yml profile:monitoring',
      'docker-compose.hub.yml',
      'docker-compose.hub.yml profile:admin',
      'docker-compose.hub.yml profile:monitoring',
      'docker-compose.hub.yml profile:admin profile:monitoring',
    ]) {
      expect([...combos]).toContain(expected);
    }
  });

  it.each(commands.map((c) => [c.line, c] as const))('%s: docker-compose config accepts it', (_, command) => {
    const result = runConfig(command);
    expect(result.stderr).not.toMatch(/ERROR|invalid/i);
    expect(result.status).toBe(0);
    const cfg = config(command);
    expect(Object.keys(cfg.services)).toEqual(expect.arrayContaining(['authly', 'postgres', 'redis']));
    // Compose v1's `config` prints every service; the active ones are those without a profile or with
    // one of the selected profiles.
    const active = Object.entries<any>(cfg.services)
      .filter(([, s]) => !s.profiles || s.profiles.some((p: string) => profiles(command).includes(p)))
      .map(([name]) => name);
    expect(active.includes('pgadmin')).toBe(isDev(command) || profiles(command).includes('admin'));
    expect(active.includes('prometheus')).toBe(profiles(command).includes('monitoring'));
    expect(active.includes('grafana')).toBe(profiles(command).includes('monitoring'));
    expect(active.includes('nginx')).toBe(isProd(command));
    // Authly's health check is the image's own (Dockerfile HEALTHCHECK), so both probe the same.
    const dockerfileProbe = /HEALTHCHECK[^\n]*\n\s+CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))![1]!;
    expect(cfg.services.authly.healthcheck.test).toEqual(['CMD', ...(JSON.parse(dockerfileProbe) as string[])]);
  });

  it('docker-compose config can fail: an unknown dependency, a missing required variable', () => {
    const broken = path.join(work, 'broken.yml');
    writeFileSync(broken, readFileSync('docker-compose.yml', 'utf8').replace('      redis:\n        condition: service_healthy', '      rediss:\n        condition: service_healthy'));
    const a = spawnSync('docker-compose', ['--env-file', path.resolve('.env.hub.example'), '-f', broken, 'config'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work } });
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/rediss/);
    const empty = path.join(work, 'empty.env');
    writeFileSync(empty, '');
    const b = spawnSync('docker-compose', ['--env-file', empty, '-f', 'docker-compose.hub.yml', 'config'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work } });
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/AUTHLY_VERSION/);
  });

  it.each(commands.map((c) => [c.line, c] as const))('%s: health-gated start, private databases, hardened Authly', (_, command) => {
    const cfg = config(command);
    const { authly, postgres, redis } = cfg.services;
    expect(postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(redis.healthcheck.test.join(' ')).toMatch(/redis-cli ping/);
    expect(authly.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    for (const [name, service] of Object.entries<any>(cfg.services)) {
      for (const [dep, spec] of Object.entries<any>(service.depends_on ?? {})) {
        if (spec.condition === 'service_healthy') expect(cfg.services[dep].healthcheck, `${name} waits on ${dep}`).toBeDefined();
      }
    }
    // Databases: no published port, except the development stack's, on loopback only.
    for (const db of [postgres, redis]) {
      if (isDev(command)) for (const p of published(db)) expect(p).toMatch(/^127\.0\.0\.1:/);
      else expect(published(db)).toEqual([]);
    }
    // Everything but nginx publishes on loopback only (the hub file's AUTHLY_BIND defaults to it).
    for (const [name, service] of Object.entries<any>(cfg.services)) {
      if (name === 'nginx') continue;
      for (const p of published(service)) expect(p, `${name} ${p}`).toMatch(/^127\.0\.0\.1:/);
    }
    expect(authly.cap_drop).toEqual(['ALL']);
    expect(authly.security_opt).toContain('no-new-privileges:true');
    expect(authly.read_only).toBe(!isDev(command));
    // Longer than the drain: SIGKILL never cuts a graceful shutdown short.
    const grace = Number(String(authly.stop_grace_period).replace(/s$/, ''));
    expect(grace).toBeGreaterThan(Number(authly.environment.SHUTDOWN_TIMEOUT_SECONDS ?? ENV_VARS.SHUTDOWN_TIMEOUT_SECONDS.default));
    expect(authly.environment.ENVIRONMENT).toBe(isDev(command) ? 'development' : 'production');
    // Authly's own default is loopback: in a container it must listen on every interface. The runtime
    // image sets HOST=0.0.0.0 (test/deploy/dockerfile-lint.test.ts); the development stack runs the
    // build stage, which does not, so it says so itself.
    if (isDev(command)) expect(authly.environment.HOST).toBe('0.0.0.0');
    else expect(authly.environment.HOST ?? '0.0.0.0').toBe('0.0.0.0');
  });

  it.each(commands.map((c) => [c.line, c] as const))('%s: every variable Authly gets is a real Authly variable', (_, command) => {
    const names = new Set(Object.keys(ENV_VARS));
    const secrets = Object.entries(ENV_VARS).filter(([, s]) => 'secret' in s && s.secret).map(([n]) => n);
    for (const name of Object.keys(config(command).services.authly.environment)) {
      const real = names.has(name) || name === 'NODE_ENV' || (name.endsWith('_FILE') && secrets.includes(name.replace(/_FILE$/, '')));
      expect(real, name).toBe(true);
    }
  });

  it("development: Authly sends its mail to the stack's Mailpit over SMTP_HOST/SMTP_PORT, on a shared network", () => {
    const cfg = config(commands.find(isDev)!);
    const { authly, mailhog } = cfg.services;
    expect(authly.environment.SMTP_HOST).toBe('mailhog');
    expect(authly.environment.SMTP_PORT).toBe('1025');
    expect(mailhog.image).toMatch(/mailpit/);
    expect(published(mailhog).map((p) => p.split(':').slice(0, 2).join(':')).sort()).toEqual(['127.0.0.1:1025', '127.0.0.1:8025']);
    const networks = (service: any): string[] => (Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {}));
    expect(networks(authly).filter((n) => networks(mailhog).includes(n))).not.toEqual([]);
  });

  it('production: secrets only as files, nginx with the repository configuration, limits everywhere', () => {
    const command = commands.find((c) => isProd(c) && profiles(c).includes('monitoring'))!;
    const cfg = config(command);
    const { authly, nginx, postgres } = cfg.services;
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET_KEY', 'AUTHLY_KEY_ENCRYPTION_KEY']) {
      expect(authly.environment[name], name).toBe('');
      const file = authly.environment[`${name}_FILE`];
      expect(file, `${name}_FILE`).toMatch(/^\/run\/secrets\//);
      expect(authly.secrets.map((s: any) => (typeof s === 'string' ? s : s.source))).toContain(path.posix.basename(file));
    }
    expect(postgres.environment.POSTGRES_PASSWORD).toBe('');
    expect(postgres.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
    for (const secret of Object.values<any>(cfg.secrets)) expect(secret.file).toMatch(/\/secrets\/[a-z_]+$/);
    // TRUST_PROXY is exactly nginx's network.
    expect(authly.environment.TRUST_PROXY).toBe(cfg.networks.frontend.ipam.config[0].subnet);
    expect(nginx.networks).toHaveProperty('frontend');
    expect(published(nginx).map((p) => p.split(':').pop()).sort()).toEqual(['443', '80']);
    for (const [name, service] of Object.entries<any>(cfg.services)) {
      expect(service.mem_limit, `${name} mem_limit`).toBeDefined();
    }
    // A placeholder from .env.hub.example, used by mistake, stops Authly at start-up.
    const example = Object.fromEntries(readFileSync('.env.hub.example', 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    expect(() =>
      loadConfig({ ENVIRONMENT: 'production', DATABASE_URL: 'postgres://db/authly', JWT_SECRET_KEY: example.JWT_SECRET_KEY }),
    ).toThrow(/JWT_SECRET_KEY: looks like a development placeholder/);
  });

  it('every file a Compose file mounts from the repository exists (nginx, monitoring, source)', () => {
    const root = process.cwd();
    const checked = new Set<string>();
    for (const command of commands) {
      for (const [name, service] of Object.entries<any>(config(command).services)) {
        for (const volume of service.volumes ?? []) {
          const source = typeof volume === 'string' ? volume.split(':')[0]! : volume.source;
          if (!source?.startsWith('/') || !source.startsWith(root)) continue; // named volumes
          expect(existsSync(source), `${name}: ${source}`).toBe(true);
          checked.add(path.relative(root, source));
        }
      }
    }
    expect([...checked].sort()).toEqual(
      expect.arrayContaining(['migrations', 'monitoring/alert-rules.yml', 'monitoring/grafana/dashboards', 'monitoring/grafana/provisioning', 'monitoring/prometheus.yml', 'nginx', 'src']),
    );
    expect(existsSync('nginx/nginx.conf')).toBe(true);
    // Prometheus loads the rule file by the name the mount gives it.
    expect(readFileSync('monitoring/prometheus.yml', 'utf8')).toMatch(/^\s+- alert-rules\.yml$/m);
  });
});
