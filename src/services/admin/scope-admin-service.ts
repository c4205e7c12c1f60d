import { Conflict, NotFound } from '../../errors/admin-errors.js';
import { isUniqueViolation } from '../../errors/storage-errors.js';
import { ADMIN_SCOPES, SCOPE_TOKEN } from '../../lib/scopes.js';
import { countClientsUsingScope } from '../../repositories/clients-repository.js';
import { countResourcesUsingScope } from '../../repositories/resources-repository.js';
import { deleteScope as deleteScopeRow, insertScope, listScopesPage, type Scope } from '../../repositories/scopes-repository.js';
import type { ServiceContext } from '../context.js';
import type { Page, PageRequest } from './pagination.js';
import { USER_ONLY_SCOPES } from '../scope-policy.js';

type Ctx = Pick<ServiceContext, 'db' | 'scopes'>;

/** The OpenID Connect scopes and the admin scopes: the server itself depends on them. */
export const BUILT_IN_SCOPES: ReadonlySet<string> = new Set([...USER_ONLY_SCOPES, ...ADMIN_SCOPES]);

export function listScopes(ctx: Ctx, page: PageRequest): Promise<Page<Scope>> {
  return listScopesPage(ctx.db, page);
}

export async function createScope(ctx: Ctx, scope: Omit<Scope, 'createdAt'>): Promise<Scope> {
  try {
    return await insertScope(ctx.db, scope);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('a scope with this name already exists', { name: 'already exists' });
    throw err;
  }
}

/**
 * Built-in scopes cannot be deleted, nor can a scope a client still registers or a resource accepts: every
 * scope a client lists must exist, or its token requests would start failing with invalid_scope.
 */
export async function deleteScope(ctx: Ctx, name: string): Promise<void> {
  // Only scope-tokens were ever stored; anything else (a space, a NUL) names no scope.
  if (!SCOPE_TOKEN.test(name)) throw new NotFound('scope');
  if (BUILT_IN_SCOPES.has(name)) throw new Conflict(`${name} is a built-in scope and cannot be deleted`);
  const users = await countClientsUsingScope(ctx.db, name);
  if (users > 0) throw new Conflict(`${name} is registered by ${users} client(s); remove it from them first`);
  const resources = await countResourcesUsingScope(ctx.db, name);
  if (resources > 0) throw new Conflict(`${name} is accepted by ${resources} resource(s); remove it from them first`);
  if (!(await deleteScopeRow(ctx.db, name))) throw new NotFound('scope');
  await ctx.scopes.invalidate(name);
}
