import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a server wrote on one socket into HTTP/1.1 responses (each with a Content-Length). */
function parseResponses(data: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = data;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(rest.slice(headEnd + 4)).subarray(0, length).toString();
    responses.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
    rest = rest.slice(headEnd + 4 + body.length);
  }
  return responses;
}

/** Opens a socket and collects everything it receives until the server closes it. */
async function openSocket(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  socket.on('error', () => {});
  return { socket, closed };
}

const portOf = (server: E2eServer) => Number(new URL(server.issuer).port);

/**
 * SECURITY.md "bodies and idle connections time out": a client trickling its body is answered 408 (an OAuth
 * body, not Fastify's) and disconnected after HTTP_REQUEST_TIMEOUT_SECONDS, however many of them there are.
 */
describe('slow clients (a real server, HTTP_REQUEST_TIMEOUT_SECONDS=1)', () => {
  let server: E2eServer;

  beforeAll(async () => {
    server = await startE2eServer({ HTTP_REQUEST_TIMEOUT_SECONDS: '1', LOG_LEVEL: 'debug' });
  });
  afterAll(() => server.close());

  it('trickled bodies get 408 invalid_request and their sockets are closed by the server', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => openSocket(portOf(server))));
    // Each would need 10 000 bytes at one byte per 200 ms: about half an hour without the timeout.
    const timers: NodeJS.Timeout[] = [];
    for (const { socket } of clients) {
      socket.write(
        'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
          'Content-Length: 10000\r\n\r\ngrant_type=',
      );
      timers.push(setInterval(() => socket.writable && socket.write('a'), 200));
    }
    try {
      // Generous bound on a loaded machine; without the timeout the sockets stay open and the test times out.
      const received = await Promise.all(clients.map((c) => c.closed));
      for (const data of received) {
        const [response] = parseResponses(data);
        expect(response?.status).toBe(408);
        expect(response?.headers.connection).toBe('close');
        expect(JSON.parse(response!.body)).toEqual({ error: 'invalid_request', error_description: 'the request was not received in time' });
      }
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  }, 25_000);

  it('a prompt request on the same server is unaffected', async () => {
    const res = await fetch(`${server.issuer}/health`);
    expect(res.status).toBe(200);
  });
});

/**
 * A request that arrives while app.close() is under way (pipelined behind one in flight on a kept-alive
 * connection) gets an OAuth 503 temporarily_unavailable with Retry-After, never Fastify's bare body.
 */
describe('a request racing the shutdown (a real server)', () => {
  it('gets 503 temporarily_unavailable with Retry-After and Connection: close', async () => {
    const server = await startE2eServer({ LOG_LEVEL: 'debug' });
    let closing: Promise<unknown> | undefined;
    try {
      const { socket, closed } = await openSocket(portOf(server));
      const body = 'grant_type=client_credentials';
      socket.write(
        'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: racing-first\r\n' +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      // The first request is in flight (its body still arriving) when the close begins.
      await expect.poll(() => server.logs.some((l) => l.includes('"reqId":"racing-first"')), { timeout: 10_000 }).toBe(true);
      closing = server.app.close();
      // Closed for new connections: the close is under way.
      await expect
        .poll(
          () =>
            new Promise<boolean>((resolve) => {
              const probe = connect(portOf(server), '127.0.0.1');
              probe.once('connect', () => (probe.destroy(), resolve(false)));
              probe.once('error', () => resolve(true));
            }),
          { timeout: 10_000 },
        )
        .toBe(true);
      // The rest of the first body, and a second request pipelined on the same connection.
      socket.write(
        body.slice(5) +
          'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: racing-second\r\n' +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      const responses = parseResponses(await closed);
      expect(responses).toHaveLength(2);
      // The first finished normally (no client credentials: invalid_client), the second was refused.
      expect(responses[0]!.status).toBe(401);
      const refused = responses[1]!;
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.headers.connection).toBe('close');
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(refused.body)).toEqual({ error: 'temporarily_unavailable', error_description: 'the server is shutting down; retry' });
    } finally {
      await closing;
      await server.testDb.drop();
    }
  }, 30_000);
});
