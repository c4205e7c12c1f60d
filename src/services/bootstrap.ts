import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Queryable } from '../db/db.js';
import { isUniqueViolation } from '../errors/storage-errors.js';
import { randomToken } from '../lib/crypto.js';
import { findClient, findClientForUpdate, insertClient, updateClient, type Client, type ClientChanges, type NewClient } from '../repositories/clients-repository.js';
import { lockBootstrap } from '../repositories/locks-repository.js';
import { findUserByUsername, insertUser, updateUser } from '../repositories/users-repository.js';
import { ACCOUNT_CLIENT_ID, ensureAccountClient } from './account/account-client.js';
import { CLI_CLIENT_ID, ensureCliClient } from './admin/cli-client.js';
import { CONSOLE_CLIENT_ID, ensureConsoleClient } from './admin/console-client.js';
import { hashClientSecret, verifyClientSecret } from './client-authentication.js';
import { CLIENT_DEFAULTS } from './admin/client-admin-service.js';
import type { ServiceContext } from './context.js';
import { hashPassword } from './password-hasher.js';

/** What start-up bootstrap did, for the start-up banner. */
export interface BootstrapReport {
  adminClientId?: string;
  /** Set only when development credentials were generated on this start (printed once). */
  generatedClientSecret?: string;
  credentialsFile?: string;
}

export type BootstrapContext = Pick<ServiceContext, 'config' | 'db' | 'clientSecretKey'> & Partial<Pick<ServiceContext, 'clients'>>;

/** The development admin client's id, and the file its credentials are written to in AUTHLY_DATA_DIR. */
export const DEV_ADMIN_CLIENT_ID = 'authly-admin-dev';
export const CREDENTIALS_FILE_NAME = 'admin-credentials.json';

export interface CredentialsFile {
  url?: string;
  client_id: string;
  client_secret: string;
}

/**
 * Runs on every start and is idempotent. Replicas starting at once serialize on an advisory lock held for
 * the transaction, so the second one sees what the first created.
 *
 * - AUTHLY_ADMIN_CLIENT_ID/SECRET: that confidential client_credentials client with scope authly:admin
 *   exists, and its stored hash matches the configured secret (changing the variable rotates the secret).
 *   Its whole definition (active, scope, grant types, auth method, secret) is restored on every start, so
 *   the configured credentials always work after a restart whatever was changed through the admin API;
 *   only descriptive fields (name, URIs, contacts, token format) keep an administrator's edits.
 * - AUTHLY_ADMIN_USERNAME/PASSWORD (and EMAIL): that user exists and is an administrator. The password
 *   and email are set only when the user is created: a password changed later through the admin API is
 *   not overwritten on the next start. To reset it, use `authly admin user set-password`.
 * - Development with AUTHLY_BOOTSTRAP_DEV_MODE and no configured admin client: a client
 *   `authly-admin-dev` whose credentials are written to AUTHLY_DATA_DIR/admin-credentials.json (mode
 *   0600) on first start and reused after; if the file is lost or stale, the secret is rotated and the
 *   file rewritten.
 * - Always: the account page's built-in client `authly-account` (src/services/account/account-client.ts)
 *   exists with its whole definition restored, and so do `authly admin login`'s `authly-cli`
 *   (src/services/admin/cli-client.ts) and the web console's `authly-console` (console-client.ts).
 */
export async function bootstrap(ctx: BootstrapContext): Promise<BootstrapReport> {
  const { admin } = ctx.config;
  const devMode = ctx.config.environment === 'development' && admin.bootstrapDevMode && !admin.clientId;

  let accountClientChanged = false;
  let cliClientChanged = false;
  let consoleClientChanged = false;
  const ensured = await ctx.db.transaction(async (tx) => {
    await lockBootstrap(tx);
    accountClientChanged = await ensureAccountClient(tx, ctx.config.issuer);
    cliClientChanged = await ensureCliClient(tx);
    consoleClientChanged = await ensureConsoleClient(tx, ctx.config.issuer);
    let report: BootstrapReport = {};
    if (admin.clientId && admin.clientSecret) {
      await ensureAdminClient(tx, ctx.clientSecretKey, admin.clientId, admin.clientSecret);
      report.adminClientId = admin.clientId;
    }
    if (admin.username && admin.password) await ensureAdminUser(tx, admin.username, admin.password, admin.email);
    if (devMode) report = { ...report, ...(await ensureDevCredentials(tx, ctx)) };
    return report;
  });
  // This start may have given the admin client a new secret that other replicas still hold in their
  // client cache (sent once Redis is reachable, src/cache/cache-hub.ts).
  if (ensured.adminClientId) await ctx.clients?.invalidate(ensured.adminClientId);
  if (accountClientChanged) await ctx.clients?.invalidate(ACCOUNT_CLIENT_ID);
  if (cliClientChanged) await ctx.clients?.invalidate(CLI_CLIENT_ID);
  if (consoleClientChanged) await ctx.clients?.invalidate(CONSOLE_CLIENT_ID);
  return ensured;
}

