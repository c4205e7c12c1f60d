import { readFileSync } from 'node:fs';
import { countClients } from '../../repositories/clients-repository.js';
import { countUsers } from '../../repositories/users-repository.js';
import type { ServiceContext } from '../context.js';

export interface AdminStatus {
  version: string;
  database: 'postgres' | 'pglite';
  counts: { clients: number; users: number };
}

let version: string | undefined;

/** The package version; src/services/admin and dist/services/admin both sit three levels below it. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export async function adminStatus(ctx: Pick<ServiceContext, 'db'>): Promise<AdminStatus> {
  const [clients, users] = await Promise.all([countClients(ctx.db), countUsers(ctx.db)]);
  return { version: packageVersion(), database: ctx.db.kind, counts: { clients, users } };
}
