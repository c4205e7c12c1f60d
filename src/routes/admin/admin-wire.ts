import { z } from 'zod';
import { MAX_PATH_PARAM_LENGTH } from '../../config/input-limits.js';
import { ValidationFailed } from '../../errors/admin-errors.js';
import { decodeCursor, encodeCursor } from '../../lib/page-key.js';
import { canonicalResourceIdentifier, MAX_RESOURCE_IDENTIFIER_LENGTH } from '../../lib/resource-identifier.js';
import { informationalUrl } from '../../services/admin/client-registration-rules.js';
import type { Page, PageRequest } from '../../services/admin/pagination.js';

/**
 * The admin API's wire format: snake_case names (RFC 7591 for clients, OIDC Core claims for users),
 * ISO 8601 timestamps, and zod at the edge turning bad input into a validation_failed body.
 */

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
export type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `{ client_name: x }` → `{ clientName: x }`, one level deep (nested objects such as address keep their names). */
export function camelKeys<T extends object>(input: T): CamelKeys<T> {
  return Object.fromEntries(Object.entries(input).map(([key, value]) => [camel(key), value])) as CamelKeys<T>;
}

/** Only the listed fields, in snake_case, with Dates as ISO strings: an allowlist, so hashes never leak. */
export function toWire<T extends object>(record: T, fields: readonly (keyof T & string)[]): Record<string, unknown> {
  return Object.fromEntries(
    fields.map((field) => {
      const value = record[field];
      return [snake(field), value instanceof Date ? value.toISOString() : value];
    }),
  );
}

function reason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'required';
  return issue.message.replace(/^Invalid (input|option): /, '');
}

/**
 * Parses `input` or throws ValidationFailed naming each bad field once (`redirect_uris.0`, `limit`, …).
 * NUL, text that is not UTF-8 and over-long strings never get here: the edge guard refused them
 * (src/http/input-guard.ts).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const message = where === 'body' ? 'the request body is not valid' : 'the query parameters are not valid';
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[path ? `${path}.${key}` : key] ??= 'unknown field';
    } else {
      fields[path || where] ??= reason(issue);
    }
  }
  throw new ValidationFailed(fields, message);
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { message: `expected at least ${min}` }).max(max, { message: `expected at most ${max}` }));

export const MAX_PAGE_SIZE = 200;

/** An opaque cursor (src/lib/page-key.ts): the key inside is checked against the list's shape later. */
const cursor = z
  .string()
  .max(4096)
  .transform((value, ctx) => {
    const key = decodeCursor(value);
    if (key === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not a valid cursor' });
      return z.NEVER;
    }
    return key;
  });

/** Every list's query: `limit` (1 to 200, default 50) and `cursor` (the `next_cursor` of the page before). */
export const pageQuery = {
  limit: wholeNumber(1, MAX_PAGE_SIZE).default(50).describe(`items per page, 1 to ${MAX_PAGE_SIZE} (default 50)`),
  cursor: cursor.optional().describe('the next_cursor of the page before'),
};

/** The page shape of every admin list: `{ items, limit, next_cursor }`, next_cursor null on the last page. */
export function page<T>(result: Page<T>, request: PageRequest, present: (item: T) => unknown) {
  return { items: result.items.map(present), limit: request.limit, next_cursor: result.next ? encodeCursor(result.next) : null };
}

/** Absolute http(s) URLs for informational links (client_uri, logo_uri, picture, …): the registration rule. */
export const httpUrl = informationalUrl;

/** A single-line human text (names), trimmed. */
export const text = (max = 255) => z.string().trim().min(1, { message: 'must not be empty' }).max(max);

/** Arrays where a repeated value means nothing: keep the first occurrence. */
export const uniqueArray = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .transform((values) => [...new Set(values)]);

/**
 * A resource identifier (RFC 8707 section 2), in canonical form (src/lib/resource-identifier.ts), so any
 * accepted spelling names the same resource. At most MAX_PATH_PARAM_LENGTH characters: a registered
 * identifier must fit, percent-encoded, in /admin/resources/:identifier.
 */
export const resourceIdentifier = z
  .string()
  .max(MAX_RESOURCE_IDENTIFIER_LENGTH)
  .transform((value, ctx) => {
    const result = canonicalResourceIdentifier(value);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: `${result.reason} (RFC 8707 section 2)` });
      return z.NEVER;
    }
    if (result.identifier.length > MAX_PATH_PARAM_LENGTH) {
      ctx.addIssue({ code: 'custom', message: `expected at most ${MAX_PATH_PARAM_LENGTH} characters in canonical form` });
      return z.NEVER;
    }
    return result.identifier;
  });
