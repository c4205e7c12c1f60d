import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Queryable } from '../db/db.js';
import { isUniqueViolation } from '../errors/storage-errors.js';
import { randomToken } from '../lib/crypto.js';
import { findClient, insertClient, updateClient, type Client } from '../repositories/clients-repository.js';
import { lockBootstrap } from '../repositories/locks-repository.js';
import { findUserByUsername, insertUser, updateUser } from '../repositories/users-repository.js';
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
 *   Its other fields are left alone once it exists, so an administrator may edit them.
 * - AUTHLY_ADMIN_USERNAME/PASSWORD (and EMAIL): that user exists and is an administrator. The password
 *   and email are set only when the user is created: a password changed later through the admin API is
 *   not overwritten on the next start. To reset it, use `authly admin user set-password`.
 * - Development with AUTHLY_BOOTSTRAP_DEV_MODE and no configured admin client: a client
 *   `authly-admin-dev` whose credentials are written to AUTHLY_DATA_DIR/admin-credentials.json (mode
 *   0600) on first start and reused after; if the file is lost or stale, the secret is rotated and the
 *   file rewritten.
 */
export async function bootstrap(ctx: BootstrapContext): Promise<BootstrapReport> {
  const { admin } = ctx.config;
  const devMode = ctx.config.environment === 'development' && admin.bootstrapDevMode && !admin.clientId;
  if (!admin.clientId && !admin.username && !devMode) return {};

  const ensured = await ctx.db.transaction(async (tx) => {
    await lockBootstrap(tx);
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
  return ensured;
}

function adminClient(clientId: string, clientSecretHash: string): Omit<Client, 'createdAt' | 'updatedAt'> {
  return {
    ...CLIENT_DEFAULTS,
    clientId,
    clientSecretHash,
    clientName: 'Authly admin',
    clientType: 'confidential',
    grantTypes: ['client_credentials'],
    responseTypes: [],
    scope: 'authly:admin',
  };
}

/** Creates the admin client, or gives the existing one this secret when its hash does not match. */
async function ensureAdminClient(tx: Queryable, key: Buffer, clientId: string, secret: string): Promise<void> {
  const hash = hashClientSecret(key, secret);
  const existing = await findClient(tx, clientId);
  if (!existing) {
    await insertClient(tx, adminClient(clientId, hash));
  } else if (!verifyClientSecret(key, secret, existing.clientSecretHash)) {
    await updateClient(tx, clientId, {
      clientSecretHash: hash,
      // A public client of that id becomes confidential: a secret and a public client cannot coexist.
      ...(existing.clientType === 'public' ? { clientType: 'confidential', tokenEndpointAuthMethod: 'client_secret_basic' } : {}),
    });
  }
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
    return { adminClientId: clientId, credentialsFile: file };
  }
  // First start, or the file was lost or no longer matches (e.g. a new server secret): a fresh secret.
  const secret = randomToken(32);
  await ensureAdminClient(tx, ctx.clientSecretKey, clientId, secret);
  // Written inside the transaction: if the commit then fails, the next start finds a stale file and rotates.
  writeCredentialsFile(file, { url: ctx.config.issuer, client_id: clientId, client_secret: secret });
  return { adminClientId: clientId, generatedClientSecret: secret, credentialsFile: file };
}
