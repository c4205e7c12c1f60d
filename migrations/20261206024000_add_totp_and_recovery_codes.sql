-- Up Migration
-- Issue 12 §3: one-time codes as a second factor.

-- A user's TOTP authenticator (RFC 6238). The shared secret is stored only encrypted (AES-256-GCM under a
-- key derived from the server secret, bound to the user id), never in clear. confirmed_at stays null
-- while an enrolment waits for its first code; last_used_step is the last time step a code was accepted
-- for, so a code (and any earlier one) cannot be used again (RFC 6238 section 5.2).
CREATE TABLE user_totp (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_ciphertext text NOT NULL,
  confirmed_at timestamptz,
  last_used_step bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One-time recovery codes, stored only as hashes; used_at marks a code spent (one atomic UPDATE).
CREATE TABLE recovery_codes (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);
