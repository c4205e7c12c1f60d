-- Up Migration
-- Issue 14 §2: the audit trail as data. Every audit event is also a row here (the log line stays): admin
-- writes in the same transaction as the change they record, other events through a batched writer
-- (src/services/audit-writer.ts). `details` holds the event's other identifiers (scope, reason, grant_id,
-- kid, resource, ...), `changes` the diff of an admin write ({field: {from, to}}, never a secret).
CREATE TABLE audit_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL,
  actor text,
  actor_type text CHECK (actor_type IN ('user', 'client')),
  client_id text,
  subject text,
  ip text,
  request_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  changes jsonb
);

-- GET /admin/audit-events pages newest first by (occurred_at, id); retention deletes from the old end.
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);
-- Each filter, then the page order: an equality on the leading column walks the rest backwards.
-- `event` also serves the prefix filter (event LIKE 'admin.client.%' uses text_pattern_ops).
CREATE INDEX audit_events_event_idx ON audit_events (event text_pattern_ops, occurred_at, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, occurred_at, id);
CREATE INDEX audit_events_subject_idx ON audit_events (subject, occurred_at, id);
CREATE INDEX audit_events_client_idx ON audit_events (client_id, occurred_at, id);
CREATE INDEX audit_events_request_idx ON audit_events (request_id);

-- The admin scope that reads it (authly:admin implies it).
INSERT INTO scopes (name, description, is_default) VALUES
  ('admin:audit:read', 'Read the audit trail', false)
ON CONFLICT (name) DO NOTHING;

-- Down Migration
DELETE FROM scopes WHERE name = 'admin:audit:read';
DROP TABLE audit_events;
