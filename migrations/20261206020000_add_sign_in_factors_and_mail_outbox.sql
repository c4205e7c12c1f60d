-- Up Migration
-- Issue 12: what a sign-in proved, and mail that is never lost.

-- The authentication methods a session's sign-in used (RFC 8176 values: pwd, otp, hwk, swk, mfa, …) and
-- the resulting acr, so ID tokens issued later from the session (and from its grants at refresh) say
-- how the user signed in. Sessions before this migration signed in with a password.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';
ALTER TABLE sessions ADD COLUMN acr text;
ALTER TABLE grants ADD COLUMN amr text[];
ALTER TABLE grants ADD COLUMN acr text;

-- A sign-in in progress: the user whose first factor passed and the methods passed so far, while a
-- further factor is asked for. user_id stays null until the sign-in is complete (a session exists).
ALTER TABLE interactions ADD COLUMN pending_user_id uuid REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE interactions ADD COLUMN amr text[] NOT NULL DEFAULT '{}';

-- Per client: off, optional or required; null follows MFA_POLICY.
ALTER TABLE clients ADD COLUMN mfa_policy text CHECK (mfa_policy IN ('off', 'optional', 'required'));

-- Outgoing mail. A request inserts a row (in its own transaction when it has one) and never waits for
-- SMTP; the mail worker claims due rows with FOR UPDATE SKIP LOCKED, so replicas share the queue and a
-- message is sent by one of them.
CREATE TABLE mail_outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  recipient text NOT NULL,
  template text NOT NULL,
  locale text NOT NULL DEFAULT 'en',
  -- The template's variables (links carry single-use tokens: rows are deleted once sent and kept).
  data jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
