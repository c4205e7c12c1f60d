-- Up Migration
-- Issue 13 §2, RFC 9126: an authorization request pushed by a client to POST /oauth/par, kept until its
-- request_uri is used once at the authorization endpoint or expires (PAR_EXPIRE_SECONDS). Only a SHA-256 hash
-- of the request_uri's random part is stored, bound to the client that pushed it. `parameters` are the
-- validated authorization request parameters as pushed (repeated keys kept: {"resource": ["…", "…"]}).
CREATE TABLE pushed_authorization_requests (
  request_uri_hash text PRIMARY KEY,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  parameters jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pushed_authorization_requests_expires_idx ON pushed_authorization_requests (expires_at);
CREATE INDEX pushed_authorization_requests_client_idx ON pushed_authorization_requests (client_id);

-- RFC 9126 section 6: a client registered with require_pushed_authorization_requests may start an
-- authorization only through a pushed request.
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false;

-- RFC 9101 (signed request objects): the one alg this client's request objects may use (OpenID Connect
-- Dynamic Client Registration 1.0 section 2; `none` only when registered so, HS* only for client_secret_jwt
-- clients), NULL: any alg Authly accepts from the client; and whether every authorization request of the client must come as a signed request object
-- (RFC 9101 section 10.5).
ALTER TABLE clients ADD COLUMN request_object_signing_alg text
  CHECK (request_object_signing_alg IN ('RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512', 'none'));
ALTER TABLE clients ADD COLUMN require_signed_request_object boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE clients DROP COLUMN require_signed_request_object;
ALTER TABLE clients DROP COLUMN request_object_signing_alg;
ALTER TABLE clients DROP COLUMN require_pushed_authorization_requests;
DROP TABLE pushed_authorization_requests;
