import type { Db, Queryable } from '../db/db.js';
import {
  deleteConsentsWithoutGrants,
  deleteIdleRegisteredClients,
  deleteDeadGrants,
  deleteExpiredAccessTokens,
  deleteExpiredAuthorizationCodes,
  deleteExpiredInteractions,
  deleteExpiredRefreshTokens,
  deleteExpiredSessions,
  deleteStaleAuthFailures,
} from '../repositories/cleanup-repository.js';
import { tryLockCleanup, unlockCleanup } from '../repositories/locks-repository.js';
import { deleteExpiredActionTokens } from '../repositories/user-action-tokens-repository.js';
import { deleteExpiredUsedJtis } from '../repositories/used-jtis-repository.js';
import { deleteExpiredPushedAuthorizationRequests } from '../repositories/pushed-authorization-requests-repository.js';
import { deleteExpiredDeviceAuthorizations } from '../repositories/device-authorizations-repository.js';
import { deleteOldAuditEvents } from '../repositories/audit-events-repository.js';
import type { ServiceContext } from './context.js';
import { maintainKeys } from './key-rotation.js';

/** Rows per DELETE statement: small enough to keep locks and WAL bursts short. */
export const DEFAULT_CLEANUP_BATCH_SIZE = 1000;

export const CLEANUP_TABLES = [
  'clients',
  'authorization_codes',
  'access_tokens',
  'refresh_tokens',
  'sessions',
  'interactions',
  'auth_failures',
  'grants',
  'consents',
  'user_action_tokens',
  'used_jtis',
  'pushed_authorization_requests',
  'device_authorizations',
  'audit_events',
] as const;
export type CleanupTable = (typeof CLEANUP_TABLES)[number];

export interface CleanupResult {
  /** True when another run (another replica, or this process) held the lock: nothing was done. */
  skipped: boolean;
  deleted: Record<CleanupTable, number>;
}

export interface CleanupLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

type Ctx = Pick<ServiceContext, 'db' | 'config'> & Partial<Pick<ServiceContext, 'metrics' | 'keys' | 'audit' | 'clients'>>;

/**
 * Idle dynamic and metadata-document clients (DYNAMIC_CLIENT_IDLE_DAYS; 0 keeps them), each dropped from
 * the client cache on every replica and audited as `client.expired`.
 */
async function deleteIdleClients(ctx: Ctx, conn: Queryable, batch: number): Promise<number> {
  if (ctx.config.dynamicClientIdleDays === 0) return 0;
  const ids = await deleteIdleRegisteredClients(conn, batch, ctx.config.dynamicClientIdleDays);
  for (const clientId of ids) {
    await ctx.clients?.invalidate(clientId);
    ctx.audit?.record('client.expired', { client_id: clientId, reason: 'idle' });
  }
  return ids.length;
}

/**
 * In order: idle clients first (their codes, tokens and grants go with them), then tokens and codes, so
 * the grants they held become deletable in the same run, and grants before consents for the same reason.
 */
function steps(ctx: Ctx): [CleanupTable, (conn: Queryable, batch: number) => Promise<number>][] {
  const { refreshTokenTtlSeconds: retention, lockoutDurationSeconds: window } = ctx.config;
  return [
    ['clients', (conn, batch) => deleteIdleClients(ctx, conn, batch)],
    ['authorization_codes', (conn, batch) => deleteExpiredAuthorizationCodes(conn, batch, retention)],
    ['access_tokens', deleteExpiredAccessTokens],
    ['refresh_tokens', deleteExpiredRefreshTokens],
    ['sessions', deleteExpiredSessions],
    ['interactions', deleteExpiredInteractions],
    ['auth_failures', (conn, batch) => deleteStaleAuthFailures(conn, batch, window)],
    ['grants', (conn, batch) => deleteDeadGrants(conn, batch, retention)],
    ['consents', (conn, batch) => deleteConsentsWithoutGrants(conn, batch, retention)],
    ['user_action_tokens', deleteExpiredActionTokens],
    ['used_jtis', deleteExpiredUsedJtis],
    ['pushed_authorization_requests', deleteExpiredPushedAuthorizationRequests],
    ['device_authorizations', deleteExpiredDeviceAuthorizations],
    // The audit trail's retention (AUDIT_RETENTION_DAYS; 0 keeps every event).
    ['audit_events', (conn, batch) => (ctx.config.audit.retentionDays === 0 ? Promise.resolve(0) : deleteOldAuditEvents(conn, batch, ctx.config.audit.retentionDays))],
  ];
}

const zeroCounts = (): Record<CleanupTable, number> =>
  Object.fromEntries(CLEANUP_TABLES.map((table) => [table, 0])) as Record<CleanupTable, number>;

// PGlite has one session, where an advisory lock is re-entrant: this guard keeps two runs in one process
// apart, the advisory lock keeps replicas apart.
const running = new WeakSet<Db>();

/**
 * Deletes expired and unusable rows in bounded batches, each table until a batch comes back short. Safe
 * with several replicas: a session advisory lock on one dedicated connection lets one run at a time, and a
 * run that finds it taken skips (`skipped: true`). Counts go to the log (`cleanup.completed`) and to
 * authly_cleanup_deleted_total.
 */
export async function runCleanup(
  ctx: Ctx,
  options: { batchSize?: number; log?: CleanupLogger } = {},
): Promise<CleanupResult> {
  const batch = options.batchSize ?? DEFAULT_CLEANUP_BATCH_SIZE;
  const deleted = zeroCounts();
  if (running.has(ctx.db)) return skipped(options.log, deleted);
  running.add(ctx.db);
  const started = Date.now();
  try {
    const locked = await ctx.db.withConnection(async (conn) => {
      if (!(await tryLockCleanup(conn))) return false;
      try {
        for (const [table, remove] of steps(ctx)) {
          for (;;) {
            const n = await remove(conn, batch);
            deleted[table] += n;
            if (n < batch) break;
          }
        }
        // Signing-key rotation steps (src/tokens/key-lifecycle.ts) under the same lock: one replica acts.
        if (ctx.keys) await maintainSigningKeys({ ...ctx, keys: ctx.keys }, options.log);
      } finally {
        await unlockCleanup(conn);
      }
      return true;
    });
    if (!locked) return skipped(options.log, deleted);
  } finally {
    running.delete(ctx.db);
  }
  for (const table of CLEANUP_TABLES) if (deleted[table] > 0) ctx.metrics?.cleanupDeleted.inc({ table }, deleted[table]);
  options.log?.info({ event: 'cleanup.completed', deleted, durationMs: Date.now() - started }, 'cleanup completed');
  return { skipped: false, deleted };
}

async function maintainSigningKeys(ctx: Ctx & Pick<ServiceContext, 'keys'>, log: CleanupLogger | undefined): Promise<void> {
  const { changes } = await maintainKeys(ctx);
  for (const change of changes) ctx.audit?.record('keys.changed', { kid: change.kid, reason: change.kind });
  if (changes.length > 0) log?.info({ event: 'keys.maintained', changes }, 'signing keys rotated');
}

function skipped(log: CleanupLogger | undefined, deleted: Record<CleanupTable, number>): CleanupResult {
  log?.info({ event: 'cleanup.skipped' }, 'cleanup skipped: another run holds the lock');
  return { skipped: true, deleted };
}
