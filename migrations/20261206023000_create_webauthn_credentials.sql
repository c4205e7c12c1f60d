-- Up Migration
-- Issue 12 §3: passkeys (WebAuthn Level 3) as a first factor and as a second factor.

-- A user's registered public key credentials. id is the credential ID (base64url, as the browser
-- reports it in PublicKeyCredential.id); the public key is the COSE key from the attestation
-- (W3C WebAuthn §6.5.1.1). sign_count is the last signature counter seen (§6.1.1): a value that does
-- not grow means a cloned authenticator. device_type/backed_up record the backup eligibility and
-- state flags (BE/BS, §6.1): a multi-device credential can be synced off the hardware.
CREATE TABLE webauthn_credentials (
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key bytea NOT NULL,
  sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports text[] NOT NULL DEFAULT '{}',
  device_type text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up boolean NOT NULL DEFAULT false,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_user_id_idx ON webauthn_credentials (user_id, created_at);

-- Outstanding ceremony challenges (W3C WebAuthn §13.4.3: random, at least 16 bytes, used once, checked
-- by the server). Kept here, not in process memory, so any replica can finish a ceremony another began.
-- A sign-in challenge is bound to its interaction, a registration challenge to the session that asked
-- for it; either goes with its owner (ON DELETE CASCADE) and is consumed by a DELETE ... RETURNING.
CREATE TABLE webauthn_challenges (
  challenge_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('authentication', 'registration')),
  interaction_uid text REFERENCES interactions (uid) ON DELETE CASCADE,
  sid text REFERENCES sessions (sid) ON DELETE CASCADE,
  -- Authentication as a second factor: the user whose credentials were offered.
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((purpose = 'authentication' AND interaction_uid IS NOT NULL AND sid IS NULL)
      OR (purpose = 'registration' AND sid IS NOT NULL AND interaction_uid IS NULL))
);
CREATE INDEX webauthn_challenges_interaction_idx ON webauthn_challenges (interaction_uid, created_at) WHERE interaction_uid IS NOT NULL;
CREATE INDEX webauthn_challenges_sid_idx ON webauthn_challenges (sid, created_at) WHERE sid IS NOT NULL;
