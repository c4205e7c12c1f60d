import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTES } from '../config/routes.js';
import { findStoredLogin, loggedInAccessToken, type StoredLogin } from './admin-login.js';
import { CliError, UsageError } from './cli-io.js';

/**
 * The admin CLI's only way into Authly: the admin HTTP API, with an access token obtained by
 * client_credentials. It never opens the database, so it works the same against any deployment.
 */

export const DEFAULT_URL = 'http://localhost:8000';
const CREDENTIALS_FILE = 'admin-credentials.json';
const TIMEOUT_MS = 30_000;

/**
 * How the CLI gets its admin access token: the admin client's credentials (client_credentials), a token
 * given as AUTHLY_ADMIN_TOKEN, or the login `authly admin login` stored (src/cli/admin-login.ts).
 */
export type Credentials =
  | { kind: 'client'; clientId: string; clientSecret: string }
  | { kind: 'token'; accessToken: string }
  | { kind: 'login'; file: string; login: StoredLogin & { url: string } };

export interface ConnectionOptions {
  url?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  dataDir?: string | undefined;
}

/**
 * --client-id/--client-secret, then AUTHLY_ADMIN_TOKEN (`authly admin login --print`), then
 * AUTHLY_ADMIN_CLIENT_ID/SECRET, then the login stored by `authly admin login` for this URL, then the
 * development credentials file.
 */
export function resolveCredentials(options: ConnectionOptions, env: Record<string, string | undefined>, url?: string): Credentials {
  if (options.clientId || options.clientSecret) {
    if (!options.clientId || !options.clientSecret) throw new UsageError('--client-id and --client-secret go together');
    return { kind: 'client', clientId: options.clientId, clientSecret: options.clientSecret };
  }
  if (env.AUTHLY_ADMIN_TOKEN) return { kind: 'token', accessToken: env.AUTHLY_ADMIN_TOKEN };
  if (env.AUTHLY_ADMIN_CLIENT_ID && env.AUTHLY_ADMIN_CLIENT_SECRET) {
    return { kind: 'client', clientId: env.AUTHLY_ADMIN_CLIENT_ID, clientSecret: env.AUTHLY_ADMIN_CLIENT_SECRET };
  }
  const stored = url === undefined ? undefined : findStoredLogin(env, url);
  if (stored) return { kind: 'login', ...stored };
  const file = path.resolve(options.dataDir ?? env.AUTHLY_DATA_DIR ?? './data', CREDENTIALS_FILE);
  let saved: { client_id?: unknown; client_secret?: unknown };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
  } catch {
    throw new CliError(
      `no admin credentials: pass --client-id and --client-secret, set AUTHLY_ADMIN_CLIENT_ID and ` +
        `AUTHLY_ADMIN_CLIENT_SECRET, run 'authly admin login', or start the server in development to create ${file}`,
    );
  }
  if (typeof saved.client_id !== 'string' || typeof saved.client_secret !== 'string') {
    throw new CliError(`${file} does not hold client_id and client_secret`);
  }
  return { kind: 'client', clientId: saved.client_id, clientSecret: saved.client_secret };
}

export function resolveUrl(options: ConnectionOptions, env: Record<string, string | undefined>): string {
  const url = options.url ?? env.AUTHLY_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  return url.replace(/\/+$/, '');
}

/** `error: message`: the admin API's `{ message, fields }`, or an OAuth `{ error, error_description }`. */
export function describeError(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const { message, fields, error, error_description: description } = body as Record<string, unknown>;
    if (typeof message === 'string') {
      const details =
        fields && typeof fields === 'object'
          ? Object.entries(fields as Record<string, unknown>).map(([field, reason]) => `${field}: ${String(reason)}`)
          : [];
      return details.length > 0 ? `${message} (${details.join('; ')})` : message;
    }
    if (typeof description === 'string' && typeof error === 'string') return `${description} (${error})`;
    if (typeof error === 'string') return error;
  }
  return `unexpected response (HTTP ${status})`;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export async function send(url: string, init: RequestInit): Promise<ApiResponse> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new CliError(`cannot reach ${new URL(url).origin}: ${reason}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

export class AdminApiClient {
  private token: string | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: Credentials,
  ) {}

  private async accessToken(): Promise<string> {
    if (this.token) return this.token;
    const { credentials } = this;
    if (credentials.kind === 'token') return (this.token = credentials.accessToken);
    if (credentials.kind === 'login') return (this.token = await loggedInAccessToken(this.baseUrl, credentials.file, credentials.login));
    return (this.token = await this.clientCredentialsToken(credentials));
  }

  /** RFC 6749 section 4.4 with client_secret_basic (section 2.3.1: id and secret form-encoded first). */
  private async clientCredentialsToken(credentials: { clientId: string; clientSecret: string }): Promise<string> {
    const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(`${encode(credentials.clientId)}:${encode(credentials.clientSecret)}`).toString('base64');
    const { status, body } = await send(this.baseUrl + ROUTES.token, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'authly:admin' }).toString(),
    });
    const token = (body as { access_token?: unknown } | undefined)?.access_token;
    if (status !== 200 || typeof token !== 'string') {
      throw new CliError(`cannot get an admin access token: ${describeError(status, body)}`);
    }
    return token;
  }

  /**
   * Calls `method path` and hands the body to `write` chunk by chunk as it arrives (an export of the audit
   * trail can be long: the timeout covers the wait for the response, not its length).
   */
  async stream(method: string, path: string, query: Record<string, string>, write: (chunk: string) => unknown): Promise<void> {
    const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : '';
    const url = `${this.baseUrl}${ROUTES.admin}${path}${search}`;
    const headers = { authorization: `Bearer ${await this.accessToken()}` };
    const waiting = new AbortController();
    const timer = setTimeout(() => waiting.abort(), TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, signal: waiting.signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (response.status < 200 || response.status >= 400) {
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw new CliError(describeError(response.status, body));
    }
    const decoder = new TextDecoder();
    for await (const chunk of response.body ?? []) write(decoder.decode(chunk as Uint8Array, { stream: true }));
    const rest = decoder.decode();
    if (rest) write(rest);
  }

  /** Calls `method path` under the admin API; any non-2xx status becomes a CliError. */
  async request(method: string, path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<ApiResponse> {
    const query = options.query && Object.keys(options.query).length > 0 ? `?${new URLSearchParams(options.query)}` : '';
    const headers: Record<string, string> = { authorization: `Bearer ${await this.accessToken()}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await send(`${this.baseUrl}${ROUTES.admin}${path}${query}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    if (response.status >= 400 || response.status < 200) throw new CliError(describeError(response.status, response.body));
    return response;
  }
}
