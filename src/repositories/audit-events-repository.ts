import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';

/** One stored audit event (migrations/20261206210000_create_audit_events.sql). */
export interface AuditEventRow {
  id: string;
  occurredAt: Date;
  event: string;
  actor: string | null;
  actorType: 'user' | 'client' | null;
  clientId: string | null;
  subject: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  changes: Record<string, unknown> | null;
}

/** What a writer stores; `occurredAt` undefined: the transaction's now(). */
export type NewAuditEvent = Omit<AuditEventRow, 'id' | 'occurredAt'> & { occurredAt?: Date | undefined };

export interface AuditEventFilter {
  /** An exact event name, or a prefix when `eventPrefix` is true. */
  event?: string | undefined;
  eventPrefix?: boolean | undefined;
  actor?: string | undefined;
  subject?: string | undefined;
  clientId?: string | undefined;
  requestId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

const COLUMNS = `id, occurred_at AS "occurredAt", event, actor, actor_type AS "actorType", client_id AS "clientId",
  subject, ip, request_id AS "requestId", details, changes`;

const NEWEST_FIRST = { key: [{ sql: 'occurred_at', part: 'timestamp' }, { sql: 'id', part: 'uuid' }], order: 'desc' } as const;

/** Many events in one multi-row INSERT (one round trip, one commit for a batch). */
export async function insertAuditEvents(db: Queryable, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const params: unknown[] = [];
  const values = events.map((e) => {
    const row = [
      e.occurredAt ?? null,
      e.event,
      e.actor,
      e.actorType,
      e.clientId,
      e.subject,
      e.ip,
      e.requestId,
      JSON.stringify(e.details),
      e.changes === null ? null : JSON.stringify(e.changes),
    ];
    const start = params.length;
    params.push(...row);
    const p = (i: number) => `$${start + i + 1}`;
    return `(coalesce(${p(0)}::timestamptz, now()), ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}::jsonb, ${p(9)}::jsonb)`;
  });
  await db.query(
    `INSERT INTO audit_events (occurred_at, event, actor, actor_type, client_id, subject, ip, request_id, details, changes)
     VALUES ${values.join(', ')}`,
    params,
  );
}

/** LIKE pattern for a prefix, its own % _ and \ taken literally. */
const startingWith = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** One page of events matching `filter`, newest first by (occurred_at, id). */
export function listAuditEvents(
  db: Queryable,
  filter: AuditEventFilter,
  page: { limit: number; cursor?: PageKey | undefined },
): Promise<KeysetPage<AuditEventRow>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.event !== undefined) {
    if (filter.eventPrefix) add((p) => `event LIKE ${p}`, startingWith(filter.event));
    else add((p) => `event = ${p}`, filter.event);
  }
  if (filter.actor !== undefined) add((p) => `actor = ${p}`, filter.actor);
  if (filter.subject !== undefined) add((p) => `subject = ${p}`, filter.subject);
  if (filter.clientId !== undefined) add((p) => `client_id = ${p}`, filter.clientId);
  if (filter.requestId !== undefined) add((p) => `request_id = ${p}`, filter.requestId);
  if (filter.since !== undefined) add((p) => `occurred_at >= ${p}::timestamptz`, filter.since);
  if (filter.until !== undefined) add((p) => `occurred_at < ${p}::timestamptz`, filter.until);
  return keysetPage<AuditEventRow>(db, { columns: COLUMNS, from: 'audit_events', where, params, ...NEWEST_FIRST }, page);
}

/** Events older than `days`, one bounded batch (src/repositories/cleanup-repository.ts's rule). */
export async function deleteOldAuditEvents(db: Queryable, batch: number, days: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM audit_events WHERE id IN
       (SELECT id FROM audit_events WHERE occurred_at < now() - make_interval(days => $2::int) ORDER BY occurred_at LIMIT $1)`,
    [batch, days],
  );
  return result.rowCount;
}
