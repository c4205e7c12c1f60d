import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/config/routes.js';
import { runCleanup } from '../../src/services/cleanup-service.js';
import { InjectBrowser, csrfToken, formAction } from '../helpers/browser.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { basicAuth, createClient, createUser } from '../helpers/fixtures.js';
import { FORM, authorizeUrl, obtainTokens, tokenRequest } from '../helpers/oauth-flow.js';
import { hasTool, testRedisUrl } from '../helpers/tools.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MONITORING = path.join(ROOT, 'monitoring');
const RULES = path.join(MONITORING, 'alert-rules.yml');
const DASHBOARD = path.join(MONITORING, 'grafana/dashboards/authly.json');

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', cwd: ROOT });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { query: { query: string } }[] } };
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
/** The `expr:` blocks of the alert rules (folded `|` blocks included). */
const ruleExprs = [...readFileSync(RULES, 'utf8').matchAll(/expr: (\|\n((?: {10}.*\n)+)|.*)/g)].map((m) => (m[2] ?? m[1]!).trim());
/** Grafana's variables, replaced by what they stand for, so the expressions are plain PromQL. */
const concrete = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$job', 'authly')
    .replaceAll('$instance', '.*')
    // A variable's query label_values(selector, label) selects what `selector` selects.
    .replace(/^label_values\((.*),\s*\w+\)$/, '$1');
const allExprs = [...ruleExprs, ...dashboardExprs.map(concrete), ...dashboard.templating.list.map((v) => concrete(v.query.query))];

