import type { Queryable } from '../db/db.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../errors/oauth-errors.js';
import { constantTimeEqual, decryptAesGcm, encryptAesGcm } from '../lib/crypto.js';
import { isSubset, parseScope } from '../lib/scopes.js';
import type { Client } from '../repositories/clients-repository.js';
import { findGrant, revokeGrant } from '../repositories/grants-repository.js';
import {
  findLiveRefreshToken,
  findRefreshTokenForUpdate,
  forgetRefreshSuccessorsOfGrant,
  markRefreshTokenRotated,
  rotateLiveRefreshToken,
  type RotatableRefreshTokenRecord,
} from '../repositories/tokens-repository.js';
import type { ServiceContext } from '../services/context.js';
import { grantedResources, mayIssueForIssuer, scopesForResources } from '../services/resource-indicators.js';
import { finishTokens, freshTokens, recordedFrom, recordTokens, type RecordedTokens } from '../services/token-service.js';
import { hashOpaqueToken } from '../tokens/opaque-token.js';
import type { GrantHandler } from './grant-handler.js';

type Outcome = RecordedTokens | InvalidGrant | InvalidScope;

/**
 * Every refresh rotates the refresh token. The row is locked FOR UPDATE, so concurrent uses of one token
 * serialize: the first rotates; a later one is a replay and revokes the family (RFC 9700 section 4.14.2),
 * unless it comes within REFRESH_TOKEN_REUSE_GRACE_SECONDS of the rotation while the successor is still
 * live. Then it is a client retrying or racing itself, and it gets the *same* successor back (with a fresh
 * access token), so one token never has two live successors.
 *
 * RFC 8707 section 2.2: a refresh token remembers the resources granted, and its successor keeps them; a
 * refresh may name some of them (downscoping the access token), never another.
 *
 * RFC 9449 section 5: a public client's refresh token bound to a DPoP key is refreshed only with a proof by
 * that key (else invalid_grant), and its successor keeps the binding; an unbound one used with a proof is
 * bound from then on. A confidential client's refresh token is never bound: the client authenticates.
 * The new access token is bound to the proof's key, whatever the refresh token.
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handle(ctx, client, { params, resources: requestedResources, dpopJkt }) {
    const { refresh_token: refreshToken, scope } = params;
    if (!refreshToken) throw new InvalidRequest('refresh_token is required');
    const tokenHash = hashOpaqueToken(refreshToken);
    const graceSeconds = ctx.config.refreshTokenReuseGraceSeconds;

    if (mayIssueForIssuer(ctx, requestedResources)) {
      const rotated = await rotateInOneStatement(ctx, client, tokenHash, scope, dpopJkt);
      if (rotated) return finishTokens(ctx, rotated);
    }

    const outcome = await ctx.db.transaction(async (tx): Promise<Outcome> => {
      const token = await findRefreshTokenForUpdate(tx, tokenHash, graceSeconds);
      if (!token || token.clientId !== client.clientId) return new InvalidGrant('refresh token is invalid');
      if (token.revokedAt) return new InvalidGrant('refresh token has been revoked');
      // Before reuse detection: without the key, a stolen bound token is worth nothing, not even a revocation.
      if (token.dpopJkt && token.dpopJkt !== dpopJkt) {
        return new InvalidGrant(dpopJkt ? 'the DPoP proof key does not match the key the refresh token is bound to' : 'a DPoP proof is required: the refresh token is bound to a DPoP key');
      }
      if (token.rotatedAt) {
        const repeat = await repeatWithinGrace(ctx, tx, client, tokenHash, token, scope, requestedResources, dpopJkt);
        if (repeat) return repeat;
        await revokeGrant(tx, token.grantId);
        await forgetRefreshSuccessorsOfGrant(tx, token.grantId);
        ctx.audit.record('token.reuse_detected', {
          client_id: client.clientId,
          subject: token.userId,
          grant_id: token.grantId,
          reason: 'refresh_token_replayed',
        });
        return new InvalidGrant('refresh token was already used; its token family has been revoked');
      }
      if (token.expiresAt.getTime() <= Date.now()) return new InvalidGrant('refresh token has expired');

      if (!token.grantAndUserLive) return new InvalidGrant('authorization grant is no longer valid');

      const original = parseScope(token.scope);
      const requested = scope === undefined ? original : parseScope(scope);
      // RFC 6749 section 6: a refresh may narrow the scope, never widen it.
      if (!isSubset(requested, original)) return new InvalidScope('requested scope exceeds the original grant');
      const resources = await grantedResources(ctx, client, token.resources, requestedResources, original);

      const recorded = await recordTokens(ctx, tx, {
        client,
        scopes: scopesForResources(requested, resources, scope !== undefined),
        resources,
        user: {
          userId: token.userId,
          grantId: token.grantId,
          authTime: token.grantAuthTime!,
          sid: token.grantSid,
          nonce: null,
          amr: token.grantAmr,
          acr: token.grantAcr,
        },
        includeRefreshToken: true,
        refreshTokenScopes: original,
        refreshTokenResources: token.resources,
        includeIdToken: requested.includes('openid'),
        ...(dpopJkt ? { dpopJkt } : {}),
        refreshTokenDpopJkt: token.dpopJkt ?? (client.clientType === 'public' ? (dpopJkt ?? null) : null),
      });
      const successor = recorded.refreshToken!;
      // The successor's value is kept only encrypted, bound to this row, and only while a repeat may need it.
      await markRefreshTokenRotated(
        tx,
        { hash: tokenHash, grantId: token.grantId },
        { hash: hashOpaqueToken(successor), ciphertext: graceSeconds > 0 ? encryptAesGcm(ctx.refreshTokenKey, successor, tokenHash) : null },
        graceSeconds,
      );
      return recorded;
    });
    if (outcome instanceof InvalidGrant || outcome instanceof InvalidScope) throw outcome;
    // Signed after the commit: the row lock and the pooled connection are not held for the signatures.
    return finishTokens(ctx, outcome);
  },
};

/**
 * The common case, a live token used once, in one statement (rotateLiveRefreshToken); undefined when the
 * token is not in that state, and the transaction in refreshTokenGrant finds out why.
 */
