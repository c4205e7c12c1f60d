-- Up Migration
-- Resource servers (APIs) as first-class objects, and what each token and grant is for (RFC 8707).

-- A protected resource, named by its canonical absolute URI (RFC 8707 section 2; src/lib/resource-identifier.ts).
-- NULL format, lifetime or alg: the server default.
CREATE TABLE resources (
  identifier text PRIMARY KEY,
  name text NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  access_token_format text CHECK (access_token_format IN ('jwt', 'opaque')),
  access_token_ttl_seconds integer CHECK (access_token_ttl_seconds > 0),
  signing_alg text CHECK (signing_alg IN ('RS256', 'ES256', 'EdDSA')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The clients that act for a resource (its own confidential clients): they may introspect its tokens.
CREATE TABLE resource_clients (
  resource text NOT NULL REFERENCES resources (identifier) ON DELETE CASCADE ON UPDATE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  PRIMARY KEY (resource, client_id)
);
CREATE INDEX resource_clients_client_id_idx ON resource_clients (client_id);

-- The resources a client may ask for; NULL: every registered one.
ALTER TABLE clients ADD COLUMN allowed_resources text[];
-- How the client came to exist: the admin API, RFC 7591 dynamic registration, or a client ID metadata document.
ALTER TABLE clients ADD COLUMN registration_type text NOT NULL DEFAULT 'admin'
  CHECK (registration_type IN ('admin', 'dynamic', 'metadata_document'));
-- Last token or authorization request, for the maintenance job's clean-up of idle dynamic clients.
ALTER TABLE clients ADD COLUMN last_used_at timestamptz;

-- The resources an authorization granted; a refresh may narrow to one of them, never add one.
ALTER TABLE grants ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE refresh_tokens ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
-- An access token's audience: its resource identifiers, space-separated (URIs hold no spaces); NULL: the issuer.
ALTER TABLE access_tokens ADD COLUMN audience text;
