/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(scope: string | undefined | null): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter((s) => s.length > 0))];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

export function isSubset(subset: readonly string[], superset: readonly string[]): boolean {
  const set = new Set(superset);
  return subset.every((s) => set.has(s));
}

/** The scopes of the admin API; `authly:admin` implies the others (src/services/admin/privilege-rules.ts). */
export const ADMIN_SCOPES = [
  'authly:admin',
  'admin:clients:read',
  'admin:clients:write',
  'admin:users:read',
  'admin:users:write',
  'admin:scopes:read',
  'admin:scopes:write',
  'admin:resources:read',
  'admin:resources:write',
  // Issue 14 §2: read the audit trail (GET /admin/audit-events); nothing writes it but the server.
  'admin:audit:read',
] as const;

export const isAdminScope = (scope: string): boolean => (ADMIN_SCOPES as readonly string[]).includes(scope);
