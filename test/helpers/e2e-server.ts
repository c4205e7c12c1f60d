import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createTestDb, type TestDb } from './test-db.js';

/**
 * The real server for end-to-end tests: buildApp over a fresh test database (PGlite, or its own schema
 * on TEST_DATABASE_URL), listening on 127.0.0.1. The issuer is the URL clients use, so the port is
 * chosen before the config is loaded.
 */
export interface E2eServer {
  issuer: string;
  app: FastifyInstance;
  config: Readonly<Config>;
  testDb: TestDb;
  logs: string[];
  close(): Promise<void>;
}

/** A port that was free a moment ago (the kernel picks it; a rare race is retried by the caller). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startE2eServer(
  env: Record<string, string> = {},
  /**
   * issuerHost: the issuer's host name (it still listens on 127.0.0.1): `localhost` where a test needs a
   * domain, e.g. a WebAuthn RP ID. now: the clock of time-based one-time codes.
   */
  options: { issuerHost?: string } & Pick<AppDeps, 'now'> = {},
): Promise<E2eServer> {
  const testDb = await createTestDb();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const issuer = `http://${options.issuerHost ?? '127.0.0.1'}:${port}`;
    const config = loadConfig({
      DEFAULT_ISSUER_URL: issuer,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-e2e-')),
      JWT_SECRET_KEY: 'e2e-test-secret-key-that-is-at-least-32-characters',
      AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
      // Tests send many requests from one address; rate-limit tests turn it on explicitly.
      RATE_LIMIT_ENABLED: 'false',
      ...env,
    });
    const app = await buildApp(config, { db: testDb.db, logStream, ...(options.now ? { now: options.now } : {}) });
    try {
      await app.listen({ host: '127.0.0.1', port });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      await testDb.drop();
      throw err;
    }
    return {
      issuer,
      app,
      config,
      testDb,
      logs,
      async close() {
        await app.close();
        await testDb.drop();
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// A browser over fetch: manual redirects and a cookie jar, for walking the login and consent pages.

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/** Where an authorization ended up once it left the server's pages. */
export type Landing =
  | { mode: 'query'; url: URL }
  /** response_mode=form_post: the auto-submitting form's target and hidden fields. */
  | { mode: 'form_post'; action: string; params: URLSearchParams };

export interface AuthorizationWalk {
  landing: Landing;
  /** The pages the user saw on the way, in order. */
  pages: ('login' | 'consent')[];
}

export interface WalkOptions {
  username?: string;
  password?: string;
  decision?: 'allow' | 'deny';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };

export function unescapeHtml(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_, name: string) => ENTITIES[name]!);
}

/** name → value of every hidden input on the page (HTML-unescaped). */
export function hiddenInputs(htmlText: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const match of htmlText.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    params.append(unescapeHtml(match[1]!), unescapeHtml(match[2]!));
  }
  return params;
}

export function formActionOf(htmlText: string): string {
  const match = /<form method="post" action="([^"]+)"/.exec(htmlText);
  if (!match) throw new Error(`no form on the page: ${htmlText.slice(0, 300)}`);
  return unescapeHtml(match[1]!);
}

/**
 * A browser over fetch: keeps the cookies the issuer sets (matched by path) and sends them only to the
 * issuer. get/post never follow redirects, so tests see every 303; authorize() walks them step by step.
 */
export class FetchBrowser {
  private readonly jar = new Map<string, StoredCookie>();

  constructor(readonly issuer: string) {}

