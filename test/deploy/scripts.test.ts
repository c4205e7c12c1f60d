import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { hasTool } from '../helpers/tools.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPTS = path.join(ROOT, 'scripts');
const EXPECTED_SCRIPTS = [
  'backup_database.sh',
  'configure_firewall.sh',
  'deploy_production.sh',
  'disaster_recovery.sh',
  'maintenance.sh',
  'migrate_database.sh',
  'post_deployment_tests.sh',
  'setup-dev-certs.sh',
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script without a terminal on stdin (so confirmations cannot be answered by accident). */
function run(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(SCRIPTS, script), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A command stub on PATH that records its arguments, one call per line, and answers from `body`. */
function stubCommand(binDir: string, name: string, body = 'exit 0'): string {
  const log = path.join(binDir, `${name}.calls`);
  writeFileSync(log, '');
  writeFileSync(path.join(binDir, name), `#!/usr/bin/env bash\necho "$*" >> "${log}"\n${body}\n`, { mode: 0o755 });
  return log;
}

describe('the operations scripts', () => {
  it('are exactly the eight scripts, each bash with set -euo pipefail', () => {
    expect(readdirSync(SCRIPTS).filter((f) => f.endsWith('.sh')).sort()).toEqual(EXPECTED_SCRIPTS);
    for (const script of EXPECTED_SCRIPTS) {
      const text = readFileSync(path.join(SCRIPTS, script), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n'), script).toBe(true);
      expect(text, script).toMatch(/^set -euo pipefail$/m);
      expect(text, script).toMatch(/^usage\(\) \{$/m);
      expect(statSync(path.join(SCRIPTS, script)).mode & 0o111, script).not.toBe(0);
    }
  });

  it.skipIf(!hasTool('shellcheck'))('pass shellcheck (and so does .ci/run)', () => {
    const result = spawnSync('shellcheck', ['--severity=style', ...EXPECTED_SCRIPTS.map((s) => path.join(SCRIPTS, s)), path.join(ROOT, '.ci/run')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(EXPECTED_SCRIPTS)('%s --help prints its usage and exits 0; an unknown option exits 2', async (script) => {
    for (const flag of ['--help', '-h']) {
      const help = await run(script, [flag]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: scripts/${script}`);
    }
    const bad = await run(script, ['--no-such-option']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--no-such-option');
  });
});

describe.skipIf(!hasTool('openssl'))('setup-dev-certs.sh', () => {
  it('creates a CA and a server certificate with the SANs, refuses to overwrite without --force', async () => {
    const dir = tempDir('authly-certs-');
    try {
      const first = await run('setup-dev-certs.sh', ['--out', dir, 'auth.local', '10.1.2.3']);
      expect(first.status).toBe(0);
      const cert = path.join(dir, 'server.crt');
      const san = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout;
      expect(san).toContain('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:auth.local, IP Address:10.1.2.3');
      const verify = spawnSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), cert], { encoding: 'utf8' });
      expect(verify.stdout.trim()).toBe(`${cert}: OK`);
      expect(statSync(path.join(dir, 'server.key')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dir, 'ca.key')).mode & 0o777).toBe(0o600);

      const original = readFileSync(cert, 'utf8');
      const again = await run('setup-dev-certs.sh', ['--out', dir]);
      expect(again.status).toBe(0);
      expect(again.stderr).toContain('Use --force to replace them');
      expect(readFileSync(cert, 'utf8')).toBe(original);

      const forced = await run('setup-dev-certs.sh', ['--out', dir, '--force']);
      expect(forced.status).toBe(0);
      expect(readFileSync(cert, 'utf8')).not.toBe(original);

      const bad = await run('setup-dev-certs.sh', ['--out', dir, '--force', 'evil,DNS:attacker.example']);
      expect(bad.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasTool('curl'))('post_deployment_tests.sh', () => {
  let server: E2eServer;
  let broken: Server;
  let brokenUrl: string;

  beforeAll(async () => {
    server = await startE2eServer();
    // Answers everything 200 with a discovery document naming another issuer, and no security headers.
    broken = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://elsewhere.example', token_endpoint: 'https://elsewhere.example/token' }));
      } else if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else {
        res.writeHead(500).end('boom');
      }
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => broken?.close(resolve));
  });

  it('passes against a running Authly', async () => {
    const result = await run('post_deployment_tests.sh', [server.issuer]);
    expect(result.stdout).not.toContain('FAIL');
    expect(result.stdout).toContain('PASS  discovery issuer is');
    expect(result.stdout).toContain('PASS  token endpoint refuses an unauthenticated request: 401 invalid_client');
    expect(result.stdout).toContain('PASS  /metrics serves Authly\'s metrics');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('All checks passed');
    expect(result.status).toBe(0);
  });

  it('fails against a server that is not a healthy Authly, naming each failed check', async () => {
    const result = await run('post_deployment_tests.sh', [brokenUrl]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('PASS  GET /health is 200 ok');
    expect(result.stdout).toContain(`FAIL  discovery: status 200, issuer 'https://elsewhere.example' (expected '${brokenUrl}')`);
    expect(result.stdout).toContain('FAIL  GET /health/ready: status 500');
    expect(result.stdout).toContain('FAIL  JWKS: status 500, 0 keys');
    expect(result.stdout).toContain('FAIL  X-Content-Type-Options missing on discovery');
    expect(result.stdout).toMatch(/\d+ check\(s\) failed\n$/);
  });

  it('fails when nothing listens, and when /metrics is expected to be private but is not', async () => {
    const down = await run('post_deployment_tests.sh', ['--timeout', '3', 'http://127.0.0.1:1']);
    expect(down.status).toBe(1);
    expect(down.stdout).toContain('FAIL  GET /health: status 000');
    const exposed = await run('post_deployment_tests.sh', ['--metrics', 'denied', server.issuer]);
    expect(exposed.status).toBe(1);
    expect(exposed.stdout).toContain('FAIL  /metrics is reachable from here (status 200)');
  });
});

describe('configure_firewall.sh', () => {
  it('prints the ufw commands in a dry run, SSH before enabling', async () => {
    const result = await run('configure_firewall.sh', ['--ssh-port', '2222', '--monitoring-from', '10.8.0.0/16']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      '# Dry run (ufw): nothing is changed. Re-run with --apply to apply.',
      'ufw default deny incoming',
      'ufw default allow outgoing',
      'ufw limit 2222/tcp comment ssh',
      'ufw allow 80/tcp comment http-redirect-and-acme',
      'ufw allow 443/tcp comment https',
      'ufw allow from 10.8.0.0/16 to any port 9090 proto tcp comment prometheus',
      'ufw allow from 10.8.0.0/16 to any port 3000 proto tcp comment grafana',
      'ufw --force enable',
    ]);
  });

  it('prints an nftables ruleset that drops by default', async () => {
    const result = await run('configure_firewall.sh', ['--backend', 'nftables', '--ssh-from', '203.0.113.0/24']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('type filter hook input priority 0; policy drop;');
    expect(result.stdout).toContain('ip saddr 203.0.113.0/24 tcp dport 22 accept');
    expect(result.stdout).toContain('tcp dport { 80, 443 } accept');
    expect(result.stdout).not.toMatch(/5432|6379/);
  });

  it('refuses bad input, and --apply without confirmation changes nothing', async () => {
    expect((await run('configure_firewall.sh', ['--ssh-from', '1.2.3.4; rm -rf /'])).status).toBe(2);
    expect((await run('configure_firewall.sh', ['--ssh-port', '70000'])).status).toBe(2);
    const bin = tempDir('authly-fw-');
    try {
      const calls = stubCommand(bin, 'ufw');
      const result = await run('configure_firewall.sh', ['--apply'], { PATH: `${bin}:${process.env.PATH}` });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/refusing to change the firewall without confirmation|needs root/);
      expect(readFileSync(calls, 'utf8')).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasTool('openssl'))('deploy_production.sh (with a stand-in docker)', () => {
  let project: string;
  let bin: string;
  let calls: string;
  const env = () => ({ PATH: `${bin}:${process.env.PATH}`, DEFAULT_ISSUER_URL: 'https://auth.example.test' });

  beforeAll(async () => {
    project = tempDir('authly-deploy-');
    bin = path.join(project, 'bin');
    mkdirSync(bin);
    // `docker compose ps -q` names a container, `docker inspect` calls it healthy; everything else succeeds.
    calls = stubCommand(bin, 'docker', 'case "$*" in *" ps -q authly"*) echo c0ffee ;; inspect*) echo healthy ;; esac\nexit 0');
    writeFileSync(path.join(project, 'docker-compose.yml'), 'services: {}\n');
    writeFileSync(path.join(project, 'docker-compose.prod.yml'), 'services: {}\n');
    mkdirSync(path.join(project, 'secrets'));
    for (const secret of ['database_url', 'redis_url', 'jwt_secret_key', 'key_encryption_key', 'postgres_password', 'redis_password']) {
      writeFileSync(path.join(project, 'secrets', secret), randomBytes(16).toString('hex'), { mode: 0o600 });
    }
    const certs = await run('setup-dev-certs.sh', ['--out', path.join(project, 'nginx/certs')]);
    expect(certs.status).toBe(0);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('checks everything first and, without --yes and a terminal, deploys nothing', async () => {
    const result = await run('deploy_production.sh', ['--project-dir', project, '--skip-tests'], env());
    expect(result.stdout).toContain('ok    Compose files validate');
    expect(result.stdout).toContain('ok    certificate valid for 14 more days');
    expect(result.stderr).toContain('refusing to deploy without confirmation');
    expect(result.status).toBe(1);
    const log = readFileSync(calls, 'utf8');
    expect(log).toContain('config -q');
    expect(log).not.toMatch(/\b(pull|up)\b/);
  });

  it('stops at a failed pre-flight check (a world-readable secret, an http issuer)', async () => {
    writeFileSync(calls, '');
    const secret = path.join(project, 'secrets', 'jwt_secret_key');
    chmodSync(secret, 0o644);
    try {
      const result = await run('deploy_production.sh', ['--project-dir', project, '--yes', '--skip-tests'], { ...env(), DEFAULT_ISSUER_URL: 'http://auth.example.test' });
      expect(result.status).toBe(1);
      expect(result.stdout).toContain('FAIL  secret jwt_secret_key exists, is non-empty and not world-readable');
      expect(result.stdout).toContain('FAIL  DEFAULT_ISSUER_URL is https (http://auth.example.test)');
      expect(result.stderr).toContain('Pre-flight failed (2 problem(s)); nothing was changed.');
      expect(readFileSync(calls, 'utf8')).not.toMatch(/\b(pull|up)\b/);
    } finally {
      chmodSync(secret, 0o600);
    }
  });

  it('with --yes pulls, starts the stack and waits for health', async () => {
    writeFileSync(calls, '');
    const result = await run('deploy_production.sh', ['--project-dir', project, '--yes', '--skip-tests'], env());
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Authly is healthy.');
    const files = `-f ${project}/docker-compose.yml -f ${project}/docker-compose.prod.yml`;
    const log = readFileSync(calls, 'utf8');
    expect(log).toContain(`compose ${files} pull --ignore-pull-failures`);
    expect(log).toContain(`compose ${files} up -d --remove-orphans`);
    expect(log.indexOf('pull')).toBeLessThan(log.indexOf('up -d'));
  });
});

describe('migrate_database.sh --compose and maintenance.sh full (with stand-ins)', () => {
  it('runs authly migrate in a one-off container of the production stack', async () => {
    const bin = tempDir('authly-migrate-');
    try {
      const calls = stubCommand(bin, 'docker');
      const result = await run('migrate_database.sh', ['--compose'], { PATH: `${bin}:${process.env.PATH}` });
      expect(result.status).toBe(0);
      expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([
        'compose version',
        `compose -f ${ROOT}/docker-compose.yml -f ${ROOT}/docker-compose.prod.yml run --rm authly node dist/cli/authly.js migrate`,
      ]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('does not run VACUUM FULL without confirmation', async () => {
    const bin = tempDir('authly-maint-');
    try {
      const calls = stubCommand(bin, 'psql');
      const result = await run('maintenance.sh', ['--database-url', 'postgres://db.invalid/authly', 'full'], { PATH: `${bin}:${process.env.PATH}` });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('VACUUM FULL locks');
      expect(readFileSync(calls, 'utf8')).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