/** The fields that make the bootstrap client work as the operator's admin credential. */
const ADMIN_CLIENT_DEFINITION = {
  clientType: 'confidential',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  responseTypes: [],
  redirectUris: [],
  postLogoutRedirectUris: [],
  scope: 'authly:admin',
  isActive: true,
} satisfies Partial<Client>;

function adminClient(clientId: string, clientSecretHash: string): NewClient {
  return { ...CLIENT_DEFAULTS, clientId, clientSecretHash, clientName: 'Authly admin', ...ADMIN_CLIENT_DEFINITION };
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Creates the admin client, or restores its definition and gives it this secret: only what differs is
 * written, so an unchanged client keeps its updated_at and a restart with the same settings writes nothing.
 */
async function ensureAdminClient(tx: Queryable, key: Buffer, clientId: string, secret: string): Promise<void> {
  const hash = hashClientSecret(key, secret);
  const existing = await findClientForUpdate(tx, clientId);
  if (!existing) {
    await insertClient(tx, adminClient(clientId, hash));
    return;
  }
  const changes: ClientChanges = Object.fromEntries(
    Object.entries(ADMIN_CLIENT_DEFINITION).filter(([field, value]) => !sameValue(existing[field as keyof Client], value)),
  );
  if (!verifyClientSecret(key, secret, existing.clientSecretHash)) changes.clientSecretHash = hash;
  if (Object.keys(changes).length > 0) await updateClient(tx, clientId, changes);
}

async function ensureAdminUser(tx: Queryable, username: string, password: string, email: string | undefined): Promise<void> {
  const existing = await findUserByUsername(tx, username);
  if (existing) {
    if (!existing.isAdmin) await updateUser(tx, existing.id, { isAdmin: true });
    return;
  }
  try {
    await insertUser(tx, { username, email: email ?? null, passwordHash: await hashPassword(password), isAdmin: true });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new Error(`bootstrap: cannot create the admin user ${username}: its email is used by another user`);
    }
    throw err;
  }
}

export function credentialsFilePath(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, CREDENTIALS_FILE_NAME);
}

export function readCredentialsFile(file: string): CredentialsFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CredentialsFile>;
    if (typeof parsed.client_id === 'string' && typeof parsed.client_secret === 'string') {
      return { ...(typeof parsed.url === 'string' ? { url: parsed.url } : {}), client_id: parsed.client_id, client_secret: parsed.client_secret };
    }
  } catch {
    // Missing or unreadable: treated as lost.
  }
  return undefined;
}

/** Written to a temporary file and renamed, so a crash never leaves a half-written credentials file. */
function writeCredentialsFile(file: string, credentials: CredentialsFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomToken(6)}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

async function ensureDevCredentials(tx: Queryable, ctx: BootstrapContext): Promise<BootstrapReport> {
  const file = credentialsFilePath(ctx.config);
  const clientId = DEV_ADMIN_CLIENT_ID;
  const existing = await findClient(tx, clientId);
  const saved = readCredentialsFile(file);
  if (existing && saved?.client_id === clientId && verifyClientSecret(ctx.clientSecretKey, saved.client_secret, existing.clientSecretHash)) {
    // The saved secret still works; the rest of the definition is restored as for a configured client.
    await ensureAdminClient(tx, ctx.clientSecretKey, clientId, saved.client_secret);
    return { adminClientId: clientId, credentialsFile: file };
  }
  // First start, or the file was lost or no longer matches (e.g. a new server secret): a fresh secret.
  const secret = randomToken(32);
  await ensureAdminClient(tx, ctx.clientSecretKey, clientId, secret);
  // Written inside the transaction: if the commit then fails, the next start finds a stale file and rotates.
  writeCredentialsFile(file, { url: ctx.config.issuer, client_id: clientId, client_secret: secret });
  return { adminClientId: clientId, generatedClientSecret: secret, credentialsFile: file };
}
