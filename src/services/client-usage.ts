import type { Db } from '../db/db.js';
import { touchClientLastUsed, type Client } from '../repositories/clients-repository.js';
import type { ServiceContext } from './context.js';

/**
 * `clients.last_used_at` for the clients the cleanup job may delete when idle (dynamic and metadata-document
 * registrations; admin clients are never judged by it). Recorded at most about once a day per client: a
 * conditional update that writes nothing while the last record is recent, skipped without a query when the
 * cached client or this process already saw a recent use. Never awaited: the token endpoint does not wait
 * for it, and a failed write (database down) is forgotten and tried again at the next use.
 */
export const CLIENT_USE_INTERVAL_SECONDS = 86_400;

/** Bounded: a process that met more distinct clients than this in a day forgets and asks the database. */
const MAX_NOTED = 10_000;
const noted = new WeakMap<Db, Map<string, number>>();

function notedIn(db: Db): Map<string, number> {
  let map = noted.get(db);
  if (!map) noted.set(db, (map = new Map()));
  return map;
}

/** Records a use of `client` in the background; returns the write when one was started (tests wait on it). */
export function noteClientUse(ctx: Pick<ServiceContext, 'db'>, client: Client, now = Date.now()): Promise<void> | undefined {
  if (client.registrationType === 'admin') return undefined;
  const interval = CLIENT_USE_INTERVAL_SECONDS * 1000;
  if (client.lastUsedAt !== null && now - client.lastUsedAt.getTime() < interval) return undefined;
  const seen = notedIn(ctx.db);
  const last = seen.get(client.clientId);
  if (last !== undefined && now - last < interval) return undefined;
  if (seen.size >= MAX_NOTED) seen.clear();
  seen.set(client.clientId, now);
  return touchClientLastUsed(ctx.db, client.clientId, CLIENT_USE_INTERVAL_SECONDS).then(
    () => undefined,
    () => {
      seen.delete(client.clientId);
    },
  );
}
