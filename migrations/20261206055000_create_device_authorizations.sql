-- Up Migration
-- Issue 13 §5: the device authorization grant (RFC 8628). One row per device authorization request, from
-- the device's request until its tokens are issued (or it expires). Only hashes are stored: the device code
-- as opaque tokens are, the user code as an HMAC under a server key (its 34 bits would not survive a plain
-- hash). `interval_seconds` and `last_polled_at` are the polling state, updated in the same statement that
-- answers a poll, so replicas agree on slow_down (section 3.5); `status` moves pending → approved → issued
-- (or pending → denied) by conditional UPDATEs, so tokens are issued once.
CREATE TABLE device_authorizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  device_code_hash text NOT NULL UNIQUE,
  user_code_hash text NOT NULL UNIQUE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope text NOT NULL,
  resources text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'issued')),
  grant_id uuid REFERENCES grants (id) ON DELETE CASCADE,
  interval_seconds integer NOT NULL,
  last_polled_at timestamptz,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_authorizations_expires_idx ON device_authorizations (expires_at);
CREATE INDEX device_authorizations_grant_id_idx ON device_authorizations (grant_id);

-- Down Migration
DROP TABLE device_authorizations;
