/**
 * Keyset pagination's position: the sort key of the last item of the page before, as strings, carried by
 * the admin API as an opaque cursor (base64url of its JSON). A cursor is not a secret and not trusted: it
 * is decoded here and each part is checked against the list's key shape before it reaches SQL, so a
 * forged or foreign cursor is a 400, never a database error.
 */

/** What one part of a sort key is: a timestamp with microseconds (UTC), a UUID, or any text. */
export type KeyPart = 'timestamp' | 'uuid' | 'text';
export type PageKey = readonly string[];

/** Longest text part: identifiers (client_id, sid, names) are shorter; longer cannot be one of ours. */
export const MAX_KEY_PART_LENGTH = 1024;

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
// With the u flag a surrogate pair is one code point, so only an unpaired half matches \p{Cs}.
const UNACCEPTABLE = /[\u0000\p{Cs}]/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A real instant (no 30 February, no hour 24, no year 0, which PostgreSQL would refuse with an error). */
function isTimestamp(value: string): boolean {
  const match = TIMESTAMP.exec(value);
  if (!match || Number(match[1]) < 1) return false;
  const date = new Date(`${value.slice(0, 19)}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === value.slice(0, 19);
}

export function isKeyPart(part: KeyPart, value: string): boolean {
  if (part === 'timestamp') return isTimestamp(value);
  if (part === 'uuid') return UUID.test(value);
  return value.length <= MAX_KEY_PART_LENGTH;
}

/** True when `key` has the list's shape: as many parts, each of its kind. */
export function fitsKeyShape(shape: readonly KeyPart[], key: PageKey): boolean {
  return key.length === shape.length && shape.every((part, i) => isKeyPart(part, key[i]!));
}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key inside a cursor, or undefined when it is not one (bad base64url, not JSON, not 1 to 4 strings). */
export function decodeCursor(cursor: string): PageKey | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length < 1 || value.length > 4) return undefined;
  // NUL and lone surrogates are refused as the edge guard refuses them elsewhere: PostgreSQL text cannot hold them.
  const fine = (part: unknown) => typeof part === 'string' && part.length <= MAX_KEY_PART_LENGTH && !UNACCEPTABLE.test(part);
  if (!value.every(fine)) return undefined;
  return value as string[];
}
