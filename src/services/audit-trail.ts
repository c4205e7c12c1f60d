import type { Cache } from '../cache/cache-hub.js';
import type { Queryable } from '../db/db.js';
import { transactionScope } from '../db/transaction-scope.js';
import { auditDiff, type Changes, type Snapshot } from '../lib/audit-diff.js';
import { insertAuditEvents, type NewAuditEvent } from '../repositories/audit-events-repository.js';
import { SNAPSHOTS, snapshotAllKeys, type SnapshotKind } from './admin/audit-snapshots.js';
import type { AuditEvent, AuditFields, AuditOrigin } from './audit.js';
import type { ServiceContext } from './context.js';

/**
 * The audit trail as data (issue 14 §2): every audit event is also a row of `audit_events`. An admin
 * write and its row commit together (`runAudited`): none is lost (the change cannot commit without its
 * row) and none is invented (the row cannot commit without its change). Other events go through the
 * batched writer (src/services/audit-writer.ts).
 */

/** The columns of a row; the event's other identifiers (scope, reason, grant_id, kid, ...) go to `details`. */
export function auditRow(event: AuditEvent, fields: AuditFields, origin: AuditOrigin, extra: { subject?: string | undefined; changes?: Changes | null; occurredAt?: Date } = {}): NewAuditEvent {
  const { actor, actor_type, client_id, subject, ...rest } = fields;
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) details[key] = value;
  return {
    occurredAt: extra.occurredAt,
    event,
    actor: actor ?? null,
    actorType: actor_type ?? null,
    clientId: client_id ?? null,
    subject: extra.subject ?? subject ?? fields.user_id ?? null,
    ip: origin.ip ?? null,
    requestId: origin.request_id ?? null,
    details,
    changes: extra.changes ?? null,
  };
}

/** What an admin write is about: its kind, and its id (known before the write, or only from its result). */
export type AuditTarget<T> = { kind: SnapshotKind; id: string } | { kind: SnapshotKind; idOf: (result: T, fields: AuditFields) => string };

/** One event of an admin write: the log line's fields, and the id of its target when there is one. */
export interface AuditedEvent {
  event: AuditEvent;
  fields: AuditFields;
}

/**
 * A view of `ctx` whose database is the transaction `tx`, whose caches read through to it (a value read
 * before the commit must not be cached for others) and whose invalidations, key reloads and change
 * signals wait in `afterCommit` until the transaction is over.
 */
export function scopedContext(ctx: ServiceContext, tx: Queryable, afterCommit: (step: () => Promise<void>) => void): ServiceContext {
  const db = transactionScope(ctx.db, tx);
  const deferring = <V>(cache: Cache<V>): Cache<V> => {
    const view = Object.create(cache) as Cache<V>;
    view.get = (_key, load) => load();
    view.invalidate = (key) => {
      afterCommit(() => cache.invalidate(key));
      return Promise.resolve();
    };
    return view;
  };
  return {
    ...ctx,
    db,
    clients: deferring(ctx.clients),
    scopes: deferring(ctx.scopes),
    resources: deferring(ctx.resources),
    keys: ctx.keys.within(db, afterCommit),
  };
}

/**
 * Runs `work` on a context bound to one transaction, takes before/after snapshots of `target` in it,
 * inserts one row per event of `describe(result)` and commits. If anything throws (the work, a snapshot,
 * the insert), everything rolls back and the error propagates. Deferred cache invalidations and key
 * signals run once the transaction is over, committed or not (an invalidation is harmless either way).
 */
export async function runAudited<T>(
  ctx: ServiceContext,
  origin: AuditOrigin,
  work: (scoped: ServiceContext) => Promise<T>,
  describe: (result: T) => AuditedEvent[],
  target?: AuditTarget<T>,
): Promise<{ result: T; events: AuditedEvent[] }> {
  const after: (() => Promise<void>)[] = [];
  try {
    return await ctx.db.transaction(async (tx) => {
      const scoped = scopedContext(ctx, tx, (step) => after.push(step));
      const spec = target && SNAPSHOTS[target.kind];
      let before: Map<string, Snapshot> | Snapshot | undefined;
      if (target && 'id' in target) before = await spec!.read(tx, target.id);
      else if (target?.kind === 'key') before = await snapshotAllKeys(tx);
      const result = await work(scoped);
      const events = describe(result);
      const rows: NewAuditEvent[] = [];
      for (const { event, fields } of events) {
        let subject: string | undefined;
        let changes: Changes | null = null;
        if (target && spec) {
          subject = 'id' in target ? target.id : target.idOf(result, fields);
          const was = before instanceof Map ? before.get(subject) : before;
          changes = auditDiff(was, await spec.read(tx, subject), spec.fields);
        }
        rows.push(auditRow(event, fields, origin, { subject, changes }));
      }
      await insertAuditEvents(tx, rows);
      return { result, events };
    });
  } finally {
    for (const step of after) await step().catch(() => undefined);
  }
}
