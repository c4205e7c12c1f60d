import { InsufficientScope, InvalidToken } from '../../errors/oauth-errors.js';
import { findUserById } from '../../repositories/users-repository.js';
import type { VerifiedAccessToken } from '../access-token-verifier.js';
import type { ServiceContext } from '../context.js';
import { ADMIN_SCOPES, isAdminScope } from '../../lib/scopes.js';
import type { AdminCaller } from './privilege-rules.js';

export type AdminScope = (typeof ADMIN_SCOPES)[number];
/** What a route requires: one admin scope, or `any` admin scope at all (the status endpoint). */
export type AdminRequirement = AdminScope | 'any';

/** Who made an admin request (for the audit log) and what its token holds (for privilege-rules.ts). */
export interface AdminActor extends AdminCaller {
  clientId: string;
  userId: string | null;
}

/**
 * Decides whether a verified access token may call an admin endpoint. `authly:admin` grants every admin
 * scope. A token issued to a user additionally needs that user to be an administrator: a client whose
 * registration includes admin scopes must not turn an ordinary user's consent into admin power.
 * The token must be for Authly itself (aud = the issuer): a token issued for another API (RFC 8707) never
 * opens the admin API, whatever its scopes (audience confusion: RFC 9700 section 2.3, RFC 8707 section 1).
 */
export async function authorizeAdmin(
  ctx: Pick<ServiceContext, 'db'>,
  token: VerifiedAccessToken,
  required: AdminRequirement,
): Promise<AdminActor> {
  if (token.audience !== null) throw new InvalidToken('the access token is not for this API');
  const allowed =
    token.scopes.includes('authly:admin') ||
    (required === 'any' ? token.scopes.some(isAdminScope) : token.scopes.includes(required));
  if (!allowed) {
    throw new InsufficientScope(
      required === 'any' ? 'the access token has no admin scope' : `the access token lacks the ${required} scope`,
    );
  }
  if (token.userId !== null) {
    const user = await findUserById(ctx.db, token.userId);
    if (!user?.isAdmin) throw new InsufficientScope('the user of this access token is not an administrator');
  }
  return { clientId: token.clientId, userId: token.userId, scopes: token.scopes };
}
