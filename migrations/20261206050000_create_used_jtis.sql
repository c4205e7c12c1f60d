-- Up Migration
-- Issue 13: identifiers that may be presented once — DPoP proof `jti`s (RFC 9449 section 11.1) and client
-- assertion `jti`s (RFC 7523 section 3, item 7) — remembered until the token they came in could no longer
-- be accepted, so that a replay is refused on every replica. Used when Redis is not configured (or is
-- down); only a hash of the identifier is stored.
CREATE TABLE used_jtis (
  namespace text NOT NULL,
  jti_hash text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (namespace, jti_hash)
);
CREATE INDEX used_jtis_expires_idx ON used_jtis (expires_at);

-- Down Migration
DROP TABLE used_jtis;
