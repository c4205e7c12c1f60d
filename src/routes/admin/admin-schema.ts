import { z } from 'zod';
import type { AdminRequirement } from '../../services/admin/admin-authorization.js';

/**
 * Each admin route states its operation ONCE, next to its handler: the scope it needs, the zod schemas of
 * its path, query and body (the same constants the handler parses with parseInput), its success responses
 * and the errors it can answer. admin-openapi.ts turns these into the OpenAPI 3.1 document.
 *
 * The schemas sit under the route's `config.openapi`, not its `schema`, on purpose: Fastify never compiles
 * them. Input is still validated by the handlers' zod parsing (validation_failed bodies naming each field),
 * and responses are serialized by JSON.stringify as before, byte for byte (fast-json-stringify would drop
 * fields the schema does not list, hiding drift instead of failing the OpenAPI test).
 *
 * How to declare a route (also for routes written without it):
 *
 *   app.get('/things/:id', adminRoute({
 *     scope: 'admin:things:read',           // what `config.adminScope` said
 *     summary: 'Show a thing',
 *     tags: ['things'],
 *     params: z.object({ id: z.string() }), // documentation only: the router hands params over as strings
 *     query: listQuery,                     // the handler's own zod constant
 *     responses: { 200: thingView },        // zod schema of the body; null for an empty body (204)
 *     errors: ['not_found'],                // beyond the ones every admin operation has (see ERRORS_OF_EVERY)
 *   }), handler);
 *
 * A route without adminRoute is left out of the document, and test/http/admin/openapi.test.ts fails.
 */

/** The error responses of components.responses (admin-openapi.ts writes each once). */
export const ADMIN_ERRORS = [
  'validation_failed',
  'invalid_token',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'temporarily_unavailable',
] as const;
export type AdminErrorName = (typeof ADMIN_ERRORS)[number];

/** A success response: its body (null: none) and, when it matters, a description and headers. */
export interface AdminResponse {
  body: z.ZodType | null;
  description?: string;
  headers?: Record<string, { description: string }>;
}

export interface AdminOperation {
  /** The admin scope the bearer token needs (admin-auth.ts); every admin route checks one. */
  scope: AdminRequirement;
  summary: string;
  description?: string;
  tags: string[];
  /** Defaults to the method and path in camelCase (getClientsClientId). */
  operationId?: string;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, z.ZodType | null | AdminResponse>;
  errors?: AdminErrorName[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI operation (adminRoute); read by the document builder only. */
    openapi?: AdminOperation;
  }
}

/** Route options for an admin route: the token check's scope and the operation, stated once. */
export function adminRoute(op: AdminOperation): { config: { adminScope: AdminRequirement; openapi: AdminOperation } } {
  return { config: { adminScope: op.scope, openapi: op } };
}

/**
 * Marks a z.preprocess schema that also takes a whole number for its digits (the CLI sends strings, JSON
 * clients numbers): zod can only document the string after the preprocess, so the document builder adds the
 * number (admin-openapi.ts).
 */
export const WHOLE_NUMBER_TOO = 'x-authly-whole-number-too';
export const alsoWholeNumbers = <S extends z.ZodType>(schema: S): S => schema.meta({ [WHOLE_NUMBER_TOO]: true });

// --- Response bodies shared by several operations ---------------------------------------------------------

/** Timestamps are ISO 8601 in UTC (toWire turns every Date into toISOString()). */
export const timestamp = z.iso.datetime();

/** The page shape of every admin list (admin-wire.ts page()). */
export const pageOf = (item: z.ZodType) =>
  z.strictObject({
    items: z.array(item),
    limit: z.number().int().min(0),
    next_cursor: z.string().nullable().describe('the cursor of the next page; null on the last page'),
  });

/** The admin API's error body (src/errors/admin-errors.ts). */
export const adminErrorBody = z.strictObject({
  error: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.string()).optional().describe('each refused field, by its path (redirect_uris.0), with the reason'),
});

/** The OAuth-shaped bodies the bearer check and the rate limiter answer with (RFC 6750 section 3, RFC 6749 section 5.2). */
export const oauthErrorBody = z.strictObject({ error: z.string(), error_description: z.string() });
