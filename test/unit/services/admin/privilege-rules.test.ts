import { describe, expect, it } from 'vitest';
import { InsufficientPrivilege } from '../../../../src/errors/admin-errors.js';
import {
  adminScopesIn,
  assertMayAssignIsAdmin,
  assertMayAssignScope,
  assertMayChangeClient,
  assertMayChangeUser,
  isAdminCapableClient,
} from '../../../../src/services/admin/privilege-rules.js';

const full = { scopes: ['authly:admin'] };
const clientsWriter = { scopes: ['admin:clients:write'] };
const twoScopes = { scopes: ['admin:clients:write', 'admin:users:read'] };

const refusal = (work: () => void) => {
  try {
    work();
  } catch (err) {
    if (err instanceof InsufficientPrivilege) return { status: err.status, reason: err.reason, target: err.target };
    throw err;
  }
  return undefined;
};

describe('privilege rules', () => {
  it.each([
    ['', false],
    ['openid profile email offline_access', false],
    // Look-alikes are not admin scopes: only the built-in list counts.
    ['admin admin:clients authly:admins', false],
    ['openid admin:users:read', true],
    ['authly:admin', true],
  ])('scope "%s" makes a client admin-capable: %s', (scope, capable) => {
    expect(isAdminCapableClient({ scope })).toBe(capable);
    expect(adminScopesIn(scope).length > 0).toBe(capable);
  });

  it.each([
    [full, 'authly:admin admin:users:write', undefined],
    [clientsWriter, 'openid profile', undefined],
    [clientsWriter, 'admin:clients:write', undefined],
    [twoScopes, 'admin:users:read admin:clients:write', undefined],
    [clientsWriter, 'authly:admin', ['authly:admin']],
    [twoScopes, 'openid admin:users:read admin:users:write authly:admin', ['admin:users:write', 'authly:admin']],
  ])('assigning scopes: %j assigns "%s", refused scopes %j', (caller, scope, refused) => {
    const result = refusal(() => assertMayAssignScope(caller, scope, 'c1'));
    expect(result).toEqual(refused ? { status: 403, reason: 'admin_scope_assignment', target: { clientId: 'c1', scopes: refused } } : undefined);
  });

  it('is_admin: only true needs authly:admin', () => {
    expect(refusal(() => assertMayAssignIsAdmin(clientsWriter, true, 'u1'))).toEqual({ status: 403, reason: 'is_admin_assignment', target: { userId: 'u1' } });
    expect(refusal(() => assertMayAssignIsAdmin(clientsWriter, false))).toBeUndefined();
    expect(refusal(() => assertMayAssignIsAdmin(clientsWriter, undefined))).toBeUndefined();
    expect(refusal(() => assertMayAssignIsAdmin(full, true))).toBeUndefined();
  });

  it('admin-capable clients and administrators are changed only with authly:admin, even by a holder of their scopes', () => {
    const peer = { clientId: 'peer', scope: 'admin:clients:write' };
    expect(refusal(() => assertMayChangeClient(clientsWriter, peer))).toEqual({ status: 403, reason: 'admin_capable_client', target: { clientId: 'peer' } });
    expect(refusal(() => assertMayChangeClient(clientsWriter, { clientId: 'app', scope: 'openid' }))).toBeUndefined();
    expect(refusal(() => assertMayChangeClient(full, peer))).toBeUndefined();
    expect(refusal(() => assertMayChangeUser(twoScopes, { id: 'u1', isAdmin: true }))).toEqual({ status: 403, reason: 'admin_user', target: { userId: 'u1' } });
    expect(refusal(() => assertMayChangeUser(twoScopes, { id: 'u2', isAdmin: false }))).toBeUndefined();
    expect(refusal(() => assertMayChangeUser(full, { id: 'u1', isAdmin: true }))).toBeUndefined();
  });
});
