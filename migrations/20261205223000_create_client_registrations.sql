-- Up Migration
-- Dynamic client registration (RFC 7591) and its management (RFC 7592).

-- What a dynamically registered client registered beyond the clients row: the hash of its registration
-- access token (RFC 7592 section 3; the token itself is shown only in responses) and its OpenID Connect
-- application_type (Dynamic Client Registration 1.0 section 2). Deleted with the client, so a deleted
-- client's registration access token stops working at once.
CREATE TABLE client_registrations (
  client_id text PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
  registration_access_token_hash text NOT NULL,
  application_type text NOT NULL CHECK (application_type IN ('web', 'native')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Initial access tokens (RFC 7591 section 3) for REGISTRATION_POLICY=initial-access-token, minted by the
-- admin API. Only the SHA-256 of the token is stored. A registration consumes one use atomically
-- (uses < max_uses in the UPDATE's WHERE), in the transaction that inserts the client.
CREATE TABLE initial_access_tokens (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  max_uses integer CHECK (max_uses > 0),
  uses integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (max_uses IS NULL OR uses <= max_uses)
);

-- The admin listing filters by registration type, and the clean-up scans the clients that are not admin's.
CREATE INDEX clients_registration_type_idx ON clients (registration_type, created_at) WHERE registration_type <> 'admin';