describe.skipIf(!hasTool('promtool'))('Prometheus configuration and alert rules (promtool)', () => {
  it('promtool check config accepts prometheus.yml and its rule file', () => {
    const result = promtool('check', 'config', 'monitoring/prometheus.yml');
    expect(result.output).toContain('SUCCESS: 1 rule files found');
    expect(result.output).toContain('is valid prometheus config file syntax');
    expect(result.status).toBe(0);
  });

  it('promtool check rules accepts every alert', () => {
    const result = promtool('check', 'rules', 'monitoring/alert-rules.yml');
    expect(result.output).toContain('SUCCESS: 11 rules found');
    expect(result.status).toBe(0);
  });

  it('promtool test rules: every alert fires in its incident and stays quiet when healthy', () => {
    const tests = readdirSync(path.join(MONITORING, 'tests')).filter((f) => f.endsWith('.yml'));
    expect(tests).not.toEqual([]);
    const result = promtool('test', 'rules', ...tests.map((f) => `monitoring/tests/${f}`));
    expect(result.output).not.toContain('FAILED');
    expect(result.status).toBe(0);
    // Each alert of the rule file has at least one test that expects it to fire.
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const testText = tests.map((f) => readFileSync(path.join(MONITORING, 'tests', f), 'utf8')).join('\n');
    for (const alert of alerts) expect(testText, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('every dashboard expression is valid PromQL (checked by promtool as recording rules)', () => {
    expect(dashboardExprs.length).toBeGreaterThan(20);
    const dir = mkdtempSync(path.join(tmpdir(), 'authly-dash-'));
    try {
      const rules = allExprs.map((expr, i) => `      - record: authly_dashboard_expr_${i}\n        expr: ${JSON.stringify(expr)}\n`).join('');
      const file = path.join(dir, 'dashboard-rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      const result = promtool('check', 'rules', file);
      expect(result.output).toContain(`SUCCESS: ${allExprs.length} rules found`);
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboard and provisioning', () => {
  it('is a dashboard whose panels use the provisioned datasource and fit the grid', () => {
    const datasource = readFileSync(path.join(MONITORING, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(datasource)![1];
    expect(uid).toBe('authly-prometheus');
    expect(datasource).toContain('url: http://prometheus:9090');
    const provider = readFileSync(path.join(MONITORING, 'grafana/provisioning/dashboards/authly.yml'), 'utf8');
    expect(provider).toContain('path: /var/lib/grafana/dashboards');
    expect(dashboard.uid).toBe('authly-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource?.uid).toBe(uid);
    }
    // The panels the runbook refers to.
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of ['Requests by route', 'Latency p50 / p95 / p99', 'Token requests by grant type and status', 'Authorization requests by result', 'Login attempts', 'Database pool connections', 'Cache hit ratio by cache', 'Rate-limited requests by policy', 'Cleanup: rows deleted by table', 'Event loop lag p99', 'CPU', 'Resident memory and heap']) {
      expect(titles).toContain(title);
    }
  });

  it('names only routes Authly serves in route matchers', () => {
    const routes = [...allExprs.join('\n').matchAll(/route(?:=|!=)"([^"]*)"/g)].map((m) => m[1]!);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(Object.values(ROUTES) as string[]).toContain(route);
  });
});

/** metric name → label sets of its samples, from the Prometheus text format. */
function parseScrape(text: string): Map<string, Record<string, string>[]> {
  const samples = new Map<string, Record<string, string>[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.set(match[1]!, [...(samples.get(match[1]!) ?? []), labels]);
  }
  return samples;
}

describe('the metrics named in rules and dashboards exist in a live scrape', () => {
  let server: E2eServer;
  let scrape: Map<string, Record<string, string>[]>;
  const redisUrl = testRedisUrl();

  beforeAll(async () => {
    server = await startE2eServer({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_MAX_REQUESTS: '1000',
      ...(redisUrl ? { REDIS_URL: redisUrl, AUTHLY_REDIS_KEY_PREFIX: `authly-mon-${randomBytes(4).toString('hex')}:` } : {}),
    });
    const { app } = server;
    const user = await createUser(app);
    const webClient = await createClient(app);
    const service = await createClient(app, { grantTypes: ['client_credentials'], scope: 'openid' });

    // A full code flow (authorization, login success, token success) and a refresh.
    const browser = new InjectBrowser(app);
    const tokens = await obtainTokens(app, browser, webClient, user.username, { scope: 'openid offline_access' });
    expect((await tokenRequest(app, webClient, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).statusCode).toBe(200);
    // A failed login, a failed and a successful client_credentials request, an authorization error.
    const other = new InjectBrowser(app);
    const start = await other.get(authorizeUrl(webClient.clientId));
    const page = await other.get(start.headers.location as string);
    const failed = await other.post(formAction(page.body), { csrf_token: csrfToken(page.body), username: user.username, password: 'wrong password' });
    // The login page again, with the generic error (no user enumeration), counted as a failure.
    expect(failed.statusCode).toBe(200);
    expect(failed.body).toContain('name="password"');
    expect((await tokenRequest(app, service, { grant_type: 'client_credentials' })).statusCode).toBe(200);
    const badSecret = await app.inject({ method: 'POST', url: ROUTES.token, headers: { ...FORM, authorization: basicAuth(service.clientId, 'wrong') }, payload: 'grant_type=client_credentials' });
    expect(badSecret.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `${ROUTES.authorization}?client_id=${webClient.clientId}` })).statusCode).toBeLessThan(500);
    // Discovery and JWKS twice (a cache miss, then a hit).
    for (let i = 0; i < 2; i++) {
      await app.inject({ method: 'GET', url: ROUTES.openidConfiguration });
      await app.inject({ method: 'GET', url: ROUTES.jwks });
    }
    // The cleanup job deletes an expired interaction.
    await app.ctx.db.query(`UPDATE interactions SET expires_at = now() - interval '1 hour'`);
    const cleanup = await runCleanup({ db: app.ctx.db, config: server.config, metrics: app.ctx.metrics });
    expect(cleanup.deleted.interactions).toBeGreaterThan(0);

    const response = await fetch(`${server.issuer}${ROUTES.metrics}`);
    expect(response.status).toBe(200);
    scrape = parseScrape(await response.text());
    // Generous: on a loaded machine the server start, certificates and the flow take a while.
  }, 180_000);
  afterAll(() => server?.close());

  it('has every metric and every label the expressions select on', () => {
    const selectors = [...allExprs.join('\n').matchAll(/\b((?:authly|process|nodejs)_\w+)(?:\{([^}]*)\})?/g)];
    const names = new Set(selectors.map((m) => m[1]!));
    expect(names.size).toBeGreaterThan(12);
    const missing = [...names].filter((name) => !scrape.has(name));
    // authly_redis_up is registered only with REDIS_URL, which CI always provides (TEST_REDIS_URL).
    expect(missing).toEqual(redisUrl ? [] : missing.filter((n) => n === 'authly_redis_up'));
    for (const [, name, matchers = ''] of selectors) {
      const samples = scrape.get(name!);
      if (!samples) continue;
      for (const [, label, op, value] of matchers.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (label === 'job' || label === 'instance') continue; // added by Prometheus at scrape time
        expect(samples.some((s) => label! in s), `${name} has no label ${label}`).toBe(true);
        // An exact match must name a value the server really reports (after the flow above).
        if (op === '=') expect(samples.some((s) => s[label!] === value), `${name}{${label}="${value}"}`).toBe(true);
      }
    }
  });
});
