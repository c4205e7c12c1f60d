-- Up Migration
-- Issue 13, asymmetric client authentication (RFC 7523, OpenID Connect Core 1.0 section 9) and the keys a
-- client verifies with (OpenID Connect Dynamic Client Registration 1.0 section 2, RFC 7591 section 2):
-- `jwks` holds the client's public keys by value, `jwks_uri` names where the client publishes them. A
-- client uses one or the other, never both (Registration 1.0 section 2: "MUST NOT both be present").
-- `token_endpoint_auth_signing_alg` pins the alg of the client's assertions (NULL: any Authly accepts).
-- `client_secret_encrypted`: client_secret_jwt needs the secret itself as an HMAC key, while Authly stores
-- only an HMAC of secrets; for such clients the secret is also kept AES-256-GCM encrypted under a key
-- derived from the server secret (src/services/client-secret-box.ts). NULL for every other client.
ALTER TABLE clients ADD COLUMN jwks jsonb;
ALTER TABLE clients ADD COLUMN jwks_uri text;
ALTER TABLE clients ADD COLUMN token_endpoint_auth_signing_alg text
  CHECK (token_endpoint_auth_signing_alg IN ('RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'HS384', 'HS512'));
ALTER TABLE clients ADD COLUMN client_secret_encrypted text;
ALTER TABLE clients ADD CONSTRAINT clients_jwks_or_jwks_uri CHECK (jwks IS NULL OR jwks_uri IS NULL);
ALTER TABLE clients DROP CONSTRAINT clients_token_endpoint_auth_method_check;
ALTER TABLE clients ADD CONSTRAINT clients_token_endpoint_auth_method_check CHECK (
  token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none')
);

-- Down Migration
ALTER TABLE clients DROP CONSTRAINT clients_token_endpoint_auth_method_check;
ALTER TABLE clients ADD CONSTRAINT clients_token_endpoint_auth_method_check CHECK (
  token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')
);
ALTER TABLE clients DROP CONSTRAINT clients_jwks_or_jwks_uri;
ALTER TABLE clients DROP COLUMN client_secret_encrypted;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_signing_alg;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
