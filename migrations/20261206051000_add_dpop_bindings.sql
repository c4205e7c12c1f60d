-- Up Migration
-- Issue 13 §1, DPoP (RFC 9449). A client registered with dpop_bound_access_tokens must send a proof with
-- every token request (section 5.2). Access tokens record the thumbprint of the key they are bound to (an
-- opaque token has no cnf claim to carry it; introspection and userinfo read it with the token's row),
-- public clients' refresh tokens too (section 5), and a code requested with dpop_jkt (section 10) keeps it
-- until the exchange. NULL: not bound (Bearer).
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;
ALTER TABLE access_tokens ADD COLUMN dpop_jkt text;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt text;
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt text;

-- Down Migration
ALTER TABLE authorization_codes DROP COLUMN dpop_jkt;
ALTER TABLE refresh_tokens DROP COLUMN dpop_jkt;
ALTER TABLE access_tokens DROP COLUMN dpop_jkt;
ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens;
