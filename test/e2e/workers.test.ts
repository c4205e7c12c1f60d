import { readdirSync, readFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/e2e-server.js';
import { baseServerEnv, buildServer, createScratchDatabase, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { TEST_DATABASE_URL } from '../helpers/test-db.js';

/** Live child processes of `pid`, from /proc (field 4 of /proc/<pid>/stat is the parent). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out.sort();
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One request on a connection of its own, so the cluster may hand each to another worker. */
function freshGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** The environment of a two-worker server on this port and database. */
const twoWorkers = (port: number, databaseUrl: string, poolMax: number): Record<string, string> => ({
  ...baseServerEnv(port),
  DATABASE_URL: databaseUrl,
  DATABASE_POOL_MAX: String(poolMax),
  WORKERS: '2',
  SHUTDOWN_TIMEOUT_SECONDS: '5',
  CLEANUP_INTERVAL_MINUTES: '0',
});

/** WORKERS needs PostgreSQL (an embedded PGlite cannot be shared by processes): skipped on PGlite. */
describe.skipIf(!TEST_DATABASE_URL)('WORKERS=2 (node:cluster, a real process tree)', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: ServerProcess;
  let port: number;

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    port = await freePort();
    server = spawnServer(build.main, { ...twoWorkers(port, database!.url, 3), LOG_LEVEL: 'info' });
    await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
  }, 120_000);

  afterAll(async () => {
    if (server.child.exitCode === null) {
      for (const pid of childrenOf(server.child.pid!)) process.kill(pid, 'SIGKILL');
      server.child.kill('SIGKILL');
    }
    await server.exited;
    await database?.drop();
    build.cleanup();
  });

  const listeningPids = () =>
    new Set(server.lines.map(logFields).filter((f) => typeof f?.msg === 'string' && f.msg.startsWith('Server listening')).map((f) => f!.pid as number));

  it('forks two workers that both serve the port; the banner is printed once', async () => {
    const primary = server.child.pid!;
    const workers = childrenOf(primary);
    expect(workers).toHaveLength(2);
    // A worker's own "Server listening" line can come just after the primary heard it listen.
    await server.waitForLine(() => listeningPids().size === 2);
    expect(listeningPids()).toEqual(new Set(workers));
    expect(server.lines.filter((l) => l.includes('Authly is running'))).toHaveLength(1);
    expect(server.lines.some((l) => l.includes('Workers:    2'))).toBe(true);

    for (let i = 0; i < 16; i++) expect(await freshGet(`http://127.0.0.1:${port}/.well-known/jwks.json`)).toBe(200);
    // Each worker writes its log line after its answer: wait for them rather than read at once.
    const servedBy = () =>
      new Set(
        server.lines
          .map(logFields)
          .filter((f) => f?.msg === 'request completed')
          .map((f) => f!.pid as number),
      );
    await server.waitForLine(() => servedBy().size === 2);
    expect(servedBy()).toEqual(new Set(workers));
  });

  it('/metrics sums every worker: a scrape counts requests served by both, whichever worker answers', async () => {
    const jwksCount = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('authly_http_requests_total{') && l.includes('route="/.well-known/jwks.json"'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const before = jwksCount(await scrape());
    for (let i = 0; i < 20; i++) expect(await freshGet(`http://127.0.0.1:${port}/.well-known/jwks.json`)).toBe(200);
    // Several scrapes, on fresh connections, land on both workers; each must see all 20 requests.
    for (let i = 0; i < 6; i++) {
      const text = await scrape();
      expect(jwksCount(text) - before).toBe(20);
      expect(text).toMatch(/^authly_database_up 1$/m);
    }
  });

  it('a worker that dies is replaced', async () => {
    const [victim, survivor] = childrenOf(server.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await server.waitForLine((l) => logFields(l)?.msg === 'worker died; restarting');
    const line = await server.waitForLine((l) => {
      const f = logFields(l);
      return typeof f?.msg === 'string' && f.msg.startsWith('Server listening') && f.pid !== victim && f.pid !== survivor;
    });
    const replacement = logFields(line)!.pid as number;
    expect(childrenOf(server.child.pid!)).toEqual([survivor!, replacement].sort());
    expect(await freshGet(`http://127.0.0.1:${port}/health`)).toBe(200);
  });

  it('SIGTERM stops every worker and the primary exits 0', async () => {
    const workers = childrenOf(server.child.pid!);
    expect(workers).toHaveLength(2);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    for (const pid of workers) expect(alive(pid)).toBe(false);
    const exits = server.lines.map(logFields).filter((f) => f?.msg === 'worker exited');
    expect(exits.map((f) => f!.code)).toEqual([0, 0]);
  }, 30_000);
});

describe.skipIf(!TEST_DATABASE_URL)('WORKERS=2 when the primary is killed outright', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: ServerProcess;
  let workers: number[] = [];

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    const port = await freePort();
    server = spawnServer(build.main, twoWorkers(port, database!.url, 2));
    await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
  }, 120_000);
  afterAll(async () => {
    for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await database?.drop();
    build.cleanup();
  });

  // node:cluster exits a worker whose IPC channel to the primary closes unexpectedly: no orphan keeps
  // serving unsupervised on the port.
  it('the orphaned workers exit by themselves', async () => {
    workers = childrenOf(server.child.pid!);
    expect(workers).toHaveLength(2);
    server.child.kill('SIGKILL');
    await server.exited;
    // Not our children, so their exit cannot be awaited: poll until they are gone.
    const deadline = Date.now() + 10_000;
    while (workers.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(workers.filter(alive)).toEqual([]);
  }, 30_000);
});

describe.skipIf(!TEST_DATABASE_URL)('WORKERS=2 on a port another process holds', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let blocker: Server;
  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await database?.drop();
    build.cleanup();
  });

  // Every worker would meet the same taken port: the cluster stops with 1 instead of restarting workers
  // (with a back-off) for ever.
  it('says so and exits 1, without restarting workers', async () => {
    const port = (blocker.address() as { port: number }).port;
    const server = spawnServer(build.main, twoWorkers(port, database!.url, 2));
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(server.stderr()).toContain(`authly: port ${port} on 127.0.0.1 is in use (set PORT or stop the other process)\n`);
    const primary = server.lines.map(logFields).filter((f) => f?.role === 'primary');
    expect(primary.map((f) => f!.msg)).toContain('a worker cannot start; stopping');
    expect(primary.map((f) => f!.msg)).not.toContain('worker died; restarting');
    expect(primary.find((f) => f!.msg === 'all workers exited')).toMatchObject({ code: 1 });
  }, 120_000);
});
