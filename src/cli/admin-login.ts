import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROUTES } from '../config/routes.js';
import { isAdminScope, parseScope } from '../lib/scopes.js';
import { CLI_CLIENT_ID, CLI_LOGIN_SCOPE } from '../services/admin/cli-client-names.js';
import { describeError, send } from './admin-api-client.js';
import { CliError, type CliIo } from './cli-io.js';

/**
 * `authly admin login`: an operator gets an admin token as a person, through the device authorization grant
 * (RFC 8628) with the built-in public client `authly-cli`, instead of sharing the admin client's secret. The
 * CLI prints the verification URI and the code, the operator approves in a browser (the normal sign-in,
 * with MFA and lockouts), and the CLI polls until the token comes.
 *
 * Where the token goes: `$XDG_CONFIG_HOME/authly/admin-login.json` (else `~/.config/authly/…`, or
 * `%APPDATA%\authly\…`), one entry per server URL, written with mode 0600 in a 0700 folder, as gh and gcloud
 * keep theirs. Later admin commands against that URL use it; the refresh token (rotated at every use,
 * and a replayed one revokes the whole family) renews the access token when it has expired, so a login
 * lasts as long as REFRESH_TOKEN_EXPIRE_DAYS. `authly admin logout` revokes the refresh token and forgets the
 * entry. With `--print` nothing is stored: the access token goes to stdout for
 * `export AUTHLY_ADMIN_TOKEN=$(authly admin login --print)`, and lasts ACCESS_TOKEN_EXPIRE_MINUTES.
 */

export interface StoredLogin {
  access_token: string;
  refresh_token?: string;
  /** Seconds since the epoch. */
  expires_at: number;
  scope: string;
  /** Who approved (the ID token's preferred_username or sub), for the messages. */
  user?: string;
}

const LOGIN_FILE = 'admin-login.json';
/** An access token this close to its expiry is renewed first, so a command does not fail half-way. */
const EXPIRY_MARGIN_SECONDS = 30;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The login file, or undefined when the environment names no home or config folder. */
export function loginFile(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, '.config') : undefined) || env.APPDATA;
  return base ? path.join(base, 'authly', LOGIN_FILE) : undefined;
}

function readLogins(file: string): Record<string, StoredLogin> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, StoredLogin>) : {};
  } catch {
    return {};
  }
}

/** Written whole to a temporary file with mode 0600, then renamed: never readable by others, never half-written. */
function writeLogins(file: string, logins: Record<string, StoredLogin>): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

function isStoredLogin(value: unknown): value is StoredLogin {
  const v = value as Partial<StoredLogin> | undefined;
  return typeof v?.access_token === 'string' && typeof v.expires_at === 'number' && typeof v.scope === 'string';
}

export function findStoredLogin(env: Record<string, string | undefined>, url: string): { file: string; login: StoredLogin & { url: string } } | undefined {
  const file = loginFile(env);
  if (!file) return undefined;
  const login = readLogins(file)[url];
  return isStoredLogin(login) ? { file, login: { ...login, url } } : undefined;
}

interface TokenBody {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  scope?: unknown;
  id_token?: unknown;
  error?: unknown;
}

