import type { Queryable } from '../../src/db/db.js';
import { hashOpaqueToken } from '../../src/tokens/opaque-token.js';

/**
 * Moves a rotated refresh token's rotation an hour into the past, as if the reuse grace window
 * (REFRESH_TOKEN_REUSE_GRACE_SECONDS) had passed, so the next use of it is a replay.
 */
export async function endRefreshGraceWindow(db: Queryable, refreshToken: string): Promise<void> {
  await db.query("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour' WHERE token_hash = $1 AND rotated_at IS NOT NULL", [
    hashOpaqueToken(refreshToken),
  ]);
}
