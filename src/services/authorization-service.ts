import type { Client } from '../repositories/clients-repository.js';
import { insertAuthorizationCode } from '../repositories/authorization-codes-repository.js';
import { findConsentedScopes } from '../repositories/consents-repository.js';
import { insertGrant } from '../repositories/grants-repository.js';
import type { Session } from '../repositories/sessions-repository.js';
import type { User } from '../repositories/users-repository.js';
import { isAdminScope, isSubset } from '../lib/scopes.js';
import { secondsFromNow } from '../lib/time.js';
import { newOpaqueToken } from '../tokens/opaque-token.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { ServiceContext } from './context.js';
import { acrFor } from './mfa-policy.js';

/** OIDC Core section 3.1.2.1: prompt=login and an exceeded max_age both demand a fresh login. */
export function needsLogin(request: AuthorizationRequest, session: Session | undefined): boolean {
  if (!session) return true;
  if (request.prompt.includes('login')) return true;
  if (request.maxAge !== undefined) {
    return Date.now() - session.authTime.getTime() > request.maxAge * 1000;
  }
  return false;
}

/** The scopes a user may grant: admin scopes only for administrators. */
export function grantableScopes(request: AuthorizationRequest, user: Pick<User, 'isAdmin'>): string[] {
  return request.scopes.filter((s) => !isAdminScope(s) || user.isAdmin);
}

export async function needsConsent(
  ctx: ServiceContext,
  request: AuthorizationRequest,
  client: Client,
  user: User,
): Promise<boolean> {
  if (request.prompt.includes('consent')) return true;
  // A metadata-document client is whoever controls its URL; the user decides every time (MCP authorization,
  // security considerations): neither skip_consent, REQUIRE_USER_CONSENT nor a remembered consent skips it.
  if (client.registrationType === 'metadata_document') return true;
  if (!ctx.config.requireUserConsent || client.skipConsent) return false;
  const consented = await findConsentedScopes(ctx.db, user.id, client.clientId);
  return !isSubset(grantableScopes(request, user), consented);
}

/**
 * Issues an authorization code: a new grant (the family its tokens will belong to) and the code bound
 * to client, redirect_uri and code_challenge. Returns the response parameters.
 */
export async function issueAuthorizationCode(
  ctx: ServiceContext,
  request: AuthorizationRequest,
  user: User,
  login: { authTime: Date; sid: string; amr: readonly string[] },
): Promise<Record<string, string>> {
  const code = newOpaqueToken();
  // OIDC Core section 2: the ID tokens of this grant (at the exchange and every refresh) say how the user
  // signed in (amr, RFC 8176) and which requested acr that satisfied.
  const acr = acrFor(login.amr, request.acrValues);
  await ctx.db.transaction(async (tx) => {
    const grantId = await insertGrant(tx, {
      clientId: request.clientId,
      userId: user.id,
      scope: grantableScopes(request, user).join(' '),
      authTime: login.authTime,
      sid: login.sid,
      nonce: request.nonce ?? null,
      resources: request.resources ?? [],
      amr: login.amr,
      acr,
    });
    await insertAuthorizationCode(tx, {
      codeHash: code.hash,
      grantId,
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge ?? null,
      codeChallengeMethod: request.codeChallengeMethod ?? null,
      dpopJkt: request.dpopJkt ?? null,
      expiresAt: secondsFromNow(ctx.config.authorizationCodeTtlSeconds),
    });
  });
  ctx.metrics.authorizations.inc({ result: 'code_issued' });
  return { code: code.value, ...(request.state !== undefined ? { state: request.state } : {}) };
}
