import { NotFound } from '../../errors/admin-errors.js';
import { randomToken } from '../../lib/crypto.js';
import {
  insertInitialAccessToken,
  listInitialAccessTokens as listTokenRows,
  revokeInitialAccessToken as revokeTokenRow,
  type InitialAccessToken,
} from '../../repositories/initial-access-tokens-repository.js';
import type { ServiceContext } from '../context.js';
import type { Page, PageRequest } from '../admin/pagination.js';
import { hashRegistrationToken } from './registration-service.js';

/**
 * Initial access tokens (RFC 7591 section 3) for REGISTRATION_POLICY=initial-access-token, minted through the
 * admin API (`authly admin registration-token create`). A token lets its holder register ordinary clients
 * only — registration never grants admin scopes — so minting one needs admin:clients:write and nothing more.
 */

type Ctx = Pick<ServiceContext, 'db'>;

export interface NewInitialAccessToken {
  record: InitialAccessToken;
  /** Shown once; only its SHA-256 is stored. */
  token: string;
}

export async function createInitialAccessToken(
  ctx: Ctx,
  input: { description?: string; maxUses?: number; expiresInSeconds?: number },
): Promise<NewInitialAccessToken> {
  const token = randomToken(32);
  const record = await insertInitialAccessToken(ctx.db, {
    id: randomToken(12),
    tokenHash: hashRegistrationToken(token),
    description: input.description ?? '',
    maxUses: input.maxUses ?? null,
    expiresInSeconds: input.expiresInSeconds ?? null,
  });
  return { record, token };
}

export function listInitialAccessTokens(ctx: Ctx, page: PageRequest): Promise<Page<InitialAccessToken>> {
  return listTokenRows(ctx.db, page);
}

/** Revokes at once: the next registration with it is refused. */
export async function revokeInitialAccessToken(ctx: Ctx, id: string): Promise<InitialAccessToken> {
  const record = id.includes('\u0000') ? undefined : await revokeTokenRow(ctx.db, id);
  if (!record) throw new NotFound('registration token');
  return record;
}
