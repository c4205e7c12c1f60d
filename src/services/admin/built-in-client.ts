import type { Queryable } from '../../db/db.js';
import { findClientForUpdate, insertClient, updateClient, type Client, type ClientChanges } from '../../repositories/clients-repository.js';
import { CLIENT_DEFAULTS } from './client-admin-service.js';

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Creates a built-in client (`authly-account`, `authly-cli`) or restores its definition, writing only what
 * differs, so a restart with the same settings writes nothing. Runs inside bootstrap's transaction; true
 * when something was written.
 */
export async function ensureBuiltInClient(tx: Queryable, clientId: string, definition: Partial<Client>): Promise<boolean> {
  const existing = await findClientForUpdate(tx, clientId);
  if (!existing) {
    await insertClient(tx, { ...CLIENT_DEFAULTS, clientId, ...definition } as Parameters<typeof insertClient>[1]);
    return true;
  }
  const changes: ClientChanges = Object.fromEntries(
    Object.entries(definition).filter(([field, value]) => !sameValue(existing[field as keyof Client], value)),
  );
  if (Object.keys(changes).length === 0) return false;
  await updateClient(tx, clientId, changes);
  return true;
}
