import { NotFound } from '../../errors/admin-errors.js';
import { findClient, findClientForUpdate, type Client } from '../../repositories/clients-repository.js';
import {
  findAdminWithLiveGrantOfClient,
  findGrantUserOfClient,
  listGrantsOfClient,
  revokeGrant,
  revokeGrantsOfClient,
  type ClientGrantListItem,
} from '../../repositories/grants-repository.js';
import type { Queryable } from '../../db/db.js';
import type { ServiceContext } from '../context.js';
import type { Page, PageRequest } from './pagination.js';
import { assertMayChangeClient, assertMayChangeUser, type AdminCaller } from './privilege-rules.js';

/**
 * A client's grants, seen from the client (the user side is user-access-admin-service.ts): who signed in
 * to it, and revoking what it holds. Revoking is a change to the client (privilege rules 3 and 8: an
 * admin-capable or built-in client needs authly:admin) and to each user whose grant goes (rule 4: an
 * administrator's grants need authly:admin), checked on the locked client row.
 */

type Ctx = Pick<ServiceContext, 'db'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// PostgreSQL text cannot hold U+0000 (it would be a database error): such an id names no client.
async function clientNamed(db: Queryable, clientId: string, lock: boolean): Promise<Client> {
  const client = clientId.includes('\u0000') ? undefined : await (lock ? findClientForUpdate : findClient)(db, clientId);
  if (!client) throw new NotFound('client');
  return client;
}

export async function listClientGrants(ctx: Ctx, clientId: string, page: PageRequest): Promise<Page<ClientGrantListItem>> {
  const client = await clientNamed(ctx.db, clientId, false);
  return listGrantsOfClient(ctx.db, client.clientId, page);
}

/** Revokes one grant of the client and every token issued under it. */
export async function revokeClientGrant(ctx: Ctx, caller: AdminCaller, clientId: string, grantId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const client = await clientNamed(tx, clientId, true);
    assertMayChangeClient(caller, client);
    const user = UUID.test(grantId) ? await findGrantUserOfClient(tx, grantId, client.clientId) : undefined;
    if (!user) throw new NotFound('grant');
    assertMayChangeUser(caller, { id: user.userId, isAdmin: user.isAdmin });
    await revokeGrant(tx, grantId);
  });
}

/** Revokes every live grant of the client with their tokens; how many grants were revoked. */
export async function revokeClientGrants(ctx: Ctx, caller: AdminCaller, clientId: string): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const client = await clientNamed(tx, clientId, true);
    assertMayChangeClient(caller, client);
    const admin = await findAdminWithLiveGrantOfClient(tx, client.clientId);
    if (admin !== undefined) assertMayChangeUser(caller, { id: admin, isAdmin: true });
    return revokeGrantsOfClient(tx, client.clientId);
  });
}