async function rotateInOneStatement(
  ctx: ServiceContext,
  client: Client,
  tokenHash: string,
  scope: string | undefined,
  dpopJkt: string | undefined,
): Promise<RecordedTokens | undefined> {
  const requested = scope === undefined ? null : parseScope(scope);
  const graceSeconds = ctx.config.refreshTokenReuseGraceSeconds;
  const fresh = freshTokens(ctx, client, true);
  const successor = fresh.refreshToken!;
  const rotated = await rotateLiveRefreshToken(ctx.db, {
    tokenHash,
    clientId: client.clientId,
    requestedScopes: requested,
    access: { jti: fresh.jti, issuedAt: fresh.issuedAt, expiresAt: fresh.accessExpiresAt },
    // The successor's value is kept only encrypted, bound to this row, and only while a repeat may need it.
    successor: {
      hash: successor.hash,
      ciphertext: graceSeconds > 0 ? encryptAesGcm(ctx.refreshTokenKey, successor.value, tokenHash) : null,
      expiresAt: fresh.refreshExpiresAt,
    },
    graceSeconds,
    dpopJkt: dpopJkt ?? null,
    bindSuccessorTo: client.clientType === 'public' ? (dpopJkt ?? null) : null,
  });
  if (!rotated) return undefined;
  const original = parseScope(rotated.scope);
  const scopes = requested ?? original;
  return recordedFrom(fresh, {
    client,
    scopes,
    user: {
      userId: rotated.userId,
      grantId: rotated.grantId,
      authTime: rotated.authTime,
      sid: rotated.sid,
      nonce: null,
      amr: rotated.amr,
      acr: rotated.acr,
    },
    includeRefreshToken: true,
    refreshTokenScopes: original,
    includeIdToken: scopes.includes('openid'),
    ...(dpopJkt ? { dpopJkt } : {}),
  });
}

/**
 * A repeat of a refresh that already rotated `token`, within the grace window: returns the same successor
 * refresh token with a fresh access token (and ID token) of the same grant, or undefined when the repeat
 * does not qualify (window passed or off, successor no longer live) and must be treated as reuse.
 * The successor must still be live (not rotated, revoked or expired; client, user and grant active), so
 * a repeat can never revive anything; its scope is the scope of the token it replaces, and the access
 * token gets the requested scope only if that is within it, as for any refresh.
 */
async function repeatWithinGrace(
  ctx: ServiceContext,
  tx: Queryable,
  client: Client,
  tokenHash: string,
  token: RotatableRefreshTokenRecord,
  scope: string | undefined,
  requestedResources: readonly string[],
  dpopJkt: string | undefined,
): Promise<Outcome | undefined> {
  if (!token.successorCiphertext || !token.successorHash) return undefined;
  const successor = await findLiveRefreshToken(tx, token.successorHash);
  if (!successor || successor.clientId !== client.clientId || successor.grantId !== token.grantId) return undefined;
  let value: string;
  try {
    value = decryptAesGcm(ctx.refreshTokenKey, token.successorCiphertext, tokenHash);
  } catch {
    // A changed server secret (or a tampered row) makes the value unrecoverable: treat as reuse.
    return undefined;
  }
  if (!constantTimeEqual(hashOpaqueToken(value), token.successorHash)) return undefined;

  const grant = await findGrant(tx, token.grantId);
  if (!grant) return undefined;
  const original = parseScope(successor.scope);
  const requested = scope === undefined ? original : parseScope(scope);
  if (!isSubset(requested, original)) return new InvalidScope('requested scope exceeds the original grant');
  const resources = await grantedResources(ctx, client, successor.resources, requestedResources, original);

  const recorded = await recordTokens(ctx, tx, {
    client,
    scopes: scopesForResources(requested, resources, scope !== undefined),
    resources,
    user: { userId: successor.userId, grantId: successor.grantId, authTime: grant.authTime, sid: grant.sid, nonce: null, amr: grant.amr, acr: grant.acr },
    includeRefreshToken: false,
    includeIdToken: requested.includes('openid'),
    ...(dpopJkt ? { dpopJkt } : {}),
  });
  return { ...recorded, refreshToken: value };
}
