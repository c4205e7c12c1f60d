import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 that serves client ID metadata documents for the tests (with
 * CIMD_ALLOW_LOOPBACK=true), and counts the requests it got per path, so a test can prove that a cached
 * document causes no request and a refused one caused exactly one.
 */
export interface Served {
  status?: number;
  headers?: OutgoingHttpHeaders;
  /** An object is sent as JSON (Content-Type application/json unless headers say otherwise). */
  body?: unknown;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
  /** Send the body in chunks without a Content-Length. */
  chunked?: boolean;
}

export class MetadataDocumentServer {
  readonly requests = new Map<string, number>();
  private readonly routes = new Map<string, Served>();
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  base = '';

  static async start(): Promise<MetadataDocumentServer> {
    const s = new MetadataDocumentServer();
    s.server = createServer((req, res) => s.handle(req, res));
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.base = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Serves `served` at `path` and returns the URL (the client_id). */
  serve(path: string, served: Served): string {
    this.routes.set(path, served);
    return `${this.base}${path}`;
  }

  /** A valid document for `path` (client_id = its URL), with `overrides` merged in. */
  document(path: string, overrides: Record<string, unknown> = {}, served: Omit<Served, 'body'> = {}): string {
    const clientId = `${this.base}${path}`;
    return this.serve(path, {
      ...served,
      body: { client_id: clientId, client_name: 'MCP Test Client', redirect_uris: ['https://mcp-client.example.com/callback'], ...overrides },
    });
  }

  /** Requests being held open (hang) right now. */
  get hangingCount(): number {
    return [...this.hanging].filter((res) => !res.destroyed && !res.writableEnded && !res.req.destroyed).length;
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.set(path, this.count(path) + 1);
    const served = this.routes.get(path);
    if (!served) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (served.hang) {
      this.hanging.add(res);
      return;
    }
    const body = served.body === undefined ? '' : typeof served.body === 'string' ? served.body : JSON.stringify(served.body);
    res.writeHead(served.status ?? 200, { 'content-type': 'application/json', ...served.headers });
    if (served.chunked) {
      for (let i = 0; i < body.length; i += 1024) res.write(body.slice(i, i + 1024));
      res.end();
    } else {
      res.end(body);
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
