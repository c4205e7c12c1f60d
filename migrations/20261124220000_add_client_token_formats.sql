-- Up Migration
-- Per-client token formats. id_token_signed_response_alg (OpenID Connect Dynamic Client Registration 1.0
-- section 2) is the JWS alg of the client's ID tokens; RS256 by default, the one every relying party
-- supports (OIDC Core section 3.1.3.7). Only algorithms Authly can hold keys for: never none or HS*.
-- access_token_format is 'jwt' or 'opaque'; NULL means the server default (ACCESS_TOKEN_FORMAT).
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'RS256'
  CHECK (id_token_signed_response_alg IN ('RS256', 'ES256', 'EdDSA'));
ALTER TABLE clients ADD COLUMN access_token_format text
  CHECK (access_token_format IN ('jwt', 'opaque'));
