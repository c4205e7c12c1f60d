-- Up Migration
-- Issue 13 §4: OpenID Connect Back-Channel Logout 1.0. A client registers where its logout tokens go
-- (section 2.2; https, no fragment) and whether it needs the sid claim.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri text;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false;

-- The clients of an ended session are the clients of the grants made in it (grants.sid = sessions.sid).
CREATE INDEX grants_sid_idx ON grants (sid) WHERE sid IS NOT NULL;

-- The durable outbox of logout tokens to deliver: one row per (ended session, client), inserted by the
-- statement that ends the session, so a crash between the two cannot lose a logout. The token itself is
-- signed at delivery (src/services/backchannel-logout/), so it is fresh (short exp) on every attempt and
-- no signed token rests in the database. `sub` is not a reference: a deleted user's clients are told too.
CREATE TABLE backchannel_logout_outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  sub text NOT NULL,
  sid text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backchannel_logout_outbox_due_idx ON backchannel_logout_outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX backchannel_logout_outbox_client_idx ON backchannel_logout_outbox (client_id);

-- Down Migration
DROP TABLE backchannel_logout_outbox;
DROP INDEX grants_sid_idx;
ALTER TABLE clients DROP COLUMN backchannel_logout_session_required;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
