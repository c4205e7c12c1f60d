import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { TEST_ISSUER } from './test-app.js';

/** One POST a receiver got. */
export interface ReceivedLogout {
  path: string;
  contentType: string | undefined;
  /** The form's fields, repeated keys kept. */
  form: [string, string][];
  logoutToken: string;
}

/**
 * A relying party's back-channel logout endpoint (OIDC Back-Channel Logout 1.0 section 2.5) on loopback:
 * records every POST and answers `status` (200 by default; set it to make the client fail). `close()`
 * takes it down; `listen()` brings it back on the same port (a client that is down, then up again).
 */
export class LogoutReceiver {
  readonly received: ReceivedLogout[] = [];
  status = 200;
  /** Sent as Location with a 3xx status. */
  location: string | undefined;
  /** Accept the request and never answer (a hung client). */
  hang = false;
  private server: Server | undefined;
  port = 0;

  async listen(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = [...new URLSearchParams(Buffer.concat(chunks).toString('utf8'))];
        this.received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'],
          form,
          logoutToken: form.find(([k]) => k === 'logout_token')?.[1] ?? '',
        });
        if (this.hang) return;
        res.statusCode = this.status;
        res.setHeader('cache-control', 'no-store');
        if (this.location) res.setHeader('location', this.location);
        res.end(this.status === 200 ? '' : '{"error":"logout_failed"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  url(path = '/backchannel-logout'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The received logouts for a path, in order. */
  at(path: string): ReceivedLogout[] {
    return this.received.filter((r) => r.path === path);
  }
}

/** Waits until `check` holds (polling), failing after `timeoutMs` with `what`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Verifies a logout token as a relying party must (section 2.6), against the server's published JWKS:
 * signature, typ logout+jwt, iss, aud, iat/exp; returns the header and claims for the test's own checks.
 */
export async function verifyLogoutToken(
  app: FastifyInstance,
  token: string,
  clientId: string,
): Promise<{ header: ReturnType<typeof decodeProtectedHeader>; claims: JWTPayload }> {
  const jwks = createLocalJWKSet((await app.inject('/.well-known/jwks.json')).json());
  const { payload } = await jwtVerify(token, jwks, { issuer: TEST_ISSUER, audience: clientId, typ: 'logout+jwt', requiredClaims: ['iat', 'exp', 'jti'] });
  return { header: decodeProtectedHeader(token), claims: payload };
}
