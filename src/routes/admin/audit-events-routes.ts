import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditEventFilter, AuditEventRow } from '../../repositories/audit-events-repository.js';
import { exportAuditEvents, listAuditEventPage } from '../../services/admin/audit-events-service.js';
import { page, pageQuery, parseInput } from './admin-wire.js';

const identifier = z.string().min(1).max(1024);
/** RFC 3339 section 5.6 date-time, with an offset (Z or ±hh:mm). */
const instant = z.iso.datetime({ offset: true, message: 'expected an RFC 3339 date-time' }).transform((value) => new Date(value));
/** An event name (`admin.client.updated`) or a prefix ending in `*` (`admin.client.*`). */
const eventName = z.string().regex(/^[a-z_.]{1,100}\*?$/, { message: 'expected an event name, or a prefix ending in *' });

const filterQuery = {
  event: eventName.optional(),
  actor: identifier.optional(),
  subject: identifier.optional(),
  client_id: identifier.optional(),
  request_id: identifier.optional(),
  since: instant.optional(),
  until: instant.optional(),
  format: z.enum(['json', 'jsonl']).default('json'),
};

/** The route's schemas, for the admin API's OpenAPI document. */
export const auditEventsSchemas = {
  query: z.strictObject({ ...filterQuery, ...pageQuery }),
  item: z.object({
    id: z.uuid(),
    occurred_at: z.iso.datetime(),
    event: z.string(),
    actor: z.string().nullable(),
    actor_type: z.enum(['user', 'client']).nullable(),
    client_id: z.string().nullable(),
    subject: z.string().nullable(),
    ip: z.string().nullable(),
    request_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    changes: z.record(z.string(), z.unknown()).nullable(),
  }),
};

export const presentAuditEvent = (row: AuditEventRow): z.infer<typeof auditEventsSchemas.item> => ({
  id: row.id,
  occurred_at: row.occurredAt.toISOString(),
  event: row.event,
  actor: row.actor,
  actor_type: row.actorType,
  client_id: row.clientId,
  subject: row.subject,
  ip: row.ip,
  request_id: row.requestId,
  details: row.details,
  changes: row.changes,
});

function filterOf(query: z.output<typeof auditEventsSchemas.query>): AuditEventFilter {
  const prefix = query.event?.endsWith('*') ?? false;
  return {
    event: prefix ? query.event!.slice(0, -1) : query.event,
    eventPrefix: prefix,
    actor: query.actor,
    subject: query.subject,
    clientId: query.client_id,
    requestId: query.request_id,
    since: query.since,
    until: query.until,
  };
}

/**
 * The audit trail (issue 14 §2): read-only, `admin:audit:read`. JSON pages like every admin list;
 * `format=jsonl` streams every matching event as JSON lines (newest first, fetched by keyset in batches,
 * never buffered whole), for export into another system.
 */
export async function auditEventsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:audit:read' as const } };

  app.get('/audit-events', read, async (request, reply) => {
    const query = parseInput(auditEventsSchemas.query, request.query, 'query');
    const filter = filterOf(query);
    if (query.format === 'jsonl') {
      const lines = async function* () {
        for await (const row of exportAuditEvents(ctx, filter)) yield `${JSON.stringify(presentAuditEvent(row))}\n`;
      };
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    }
    return page(await listAuditEventPage(ctx, filter, query), query, presentAuditEvent);
  });
}
