-- Up Migration
-- Authly's core schema. Forward-only: later changes come as new timestamped files.
-- Secrets, codes and refresh tokens are stored only as hashes; access tokens (JWTs) by jti.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text NOT NULL,
  email text,
  email_verified boolean NOT NULL DEFAULT false,
  password_hash text,
  name text,
  given_name text,
  family_name text,
  middle_name text,
  nickname text,
  picture text,
  website text,
  gender text,
  birthdate text,
  zoneinfo text,
  locale text,
  phone_number text,
  phone_number_verified boolean NOT NULL DEFAULT false,
  address jsonb,
  is_admin boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness: "Alice" and "alice" are the same account.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE clients (
  client_id text PRIMARY KEY,
  client_secret_hash text,
  client_name text NOT NULL,
  client_type text NOT NULL CHECK (client_type IN ('confidential', 'public')),
  token_endpoint_auth_method text NOT NULL
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
  redirect_uris text[] NOT NULL DEFAULT '{}',
  post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
  grant_types text[] NOT NULL,
  response_types text[] NOT NULL,
  scope text NOT NULL DEFAULT '',
  client_uri text,
  logo_uri text,
  tos_uri text,
  policy_uri text,
  contacts text[] NOT NULL DEFAULT '{}',
  skip_consent boolean NOT NULL DEFAULT false,
  require_pkce boolean NOT NULL DEFAULT true,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((client_type = 'public') = (client_secret_hash IS NULL))
);

CREATE TABLE scopes (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO scopes (name, description, is_default) VALUES
  ('openid', 'Sign you in with your account', true),
  ('profile', 'Read your name and basic profile', false),
  ('email', 'Read your email address', false),
  ('phone', 'Read your phone number', false),
  ('address', 'Read your postal address', false),
  ('offline_access', 'Stay signed in to the application while you are away', false),
  ('authly:admin', 'Full administration of this Authly server', false),
  ('admin:clients:read', 'Read OAuth clients', false),
  ('admin:clients:write', 'Create, change and delete OAuth clients', false),
  ('admin:users:read', 'Read user accounts', false),
  ('admin:users:write', 'Create, change and delete user accounts', false),
  ('admin:scopes:read', 'Read scopes', false),
  ('admin:scopes:write', 'Create and delete scopes', false);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_jwk jsonb NOT NULL,
  -- JSON of the private JWK, or an AES-256-GCM envelope when AUTHLY_KEY_ENCRYPTION_KEY is set.
  private_jwk text NOT NULL,
  private_jwk_encrypted boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  -- The cookie holds a random value; only its SHA-256 is stored.
  id_hash text PRIMARY KEY,
  -- The public session id put in ID tokens (sid claim); never the cookie value.
  sid text NOT NULL UNIQUE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  auth_time timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- A pending authorization request waiting for login or consent in the browser that started it.
CREATE TABLE interactions (
  uid text PRIMARY KEY,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  params jsonb NOT NULL,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  auth_time timestamptz,
  sid text,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_expires_at_idx ON interactions (expires_at);

CREATE TABLE consents (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id_idx ON consents (client_id);

-- One grant per completed authorization: the family that codes, access and refresh tokens belong to.
CREATE TABLE grants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scope text NOT NULL,
  auth_time timestamptz NOT NULL,
  sid text,
  nonce text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX grants_user_id_idx ON grants (user_id);
CREATE INDEX grants_client_id_idx ON grants (client_id);

CREATE TABLE authorization_codes (
  code_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  redirect_uri text NOT NULL,
  code_challenge text,
  code_challenge_method text CHECK (code_challenge_method = 'S256'),
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorization_codes_grant_id_idx ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

CREATE TABLE access_tokens (
  jti text PRIMARY KEY,
  grant_id uuid REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  scope text NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_client_id_idx ON access_tokens (client_id);
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scope text NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Set when the token was exchanged for its successor (rotation); a second use is a replay.
  rotated_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
