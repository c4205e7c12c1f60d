import { NotFound } from '../../errors/admin-errors.js';
import { grantBelongsToUser, listGrantsOfUser, revokeGrant, revokeGrantsOfUser, type GrantSummary } from '../../repositories/grants-repository.js';
import { deleteSessionOfUser, deleteSessionsOfUser, listLiveSessionsOfUser, type Session } from '../../repositories/sessions-repository.js';
import type { ServiceContext } from '../context.js';
import { sessionEnding } from '../session-service.js';
import type { Page, PageRequest } from './pagination.js';
import { assertMayChangeUser, type AdminCaller } from './privilege-rules.js';
import { getUser } from './user-admin-service.js';

/**
 * What a user has signed in to: browser sessions (single sign-on) and grants (the families of codes and
 * tokens each client holds). Every function first resolves the user, so an unknown user is 404 whatever
 * the sub-resource. Revoking an administrator's sessions or grants is a change to that administrator
 * (privilege-rules.ts, rule 4): it needs authly:admin.
 */

type Ctx = Pick<ServiceContext, 'db' | 'config'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listUserSessions(ctx: Ctx, userId: string, page: PageRequest): Promise<Page<Session>> {
  const user = await getUser(ctx, userId);
  return listLiveSessionsOfUser(ctx.db, user.id, page);
}

/** The user, when the caller may change what the user is signed in to. */
async function userToChange(ctx: Ctx, caller: AdminCaller, userId: string) {
  const user = await getUser(ctx, userId);
  assertMayChangeUser(caller, user);
  return user;
}

/** Ends one session: the browser holding its cookie is signed out at its next request. */
export async function revokeUserSession(ctx: Ctx, caller: AdminCaller, userId: string, sid: string): Promise<void> {
  const user = await userToChange(ctx, caller, userId);
  if (!(await deleteSessionOfUser(ctx.db, user.id, sid, sessionEnding(ctx)))) throw new NotFound('session');
}

export async function revokeUserSessions(ctx: Ctx, caller: AdminCaller, userId: string): Promise<number> {
  const user = await userToChange(ctx, caller, userId);
  return deleteSessionsOfUser(ctx.db, user.id, sessionEnding(ctx));
}

export async function listUserGrants(ctx: Ctx, userId: string, page: PageRequest): Promise<Page<GrantSummary>> {
  const user = await getUser(ctx, userId);
  return listGrantsOfUser(ctx.db, user.id, page);
}

/** Revokes one grant and every code-issued access and refresh token under it, in one transaction. */
export async function revokeUserGrant(ctx: Ctx, caller: AdminCaller, userId: string, grantId: string): Promise<void> {
  const user = await userToChange(ctx, caller, userId);
  if (!UUID.test(grantId)) throw new NotFound('grant');
  const found = await ctx.db.transaction(async (tx) => {
    if (!(await grantBelongsToUser(tx, grantId, user.id))) return false;
    await revokeGrant(tx, grantId);
    return true;
  });
  if (!found) throw new NotFound('grant');
}

export async function revokeUserGrants(ctx: Ctx, caller: AdminCaller, userId: string): Promise<void> {
  const user = await userToChange(ctx, caller, userId);
  await ctx.db.transaction((tx) => revokeGrantsOfUser(tx, user.id));
}