/** Who approved, from the ID token's payload (only shown; the token came straight from the server over its URL). */
function userOf(idToken: unknown): string | undefined {
  if (typeof idToken !== 'string') return undefined;
  try {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const name = claims.preferred_username ?? claims.sub;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

function storedFrom(body: TokenBody, previous?: StoredLogin): StoredLogin {
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
  const user = userOf(body.id_token) ?? previous?.user;
  return {
    access_token: body.access_token as string,
    ...(typeof body.refresh_token === 'string' ? { refresh_token: body.refresh_token } : {}),
    expires_at: Math.floor(Date.now() / 1000) + expiresIn,
    scope: typeof body.scope === 'string' ? body.scope : (previous?.scope ?? ''),
    ...(user ? { user } : {}),
  };
}

const form = (params: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  body: new URLSearchParams(params).toString(),
});

/** The stored login's access token, renewed with its refresh token (and stored again) when it has expired. */
export async function loggedInAccessToken(baseUrl: string, file: string, login: StoredLogin & { url: string }): Promise<string> {
  if (login.expires_at - EXPIRY_MARGIN_SECONDS > Date.now() / 1000) return login.access_token;
  if (!login.refresh_token) throw new CliError(`the admin login for ${login.url} has expired: run 'authly admin login' again`);
  const { status, body } = await send(baseUrl + ROUTES.token, form({ grant_type: 'refresh_token', refresh_token: login.refresh_token, client_id: CLI_CLIENT_ID }));
  const token = body as TokenBody | undefined;
  if (status !== 200 || typeof token?.access_token !== 'string') {
    throw new CliError(`the admin login for ${login.url} has ended (${describeError(status, body)}): run 'authly admin login' again`);
  }
  const { url, ...previous } = login;
  const renewed = storedFrom(token, previous);
  writeLogins(file, { ...readLogins(file), [url]: renewed });
  return renewed.access_token;
}

/** `authly admin login [--print]`: returns the exit code. */
export async function runLogin(io: CliIo, options: { url: string; print: boolean }): Promise<number> {
  const { url, print } = options;
  const file = print ? undefined : loginFile(io.env);
  if (!print && !file) throw new CliError('no home folder to store the login in (set HOME or XDG_CONFIG_HOME), or use --print');

  // RFC 8628 section 3.1: the device authorization request, as the public client authly-cli.
  const started = await send(url + ROUTES.deviceAuthorization, form({ client_id: CLI_CLIENT_ID, scope: CLI_LOGIN_SCOPE }));
  if (started.status === 404) throw new CliError(`${url} does not offer the device authorization grant (DEVICE_GRANT_ENABLED=false)`);
  const device = started.body as { device_code?: unknown; user_code?: unknown; verification_uri?: unknown; verification_uri_complete?: unknown; interval?: unknown } | undefined;
  if (started.status !== 200 || typeof device?.device_code !== 'string' || typeof device.user_code !== 'string') {
    throw new CliError(`cannot start the login: ${describeError(started.status, started.body)}`);
  }
  // Section 3.3: what the person does. On stderr, so that --print leaves stdout to the token alone.
  io.stderr.write(
    `To sign in, open ${String(device.verification_uri)} in a browser and enter the code ${device.user_code}\n` +
      (typeof device.verification_uri_complete === 'string' ? `(or open ${device.verification_uri_complete})\n` : '') +
      'Check that the page shows the same code. Waiting for approval...\n',
  );

  // Section 3.4/3.5: poll at the interval, 5 s slower after each slow_down, until approved, denied or expired.
  let interval = typeof device.interval === 'number' && device.interval > 0 ? device.interval : 5;
  for (;;) {
    await sleep(interval * 1000);
    const { status, body } = await send(url + ROUTES.token, form({ grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: CLI_CLIENT_ID }));
    const token = (body ?? {}) as TokenBody;
    if (status === 200 && typeof token.access_token === 'string') {
      const login = storedFrom(token);
      if (!parseScope(login.scope).some(isAdminScope)) {
        throw new CliError(`${login.user ?? 'the user who approved'} is not an administrator: the token holds no admin scope`);
      }
      if (print) {
        io.stdout.write(`${login.access_token}\n`);
        io.stderr.write(`Signed in as ${login.user ?? 'an administrator'}; the token expires at ${new Date(login.expires_at * 1000).toISOString()}.\n`);
      } else {
        writeLogins(file!, { ...readLogins(file!), [url]: login });
        io.stderr.write(`Signed in to ${url} as ${login.user ?? 'an administrator'}; admin commands use this login (stored in ${file}). 'authly admin logout' ends it.\n`);
      }
      return 0;
    }
    if (token.error === 'authorization_pending') continue;
    if (token.error === 'slow_down') {
      interval += 5;
      continue;
    }
    if (token.error === 'access_denied') throw new CliError('the login was denied in the browser');
    if (token.error === 'expired_token') throw new CliError("the code expired before it was approved: run 'authly admin login' again");
    throw new CliError(`the login failed: ${describeError(status, body)}`);
  }
}

/** `authly admin logout`: revokes the stored refresh token (RFC 7009; its whole family ends) and forgets the login. */
export async function runLogout(io: CliIo, options: { url: string }): Promise<number> {
  const stored = findStoredLogin(io.env, options.url);
  if (!stored) {
    io.stderr.write(`Not logged in to ${options.url}.\n`);
    return 0;
  }
  const { file, login } = stored;
  if (login.refresh_token) {
    const { status, body } = await send(options.url + ROUTES.revocation, form({ token: login.refresh_token, token_type_hint: 'refresh_token', client_id: CLI_CLIENT_ID }));
    if (status !== 200) io.stderr.write(`warning: the server did not revoke the login (${describeError(status, body)}); forgetting it anyway\n`);
  }
  const logins = readLogins(file);
  delete logins[options.url];
  if (Object.keys(logins).length === 0) rmSync(file, { force: true });
  else writeLogins(file, logins);
  io.stderr.write(`Logged out of ${options.url}.\n`);
  return 0;
}
