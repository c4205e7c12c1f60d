// `npm run bench`: Authly and oidc-provider side by side, in one run, on this machine.
// See docs/performance.md. Options: `node bench/run.mjs --help`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { argon2Ceiling, joseCeiling } from './lib/ceiling.mjs';
import { runLoad } from './lib/load.mjs';
import { loginForm, mintCodes, mintTokens, revoke, signedInBrowser } from './lib/mint.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { mintPasskeyAssertions, registerBenchPasskey } from './lib/passkey.mjs';
import { contextLines, markdownTable, summarize } from './lib/report.mjs';
import { Pool, SCENARIO_DEFS } from './lib/scenarios.mjs';
import { createBenchDatabase, startAuthly } from './servers/authly.mjs';
import { rssMiB } from './servers/child.mjs';
import { startPeer } from './servers/peer.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const FIXTURES = {
  clients: {
    cc: { id: 'bench-service' },
    web: { id: 'bench-web' },
    login: { id: 'bench-login' },
    redirectUri: 'http://127.0.0.1:9/callback',
  },
  // The API of the client_credentials_resource scenario (RFC 8707), accepting api:read, on both servers.
  resource: 'https://api.bench.example/v1',
  user: { username: 'bench.user', password: 'bench-password-correct-horse', email: 'bench.user@example.com', name: 'Bench User' },
};

const TOKEN_SCENARIOS = new Set([
  'client_credentials',
  'client_credentials_dpop',
  'client_credentials_resource',
  'authorization_code',
  'refresh_token',
  'refresh_token_dpop',
]);

async function prepareTarget(server, options, log) {
  const seed = await server.seed();
  const discovery = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  const t = { name: server.name, issuer: server.issuer, discovery, clients: seed.clients, userId: seed.userId, user: FIXTURES.user, resource: FIXTURES.resource, pools: {}, issued: 0 };
  t.browsers = await Promise.all(Array.from({ length: 8 }, () => signedInBrowser(t)));
  const tokens = await mintTokens(t, t.browsers, options.connections * 2);
  t.issued += tokens.length;
  t.pools.refresh = new Pool(tokens.map((x) => x.refresh_token));
  t.pools.access = tokens.slice(0, 16).map((x) => x.access_token);
  t.pools.login = await loginForm(t);
  log(`${server.name}: seeded at ${server.issuer}, ${tokens.length} token sets minted`);
  return t;
}

/** Fresh single-use inputs for one measurement (codes are consumed; access tokens must not expire). */
async function refill(t, scenario, options) {
  if (scenario === 'authorization_code') {
    const count = Math.ceil(options.codeRate * (options.duration + options.warmup));
    t.pools.codes = new Pool(await mintCodes(t, t.browsers, count));
  }
  if (scenario === 'refresh_token' || scenario === 'refresh_token_dpop') {
    // Rotation returns each token to the pool, but those in flight when a run stops are lost: start
    // every measurement with a full pool (three per connection).
    const tokens = await mintTokens(t, t.browsers, options.connections * 3);
    t.issued += tokens.length;
    t.pools.refresh = new Pool(tokens.map((x) => x.refresh_token));
  }
  if (scenario === 'passkey_sign_in') {
    // Each measured request is one assertion; minting costs ~1.4 requests each, so the pool is sized at
    // most 1,000 per measured second (a run that drains it stops early and is flagged).
    t.passkey ??= await registerBenchPasskey(t, t.browsers[0]);
    const count = Math.ceil(Math.min(options.codeRate, 1000) * (options.duration + options.warmup));
    t.pools.passkeys = new Pool(await mintPasskeyAssertions(t, t.passkey, count));
  }
  if (scenario === 'introspection' || scenario === 'userinfo') {
    const tokens = await mintTokens(t, t.browsers, 16);
    t.issued += tokens.length;
    t.pools.access = tokens.map((x) => x.access_token);
  }
}

