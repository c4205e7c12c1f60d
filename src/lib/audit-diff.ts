/**
 * The diff an admin write stores with its audit event: `{field: {from, to}}` for each changed top-level
 * field between two snapshots (a create has only `to`, a delete only `from`). Two rules keep secrets out:
 * only fields on the entity's allow-list are compared at all, and a field whose name looks like a secret
 * (secret, hash, password, private key material, token) is never stored, only `{changed: true}`, even if
 * someone adds it to an allow-list by mistake.
 */
export type Snapshot = Readonly<Record<string, unknown>>;

export type FieldChange = { from?: unknown; to?: unknown } | { changed: true };
export type Changes = Record<string, FieldChange>;

/** Names whose values are never stored. `d`, `p`, `q`, `dp`, `dq`, `qi`, `k`: private JWK members (RFC 7518 §6.3.2, §6.4). */
const SECRET_NAME = /secret|hash|password|passwd|private|credential|totp|recovery|(^|_)token$|(^|_)(d|p|q|dp|dq|qi|k|oth)$/i;

export const isSecretField = (name: string): boolean => SECRET_NAME.test(name);

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** JSON with object keys sorted, Dates as ISO strings: equal values, equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * A value as stored: Dates become ISO strings, undefined becomes null, and inside objects (a client's
 * jwks) any member named like a secret is replaced, so a private JWK member never lands in the table.
 */
function stored(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (key !== '' && isSecretField(key) ? REDACTED : v)),
  ) as unknown;
}

export const REDACTED = '[redacted]';

/**
 * The changed allowed fields of `before` → `after` (undefined: the entity did not exist), or null when
 * nothing allowed changed. `allowed` lists the fields that may be compared, in wire (snake_case) names.
 */
export function auditDiff(before: Snapshot | undefined, after: Snapshot | undefined, allowed: readonly string[]): Changes | null {
  if (before === undefined && after === undefined) return null;
  const changes: Changes = {};
  for (const field of allowed) {
    const from = before?.[field];
    const to = after?.[field];
    if (before !== undefined && after !== undefined && same(from, to)) continue;
    if (before === undefined && to === undefined) continue;
    if (after === undefined && from === undefined) continue;
    if (isSecretField(field)) {
      changes[field] = { changed: true };
    } else if (before === undefined) {
      changes[field] = { to: stored(to) };
    } else if (after === undefined) {
      changes[field] = { from: stored(from) };
    } else {
      changes[field] = { from: stored(from), to: stored(to) };
    }
  }
  return Object.keys(changes).length > 0 ? changes : null;
}
