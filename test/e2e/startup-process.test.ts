import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/e2e-server.js';
import { baseServerEnv, buildServer, createScratchDatabase, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { TEST_DATABASE_URL } from '../helpers/test-db.js';

/** A non-loopback IPv4 address of this machine, if it has one. */
const externalAddress = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const running = (server: ServerProcess) => server.waitForLine((l) => l.includes('Authly is running'), 120_000);

async function stop(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGINT');
  await server.exited;
}

/**
 * Issue 14 §4, what only a real process shows: the development server listens on 127.0.0.1 unless HOST
 * says otherwise; a second server on the same embedded data directory is refused naming the first one's
 * pid; a port in use is one line on stderr and exit code 1. On PostgreSQL (TEST_DATABASE_URL) the data
 * directory holds no database, so two servers sharing it both start.
 */
describe('server start-up (real processes)', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  const servers: ServerProcess[] = [];
  const spawn = (env: Record<string, string>) => {
    const server = spawnServer(build.main, { CLEANUP_INTERVAL_MINUTES: '0', ...env, ...(database ? { DATABASE_URL: database.url } : {}) });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
  }, 300_000);

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      await server.exited;
    }
    await database?.drop();
    build.cleanup();
  });

  it('listens on 127.0.0.1 when HOST is not set', async () => {
    const port = await freePort();
    const { HOST: _host, ...env } = baseServerEnv(port);
    const server = spawn(env);
    await running(server);
    // The banner is written synchronously and the log asynchronously: wait for the log to catch up with a
    // request made after start-up, so every 'Server listening' line is in.
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    await server.waitForLine((l) => logFields(l)?.msg === 'request completed');
    const listening = server.lines.map(logFields).filter((f) => typeof f?.msg === 'string' && f.msg.startsWith('Server listening at'));
    expect(listening.map((f) => f!.msg)).toEqual([`Server listening at http://127.0.0.1:${port}`]);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    const external = externalAddress();
    if (external) expect(await accepts(external, port), `${external}:${port}`).toBe(false);
    await stop(server);
  }, 180_000);

  it(TEST_DATABASE_URL ? 'lets two servers share a data directory that holds no database (PostgreSQL)' : 'refuses a second server on the same data directory: "data directory in use by pid N", exit 1', async () => {
    const env = baseServerEnv(await freePort());
    const first = spawn(env);
    await running(first);
    const second = spawn({ ...env, PORT: String(await freePort()) });
    if (database) {
      await running(second);
      await stop(second);
    } else {
      expect(await second.exited).toEqual({ code: 1, signal: null });
      expect(second.stderr()).toBe(
        `authly: data directory in use by pid ${first.child.pid}: ${env.AUTHLY_DATA_DIR} (stop that process, or set AUTHLY_DATA_DIR to another directory)\n`,
      );
      expect(existsSync(path.join(env.AUTHLY_DATA_DIR!, 'pglite.lock'))).toBe(true);
    }
    // The first one is untouched, and releases the lock when it stops.
    expect((await fetch(`http://127.0.0.1:${env.PORT}/health/ready`)).status).toBe(200);
    await stop(first);
    expect(existsSync(path.join(env.AUTHLY_DATA_DIR!, 'pglite.lock'))).toBe(false);

    // Stopped: the directory is free again.
    const third = spawn(env);
    await running(third);
    await stop(third);
  }, 300_000);

  it('says a port in use in one line and exits 1, releasing the data directory', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const env = baseServerEnv(port);
      const server = spawn(env);
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.stderr()).toBe(`authly: port ${port} on 127.0.0.1 is in use (set PORT or stop the other process)\n`);
      expect(existsSync(path.join(env.AUTHLY_DATA_DIR!, 'pglite.lock'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 180_000);
});
