-- Up Migration
-- Failed login and client-authentication attempts, per account/client and per IP, shared by all replicas.
CREATE TABLE auth_failures (
  key text PRIMARY KEY,
  failures integer NOT NULL,
  first_failure_at timestamptz NOT NULL,
  locked_until timestamptz
);
CREATE INDEX auth_failures_first_failure_at_idx ON auth_failures (first_failure_at);
