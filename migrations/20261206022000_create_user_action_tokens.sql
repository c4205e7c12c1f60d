-- Up Migration
-- Issue 12 §2: the single-use links mailed to a user (verify an address, reset a password, accept an
-- invitation, confirm a new address). The link carries 256 random bits; only their SHA-256 is stored, so a
-- database reader cannot use a pending link. A link is consumed by one UPDATE … WHERE consumed_at IS NULL
-- AND expires_at > now() RETURNING, so of two concurrent uses exactly one wins.
CREATE TABLE user_action_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invitation', 'change_email')),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The address the link was sent to: verification applies only while the user still has it, and an
  -- email change applies this address.
  email text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);
-- The links of one user and purpose (supersede older ones; count recent sends for the resend limits).
CREATE INDEX user_action_tokens_user_idx ON user_action_tokens (user_id, purpose, created_at);
-- The recent sends to one address (the per-address limit).
CREATE INDEX user_action_tokens_email_idx ON user_action_tokens (lower(email), created_at);
CREATE INDEX user_action_tokens_expires_idx ON user_action_tokens (expires_at);
