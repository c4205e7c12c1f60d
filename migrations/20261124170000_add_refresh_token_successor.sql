-- Up Migration
-- Refresh-token reuse grace window (REFRESH_TOKEN_REUSE_GRACE_SECONDS). When a refresh token is rotated,
-- its row records which token replaced it, so a client that retries or races itself within the window
-- gets that same successor back instead of a second one. The successor's value is kept only AES-256-GCM
-- encrypted (key derived from the server secret; the row's token_hash is the associated data), and only
-- until the window ends: later rotations in the same family clear stale values. The hash is a plain
-- reference, not a foreign key, so batched cleanup deletes of expired rows stay cheap.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash text;
ALTER TABLE refresh_tokens ADD COLUMN successor_ciphertext text;