async function measure(t, scenario, options) {
  await refill(t, scenario, options);
  const spec = SCENARIO_DEFS[scenario].build(t);
  if (options.warmup > 0) {
    const w = await runLoad(t.issuer, spec, { duration: options.warmup, connections: options.connections });
    if (TOKEN_SCENARIOS.has(scenario)) t.issued += w.ok;
  }
  const run = await runLoad(t.issuer, spec, { duration: options.duration, connections: options.connections });
  if (TOKEN_SCENARIOS.has(scenario)) t.issued += run.ok;
  return run;
}

/** Revoked tokens stay refused (userinfo 401, introspection inactive), and (Authly) every token has its jti row. */
async function correctness(t, countAccessTokens) {
  const [victim] = await mintTokens(t, t.browsers, 1);
  t.issued += 1;
  const revokeStatus = await revoke(t, victim.access_token);
  const ui = await fetch(t.discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${victim.access_token}` } });
  await ui.arrayBuffer();
  const intro = await (
    await fetch(t.discovery.introspection_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${t.clients.web.id}:${t.clients.web.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: victim.access_token }),
    })
  ).json();
  const parts = [`revoke ${revokeStatus}, userinfo after revocation ${ui.status}, introspection active=${intro.active}`];
  let ok = revokeStatus === 200 && ui.status === 401 && intro.active === false;
  if (countAccessTokens) {
    const rows = await countAccessTokens();
    parts.push(`${rows} access_tokens rows for ${t.issued} access tokens issued to the bench`);
    ok &&= rows >= t.issued;
  }
  return `${ok ? 'PASS' : 'FAIL'}: ${parts.join('; ')}`;
}

/** Authly's argon2id parameters, from its build (the peer is given the same). */
async function argon2Params() {
  const { ARGON2_PARAMS } = await import(pathToFileURL(path.join(ROOT, 'dist/services/password-hasher.js')).href);
  return { memoryCost: ARGON2_PARAMS.memoryCost, timeCost: ARGON2_PARAMS.timeCost, parallelism: ARGON2_PARAMS.parallelism };
}

async function ceiling(alg, params, measure) {
  if (!measure) return { jose: {}, argon2: { params, verifyPerSecond: null } };
  const jose = {};
  for (const a of [...new Set(['RS256', alg])]) jose[a] = await joseCeiling(a);
  return { jose, argon2: { params, verifyPerSecond: await argon2Ceiling(params) } };
}

async function countRows(databaseUrl) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT count(*)::int AS n FROM access_tokens');
    return rows[0].n;
  } finally {
    await c.end();
  }
}

/** The whole run; returns the result object (also used by the smoke test). */
export async function runBench(options, log = () => {}) {
  const cpus = os.cpus();
  const result = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      totalMemGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      loadBefore: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    },
    options: { ...options, databaseUrl: undefined, redisUrl: options.redisUrl ? '(set)' : undefined, authlyEnv: undefined, externalAuthly: undefined },
    scenarios: {},
  };
  log('measuring the ceiling (jose, argon2id) ...');
  result.ceiling = await ceiling(options.alg, options.argon2Params ?? (await argon2Params()), options.measureCeiling !== false);

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'authly-bench-'));
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const databases = [];
  const servers = [];
  // Ctrl-C (or a kill) still stops the servers and drops the databases.
  const onSignal = () => {
    Promise.allSettled(servers.map((s) => s.child.stop()))
      .then(() => Promise.allSettled(databases.map((d) => d.drop())))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const targets = {};
    if (options.servers.includes('authly')) {
      const db = options.externalAuthly ? undefined : await createBenchDatabase(options.databaseUrl);
      if (db) databases.push(db);
      const authly = await startAuthly({ root: options.authlyRoot ?? ROOT, databaseUrl: db?.url, options, fixtures: FIXTURES, workDir });
      servers.push(authly);
      targets.authly = await prepareTarget(authly, options, log);
      targets.authly.server = authly;
      targets.authly.countAccessTokens = options.externalAuthly?.countAccessTokens ?? (() => countRows(db.url));
    }
    if (options.servers.includes('peer')) {
      const peer = await startPeer({ options, fixtures: FIXTURES, workDir, argon2Params: result.ceiling.argon2.params });
      servers.push(peer);
      targets.peer = await prepareTarget(peer, options, log);
      targets.peer.server = peer;
    }
    const names = Object.keys(targets);

    for (const scenario of options.scenarios) {
      const only = SCENARIO_DEFS[scenario].authlyOnly;
      const sides = only ? names.filter((n) => n === 'authly') : names;
      if (sides.length === 0) continue;
      const runs = Object.fromEntries(sides.map((n) => [n, []]));
      for (let round = 0; round < options.rounds; round++) {
        // A, P then P, A: drift on a shared machine falls on both sides.
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        for (const name of order) {
          const run = await measure(targets[name], scenario, options);
          runs[name].push(run);
          log(`${scenario} round ${round + 1} ${name}: ${Math.round(run.rps)} req/s p99 ${run.latency.p99} ms errors ${run.bad + run.socketErrors + run.timeouts}${run.badSamples.length ? ` e.g. ${run.badSamples[0]}` : ''}`);
        }
      }
      const entry = { bound: SCENARIO_DEFS[scenario].bound, runs };
      if (only) entry.note = `Authly only: ${only}`;
      for (const name of sides) entry[name] = summarize(runs[name]);
      if (entry.authly && entry.peer) {
        const ratios = runs.authly.map((r, i) => r.rps / (runs.peer[i]?.rps || NaN));
        entry.ratio = Number((entry.authly.rps / entry.peer.rps).toFixed(2));
        entry.roundRatios = ratios.map((x) => Number(x.toFixed(2)));
        entry.ratioRange = `${Math.min(...entry.roundRatios).toFixed(2)}–${Math.max(...entry.roundRatios).toFixed(2)}`;
      }
      result.scenarios[scenario] = entry;
    }

    result.memory = Object.fromEntries(names.map((n) => [n, rssMiB(targets[n].server.child.pid)]));
    result.correctness = {};
    for (const name of names) result.correctness[name] = await correctness(targets[name], targets[name].countAccessTokens);

    if (targets.authly && options.workersScaling.length && !options.externalAuthly) {
      result.workers = await workersScaling(options, workDir, databases, servers, result, log);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const s of servers) await s.child.stop();
    for (const d of databases) await d.drop().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  }
  result.machine.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return result;
}

/** Authly again with WORKERS=2 (fresh database), the listed scenarios only; factor against WORKERS=1. */
async function workersScaling(options, workDir, databases, servers, result, log) {
  const db = await createBenchDatabase(options.databaseUrl);
  databases.push(db);
  const authly = await startAuthly({ root: options.authlyRoot ?? ROOT, databaseUrl: db.url, options, fixtures: FIXTURES, workDir, workers: 2 });
  servers.push(authly);
  const processes = rssMiB(authly.child.pid).perProcess.length;
  const out = { processes, scenarios: {} };
  if (processes < 3) out.note = `Authly started ${processes} process(es) with WORKERS=2 (no cluster support in this build?)`;
  const t = await prepareTarget(authly, options, log);
  for (const scenario of options.workersScaling) {
    const runs = [];
    for (let round = 0; round < options.rounds; round++) runs.push(await measure(t, scenario, options));
    const s = summarize(runs);
    const w1 = result.scenarios[scenario]?.authly?.rps;
    out.scenarios[scenario] = { ...s, factor: w1 ? Number((s.rps / w1).toFixed(2)) : null };
    log(`WORKERS=2 ${scenario}: ${s.rps} req/s (${out.scenarios[scenario].factor}× WORKERS=1)`);
  }
  out.memory = rssMiB(authly.child.pid);
  return out;
}

async function main() {
  const options = parseOptions();
  if (options.help) {
    process.stdout.write(`npm run bench -- [options]\n${usage()}\n`);
    return;
  }
  const log = options.quiet ? () => {} : (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const result = await runBench(options, log);
  const outDir = path.resolve(ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\n${markdownTable(result)}\n\n${contextLines(result)}\n\nJSON: ${path.relative(ROOT, file)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}

