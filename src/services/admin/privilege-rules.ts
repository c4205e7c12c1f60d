import { InsufficientPrivilege } from '../../errors/admin-errors.js';
import { ADMIN_SCOPES, isAdminScope, parseScope } from '../../lib/scopes.js';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.js';
import { CLI_CLIENT_ID } from './cli-client.js';
import { CONSOLE_CLIENT_ID } from './console-client.js';

/**
 * Least privilege in the admin API: a caller never grants more than it holds (SECURITY.md, "Everywhere").
 * The one place these rules live; the client, user and user-access services call them on every change.
 *
 * - Admin scopes: ADMIN_SCOPES (authly:admin and admin:*). `authly:admin` implies every other one.
 * - An admin-capable client: one whose registered scope includes an admin scope. A client can only ever
 *   be granted scopes it registers (RFC 6749 section 3.3, src/services/scope-policy.ts), so this is exactly
 *   the set of clients that may be granted one. Its grant types decide who gets that power
 *   (client_credentials: whoever holds the secret; authorization_code: administrators who sign in through
 *   it), so grant types, secret, redirect URIs and activation of such a client are as sensitive as its scope.
 * - An admin user: `is_admin`. Such a user may obtain any admin scope through a client that registers it.
 *
 * Rules:
 * 1. Assigning admin scopes to a client needs `authly:admin` or every admin scope being assigned.
 * 2. Setting `is_admin` needs `authly:admin`.
 * 3. Any change to an admin-capable client (update, secret rotation, deletion) needs `authly:admin`.
 * 4. Any change to an admin user (profile, password, deletion, session and grant revocation) needs
 *    `authly:admin`. Reading stays with the read scopes.
 * 5. The configured admin username (AUTHLY_ADMIN_USERNAME) is given to a user only by `authly:admin`:
 *    bootstrap makes that user an administrator at the next start (src/services/bootstrap.ts), so creating
 *    or renaming a user to it while the configured user is gone would be rule 2 by another road.
 * 6. A resource (RFC 8707) whose scopes include admin scopes issues tokens carrying them: creating one, or
 *    changing or deleting one that has them (before or after the change), needs `authly:admin` or every
 *    admin scope involved — rule 1 for resources.
 * 7. The clients that act for a resource may introspect its tokens. Making an admin-capable client act for
 *    a resource, or changing or deleting a resource that an admin-capable client acts for, needs
 *    `authly:admin` — rule 3 for resources.
 * 8. The account page's built-in client (`authly-account`) is changed only by `authly:admin`: it skips
 *    consent for every user, so a redirect URI added to it would collect sign-ins. Its definition is also
 *    restored at every start (src/services/account/account-client.ts). So is `authly admin login`'s
 *    built-in client (`authly-cli`, src/services/admin/cli-client.ts): it may be granted authly:admin. And
 *    so is the web console's (`authly-console`, src/services/admin/console-client.ts), for the same reason.
 */

/** What a caller holds: the scopes of its verified access token. */
export interface AdminCaller {
  readonly scopes: readonly string[];
}

export const FULL_ADMIN_SCOPE = 'authly:admin' satisfies (typeof ADMIN_SCOPES)[number];

export const holdsFullAdmin = (caller: AdminCaller): boolean => caller.scopes.includes(FULL_ADMIN_SCOPE);

/** The admin scopes within a space-separated scope string. */
export const adminScopesIn = (scope: string): string[] => parseScope(scope).filter(isAdminScope);

export const isAdminCapableClient = (client: { scope: string }): boolean => adminScopesIn(client.scope).length > 0;

/** Rule 1: throws unless the caller may give a client this scope. */
export function assertMayAssignScope(caller: AdminCaller, scope: string, clientId?: string): void {
  if (holdsFullAdmin(caller)) return;
  const missing = adminScopesIn(scope).filter((s) => !caller.scopes.includes(s));
  if (missing.length === 0) return;
  throw new InsufficientPrivilege(
    'admin_scope_assignment',
    'assigning admin scopes requires authly:admin or holding each of them',
    { ...(clientId !== undefined ? { clientId } : {}), scopes: missing },
    { scope: `the access token does not hold ${missing.join(' ')}` },
  );
}