  private cookieHeader(url: URL): string | undefined {
    if (url.origin !== new URL(this.issuer).origin) return undefined;
    const pairs = [...this.jar.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }

  private store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let cookiePath = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        const lower = key!.toLowerCase();
        if (lower === 'path') cookiePath = val;
        if (lower === 'max-age' && Number(val) <= 0) expired = true;
        if (lower === 'expires' && new Date(val).getTime() <= Date.now()) expired = true;
      }
      const key = `${name}|${cookiePath}`;
      if (expired) this.jar.delete(key);
      else this.jar.set(key, { name, value, path: cookiePath });
    }
  }

  hasCookie(name: string): boolean {
    return [...this.jar.values()].some((c) => c.name === name);
  }

  async get(url: string | URL): Promise<Response> {
    const target = new URL(url, this.issuer);
    const cookie = this.cookieHeader(target);
    const response = await fetch(target, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    this.store(response);
    return response;
  }

  async post(url: string | URL, form: Record<string, string>): Promise<Response> {
    const target = new URL(url, this.issuer);
    const cookie = this.cookieHeader(target);
    const response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(form).toString(),
    });
    this.store(response);
    return response;
  }

  /**
   * Walks an authorization request through the server's pages as a user would: follows redirects
   * within the issuer, fills in the login form, answers the consent page, and stops as soon as the
   * response leaves the issuer (a redirect to the client, or the form_post page). Throws on anything
   * unexpected, with the page it got, so a failing test says where the walk broke.
   */
  async authorize(authorizationUrl: string | URL, options: WalkOptions = {}): Promise<AuthorizationWalk> {
    const pages: AuthorizationWalk['pages'] = [];
    const issuerOrigin = new URL(this.issuer).origin;
    let response = await this.get(authorizationUrl);
    for (let step = 0; step < 10; step++) {
      if (response.status === 303 || response.status === 302) {
        const location = new URL(response.headers.get('location')!, this.issuer);
        if (location.origin !== issuerOrigin) return { landing: { mode: 'query', url: location }, pages };
        response = await this.get(location);
        continue;
      }
      const text = await response.text();
      if (response.status !== 200) throw new Error(`unexpected ${response.status} during authorization: ${text.slice(0, 500)}`);
      if (/<form method="post" action="[^"]*" id="response">/.test(text)) {
        return { landing: { mode: 'form_post', action: formActionOf(text), params: hiddenInputs(text) }, pages };
      }
      const csrf = hiddenInputs(text).get('csrf_token');
      if (!csrf) throw new Error(`no csrf_token on the page: ${text.slice(0, 500)}`);
      if (text.includes('name="password"')) {
        if (options.username === undefined || options.password === undefined) {
          throw new Error('the login page was shown but the walk has no credentials');
        }
        if (pages.includes('login')) throw new Error(`login failed: ${text.slice(0, 500)}`);
        pages.push('login');
        response = await this.post(formActionOf(text), { csrf_token: csrf, username: options.username, password: options.password });
        continue;
      }
      if (text.includes('name="decision"')) {
        pages.push('consent');
        response = await this.post(formActionOf(text), { csrf_token: csrf, decision: options.decision ?? 'allow' });
        continue;
      }
      throw new Error(`unrecognized page during authorization: ${text.slice(0, 500)}`);
    }
    throw new Error('authorization did not finish within 10 steps');
  }
}

// ---------------------------------------------------------------------------------------------------
// A stand-in client application for the browser tests: its redirect URI must be a page that loads.

export interface RecordedCallback {
  method: string;
  url: URL;
  /** The form body of a POST (response_mode=form_post). */
  body: URLSearchParams;
}

export interface ClientAppServer {
  origin: string;
  callbackUrl: string;
  callbacks: RecordedCallback[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void;

/**
 * A tiny relying party on its own 127.0.0.1 port that records every request to /callback. `routes`
 * adds pages by path; anything else answers 204 (so a favicon request logs no error).
 */
export async function startClientApp(routes: Record<string, RouteHandler> = {}): Promise<ClientAppServer> {
  const callbacks: RecordedCallback[] = [];
  let origin = '';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    const route = routes[url.pathname];
    if (route) {
      route(request, response, url);
      return;
    }
    if (url.pathname !== '/callback') {
      response.writeHead(204).end();
      return;
    }
    readBody(request).then(
      (body) => {
        callbacks.push({ method: request.method ?? 'GET', url, body: new URLSearchParams(body) });
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>Client app</title><p id="done">Signed in</p>');
      },
      () => response.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    callbackUrl: `${origin}/callback`,
    callbacks,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
