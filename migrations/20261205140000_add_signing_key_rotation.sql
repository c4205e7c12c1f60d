-- Up Migration
-- Signing-key rotation with pre-publication (src/tokens/key-lifecycle.ts):
--   next (published, not signing) -> active (signing) -> retiring (published, not signing) -> retired;
--   revoked: withdrawn at once (a compromised key), unpublished, its access tokens revoked.
-- activated_at / deactivated_at bound the window in which a key signed; retired_at when it left the JWKS.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_status_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_status_check
  CHECK (status IN ('next', 'active', 'retiring', 'retired', 'revoked'));
ALTER TABLE signing_keys ADD COLUMN activated_at timestamptz;
ALTER TABLE signing_keys ADD COLUMN deactivated_at timestamptz;
ALTER TABLE signing_keys ADD COLUMN retired_at timestamptz;
UPDATE signing_keys SET activated_at = created_at WHERE status = 'active';
UPDATE signing_keys SET retired_at = created_at WHERE status = 'retired';
