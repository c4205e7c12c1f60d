import type { Queryable } from '../db/db.js';
import { Batcher } from '../lib/batcher.js';
import { insertAuditEvents, type NewAuditEvent } from '../repositories/audit-events-repository.js';
import type { AuditEvent, AuditFields, AuditOrigin } from './audit.js';
import { auditRow } from './audit-trail.js';

export interface AuditWriterOptions {
  /** AUDIT_STORE_TOKEN_EVENTS: token.issued is stored too (one row per token; off by default). */
  storeTokenEvents: boolean;
  /** Where a batch that could not be stored is reported (its events are still in the log). */
  onError: (err: unknown, events: number) => void;
}

/** Rows per INSERT: one statement, one commit for a burst of sign-ins. */
const MAX_BATCH = 500;

/**
 * Stores the events that are not admin writes (sign-in, consent, token, account, device, ...): `store`
 * only queues, and the queue is written in multi-row INSERTs at the next turn of the event loop
 * (src/lib/batcher.ts), so the request path gains no await. The price: a crash loses the events of the
 * last moment (they are in the log lines all the same); `close` writes what is queued (at shutdown).
 * Admin writes never come here: they are stored in their own transaction (src/services/audit-trail.ts).
 */
export class AuditWriter {
  private readonly batcher: Batcher<NewAuditEvent, void>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    db: Queryable,
    private readonly options: AuditWriterOptions,
  ) {
    this.batcher = new Batcher<NewAuditEvent, void>(
      async (rows) => {
        await insertAuditEvents(db, rows);
        return rows.map(() => undefined);
      },
      { maxBatch: MAX_BATCH, maxInFlight: 2 },
    );
  }

  /** AuditLog's store (src/services/audit.ts). */
  readonly store = (event: AuditEvent, fields: AuditFields, origin: AuditOrigin, at: Date): void => {
    if (event === 'token.issued' && !this.options.storeTokenEvents) return;
    const written: Promise<void> = this.batcher
      .add(auditRow(event, fields, origin, { occurredAt: at }))
      .catch((err: unknown) => this.options.onError(err, 1))
      .finally(() => this.pending.delete(written));
    this.pending.add(written);
  };

  /** Resolves once every event queued so far is written (or reported as failed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
