import { constantTimeEqual, hmacSha256Base64url } from '../../lib/crypto.js';
import type { ServiceContext } from '../context.js';

type NonceCtx = Pick<ServiceContext, 'config' | 'dpopNonceKey' | 'now'>;

/**
 * RFC 9449 section 8: server-provided nonces, without state. A nonce is the HMAC of a time slot under a key
 * derived from the server secret, so every replica issues and accepts the same values without sharing
 * anything; the current and the previous slot are accepted, so a nonce handed out just before a slot ends
 * still works (section 8.2: the server rotates nonces and the client picks up the new one from DPoP-Nonce).
 */
function slotOf(ctx: NonceCtx): number {
  return Math.floor(ctx.now() / 1000 / ctx.config.dpop.nonceLifetimeSeconds);
}

function nonceOfSlot(ctx: NonceCtx, slot: number): string {
  return hmacSha256Base64url(ctx.dpopNonceKey, `dpop-nonce:${slot}`);
}

/** The nonce to hand out now (DPoP-Nonce header). */
export function currentDpopNonce(ctx: NonceCtx): string {
  return nonceOfSlot(ctx, slotOf(ctx));
}

/** True for the current or the previous slot's nonce; compared in constant time. */
export function isAcceptedDpopNonce(ctx: NonceCtx, nonce: string): boolean {
  const slot = slotOf(ctx);
  // Both comparisons always run: the time taken does not say which slot matched.
  const current = constantTimeEqual(nonce, nonceOfSlot(ctx, slot));
  const previous = constantTimeEqual(nonce, nonceOfSlot(ctx, slot - 1));
  return current || previous;
}
