import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/e2e-server.js';
import { basicAuth } from '../helpers/fixtures.js';
import { baseServerEnv, buildServer, createScratchDatabase, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';

const ADMIN_ID = 'shutdown-admin';
const ADMIN_SECRET = 'shutdown-admin-secret-0123456789';

/** Reads one HTTP/1.1 response (the server closes or sends Content-Length) from a raw socket. */
function readResponse(socket: Socket): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const done = () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? '')?.[1]), body: rest.join('\r\n\r\n') });
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const length = /content-length: (\d+)/i.exec(data)?.[1];
      const headEnd = data.indexOf('\r\n\r\n');
      if (length !== undefined && headEnd >= 0 && Buffer.byteLength(data.slice(headEnd + 4)) >= Number(length)) done();
    });
    socket.on('end', done);
    socket.on('error', reject);
  });
}

/**
 * SIGTERM on the real process: readiness turns 503 at once, a request already in flight (its body still
 * arriving) completes with 200 after the server stopped accepting connections, and the process exits 0
 * well within SHUTDOWN_TIMEOUT_SECONDS.
 */
describe('graceful shutdown (a real server process)', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: ServerProcess;
  let port: number;

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    port = await freePort();
    server = spawnServer(build.main, {
      ...baseServerEnv(port),
      AUTHLY_ADMIN_CLIENT_ID: ADMIN_ID,
      AUTHLY_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      SHUTDOWN_TIMEOUT_SECONDS: '5',
      CLEANUP_INTERVAL_MINUTES: '0',
      // The arrival line (at debug) tells when the in-flight request has reached the server.
      LOG_LEVEL: 'debug',
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
  }, 120_000);

  afterAll(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    await database?.drop();
    build.cleanup();
  });

  it('drains: readiness 503, the in-flight request finishes with 200, exit 0 within the timeout', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);

    // A token request whose body is still arriving when SIGTERM comes.
    const body = 'grant_type=client_credentials&scope=authly%3Aadmin';
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const response = readResponse(socket);
    socket.write(
      'POST /oauth/token HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\n` +
        'X-Request-ID: in-flight-1\r\n' +
        `Authorization: ${basicAuth(ADMIN_ID, ADMIN_SECRET)}\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\n' +
        `Content-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    await server.waitForLine((l) => logFields(l)?.reqId === 'in-flight-1');

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await server.waitForLine((l) => logFields(l)?.msg === 'draining');
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    // Still serving during the drain delay (the load balancer may not have noticed yet).
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    await server.waitForLine((l) => logFields(l)?.msg === 'closing');
    // Closed for new connections (poll: the listening socket closes right after the log line)…
    await expect(
      (async () => {
        for (let i = 0; i < 50; i++) {
          try {
            await fetch(`http://127.0.0.1:${port}/health`);
          } catch {
            return 'refused';
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        return 'still accepting';
      })(),
    ).resolves.toBe('refused');
    // …but the request in flight completes.
    socket.write(body.slice(10));
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ token_type: 'Bearer', scope: 'authly:admin' });

    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(server.lines.some((l) => logFields(l)?.msg === 'shutdown timed out; exiting')).toBe(false);
  }, 60_000);
});

/**
 * A client trickling its body must not hold a SIGTERMed server past SHUTDOWN_TIMEOUT_SECONDS (it used to
 * make the process exit 1 at the timeout): HTTP_REQUEST_TIMEOUT_SECONDS bounds it, Node stops checking
 * that bound once the server closes, so the shutdown cuts what is still open, and the exit is 0.
 */
describe('graceful shutdown with a slow client (a real server process)', () => {
  let build: ReturnType<typeof buildServer>;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: ServerProcess;
  let port: number;

  beforeAll(async () => {
    build = buildServer();
    database = await createScratchDatabase();
    port = await freePort();
    server = spawnServer(build.main, {
      ...baseServerEnv(port),
      SHUTDOWN_TIMEOUT_SECONDS: '6',
      HTTP_REQUEST_TIMEOUT_SECONDS: '2',
      CLEANUP_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'debug',
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    await server.waitForLine((l) => l.includes('Authly is running'), 90_000);
  }, 120_000);

  afterAll(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    await database?.drop();
    build.cleanup();
  });

  it('exits 0 before the timeout although a body is still trickling in', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'POST /oauth/token HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\n` +
        'X-Request-ID: trickling-1\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 10000\r\n\r\ngrant_type=',
    );
    // One byte every 200 ms: the body would take half an hour.
    const trickle = setInterval(() => socket.writable && socket.write('a'), 200);
    try {
      await server.waitForLine((l) => logFields(l)?.reqId === 'trickling-1');
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(6000);
      expect(server.lines.some((l) => logFields(l)?.msg === 'shutdown timed out; exiting')).toBe(false);
      await closed;
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  }, 60_000);
});