/** Rule 2: throws unless the caller may make a user an administrator. */
export function assertMayAssignIsAdmin(caller: AdminCaller, isAdmin: boolean | undefined, userId?: string): void {
  if (isAdmin !== true || holdsFullAdmin(caller)) return;
  throw new InsufficientPrivilege(
    'is_admin_assignment',
    'making a user an administrator requires authly:admin',
    userId !== undefined ? { userId } : {},
    { is_admin: 'requires authly:admin' },
  );
}

/** Rules 3 and 8: throws unless the caller may change this client. */
export function assertMayChangeClient(caller: AdminCaller, client: { clientId: string; scope: string }): void {
  if (client.clientId === ACCOUNT_CLIENT_ID && !holdsFullAdmin(caller)) {
    throw new InsufficientPrivilege('builtin_client', 'changing the built-in account client requires authly:admin', { clientId: client.clientId });
  }
  if (client.clientId === CLI_CLIENT_ID && !holdsFullAdmin(caller)) {
    throw new InsufficientPrivilege('builtin_client', 'changing the built-in CLI client requires authly:admin', { clientId: client.clientId });
  }
  if (client.clientId === CONSOLE_CLIENT_ID && !holdsFullAdmin(caller)) {
    throw new InsufficientPrivilege('builtin_client', 'changing the built-in console client requires authly:admin', { clientId: client.clientId });
  }
  if (!isAdminCapableClient(client) || holdsFullAdmin(caller)) return;
  throw new InsufficientPrivilege('admin_capable_client', 'changing a client that may be granted admin scopes requires authly:admin', {
    clientId: client.clientId,
  });
}

/** Rule 4: throws unless the caller may change this user or what the user is signed in to. */
export function assertMayChangeUser(caller: AdminCaller, user: { id: string; isAdmin: boolean }): void {
  if (!user.isAdmin || holdsFullAdmin(caller)) return;
  throw new InsufficientPrivilege('admin_user', 'changing an administrator requires authly:admin', { userId: user.id });
}

/** Rule 5: throws unless the caller may give a user this username. Usernames compare case-insensitively. */
export function assertMayUseUsername(caller: AdminCaller, username: string | undefined, reserved: string | undefined, userId?: string): void {
  if (username === undefined || reserved === undefined || holdsFullAdmin(caller)) return;
  if (username.toLowerCase() !== reserved.toLowerCase()) return;
  throw new InsufficientPrivilege(
    'reserved_username',
    'the configured admin username requires authly:admin',
    userId !== undefined ? { userId } : {},
    { username: 'reserved for the configured administrator' },
  );
}

/** Rule 6: throws unless the caller may create, change or delete a resource accepting these scopes. */
export function assertMayChangeResourceScopes(caller: AdminCaller, scopes: readonly string[], resource: string): void {
  if (holdsFullAdmin(caller)) return;
  const missing = [...new Set(scopes.filter(isAdminScope))].filter((s) => !caller.scopes.includes(s));
  if (missing.length === 0) return;
  throw new InsufficientPrivilege(
    'admin_scope_resource',
    'a resource that accepts admin scopes is created, changed or deleted only by authly:admin or a holder of each of them',
    { resource, scopes: missing },
    { scopes: `the access token does not hold ${missing.join(' ')}` },
  );
}

/** Rule 7: throws unless the caller may change a resource these clients act for (before or after the change). */
export function assertMayChangeResourceClients(
  caller: AdminCaller,
  actingClients: readonly { clientId: string; scope: string }[],
  resource: string,
): void {
  if (holdsFullAdmin(caller)) return;
  const adminCapable = actingClients.find(isAdminCapableClient);
  if (!adminCapable) return;
  throw new InsufficientPrivilege(
    'admin_capable_acting_client',
    'a resource that a client which may be granted admin scopes acts for is changed only by authly:admin',
    { clientId: adminCapable.clientId, resource },
    { client_ids: `${adminCapable.clientId} may be granted admin scopes; requires authly:admin` },
  );
}
