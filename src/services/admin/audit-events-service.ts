import { listAuditEvents, type AuditEventFilter, type AuditEventRow } from '../../repositories/audit-events-repository.js';
import type { ServiceContext } from '../context.js';
import type { Page, PageRequest } from './pagination.js';

type Ctx = Pick<ServiceContext, 'db'>;

/** Rows per query of an export: the export walks the whole trail by keyset, one batch in memory at a time. */
export const EXPORT_BATCH = 500;

/** A page of stored audit events, newest first. */
export function listAuditEventPage(ctx: Ctx, filter: AuditEventFilter, page: PageRequest): Promise<Page<AuditEventRow>> {
  return listAuditEvents(ctx.db, filter, page);
}

/** Every matching event, newest first, fetched EXPORT_BATCH at a time (never all rows at once). */
export async function* exportAuditEvents(ctx: Ctx, filter: AuditEventFilter): AsyncGenerator<AuditEventRow> {
  let cursor: Page<AuditEventRow>['next'] | undefined;
  do {
    const page = await listAuditEvents(ctx.db, filter, { limit: EXPORT_BATCH, cursor: cursor ?? undefined });
    yield* page.items;
    cursor = page.next;
  } while (cursor !== null);
}
