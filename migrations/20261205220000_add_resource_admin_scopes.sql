-- Up Migration
-- The admin scopes of /admin/resources (src/services/scope-policy.ts ADMIN_SCOPES); authly:admin implies both.
INSERT INTO scopes (name, description, is_default) VALUES
  ('admin:resources:read', 'Read resource servers (APIs)', false),
  ('admin:resources:write', 'Create, change and delete resource servers (APIs)', false)
ON CONFLICT (name) DO NOTHING;
