// A profiling aid, not part of `npm run bench`: the userinfo scenario (GET userinfo with one of 16 user
// access tokens as Bearer, keep-alive, 32 in flight) against one or more built checkouts of Authly at
// once, interleaved round by round, reporting each server process's CPU time per request (from
// /proc/<pid>/stat), which a loaded machine disturbs far less than requests per second.
//
//   node bench/profile-userinfo.mjs [--requests 20000] [--rounds 5] [--format opaque|jwt] [--cpu-prof DIR] ROOT...
//
// Each ROOT is a checkout with dist/ built (`npm run build`); BENCH_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) is the server on which each gets a fresh database.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mintTokens, signedInBrowser } from './lib/mint.mjs';
import { createBenchDatabase, startAuthly } from './servers/authly.mjs';

const FIXTURES = {
  clients: { cc: { id: 'bench-service' }, web: { id: 'bench-web' }, login: { id: 'bench-login' }, redirectUri: 'http://127.0.0.1:9/callback' },
  resource: 'https://api.bench.example/v1',
  user: { username: 'bench.user', password: 'bench-password-correct-horse', email: 'bench.user@example.com', name: 'Bench User' },
};

const { values, positionals: roots } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    format: { type: 'string', default: 'opaque' },
    'cpu-prof': { type: 'string' },
  },
});
if (roots.length === 0) throw new Error('usage: node bench/profile-userinfo.mjs [options] ROOT...');
const requests = Number(values.requests);
const CONCURRENCY = 32;
const TICK_US = 1e6 / 100; // USER_HZ

/** user + system CPU time of a process, in microseconds. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

async function load(target, n) {
  const url = new URL(target.discovery.userinfo_endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  let bad = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const token = target.tokens[sent++ % target.tokens.length];
      const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200 || JSON.parse(body).email !== FIXTURES.user.email) bad++;
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const worker = async () => {
    while (sent < n) await one();
  };
  const cpu0 = cpuUs(target.pid);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuUs(target.pid) - cpu0;
  agent.destroy();
  if (bad) throw new Error(`${target.root}: ${bad} bad responses`);
  return { rps: n / seconds, cpuUsPerRequest: cpu / n };
}

const workDir = mkdtempSync(path.join(os.tmpdir(), 'profile-userinfo-'));
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const targets = [];
try {
  for (const root of roots) {
    const db = await createBenchDatabase(serverUrl);
    const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`, `--cpu-prof-name=${path.basename(root)}.cpuprofile`] : [];
    const server = await startAuthly({ root, databaseUrl: db.url, fixtures: FIXTURES, workDir, options: { nodeArgs, alg: 'ES256', format: values.format, logLevel: 'info' } });
    const seed = await server.seed();
    const discovery = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
    const t = { issuer: server.issuer, discovery, clients: seed.clients, userId: seed.userId, user: FIXTURES.user };
    const browsers = await Promise.all(Array.from({ length: 4 }, () => signedInBrowser(t)));
    const tokens = (await mintTokens(t, browsers, 16)).map((x) => x.access_token);
    targets.push({ root, db, server, pid: server.child.pid, discovery, tokens, runs: [] });
  }
  for (const target of targets) await load(target, Math.min(requests, 5000)); // warm-up
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const target of round % 2 ? [...targets].reverse() : targets) {
      const run = await load(target, requests);
      target.runs.push(run);
      if (process.env.VERBOSE) process.stderr.write(`round ${round} ${target.root}: ${run.rps.toFixed(0)} req/s, ${run.cpuUsPerRequest.toFixed(1)} CPU µs/request\n`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const t of targets) {
    const cpu = t.runs.map((r) => r.cpuUsPerRequest);
    // Against the first ROOT round by round: the load of other processes changes slowly, so it weighs on
    // both runs of a round alike and their ratio is steadier than either figure.
    const ratios = t.runs.map((r, i) => r.cpuUsPerRequest / targets[0].runs[i].cpuUsPerRequest);
    process.stdout.write(
      `${t.root}: median ${median(cpu).toFixed(1)} CPU µs/request (min ${Math.min(...cpu).toFixed(1)}, max ${Math.max(...cpu).toFixed(1)}), ` +
        `median ${median(t.runs.map((r) => r.rps)).toFixed(0)} req/s; CPU per request against the first: median ${median(ratios).toFixed(3)} ` +
        `(quartiles ${[...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 4)].toFixed(3)}–${[...ratios].sort((a, b) => a - b)[Math.floor((3 * ratios.length) / 4)].toFixed(3)})\n`,
    );
  }
} finally {
  // SIGTERM first: a --cpu-prof profile is written on a clean exit.
  for (const t of targets) await t.server.child.stop();
  for (const t of targets) await t.db.drop();
  rmSync(workDir, { recursive: true, force: true });
}
