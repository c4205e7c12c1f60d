-- Up Migration
-- Issue 14 §1: the admin lists page by keyset, newest first by (created_at, <primary key>): each list's
-- WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT n walks one of these indexes
-- backwards from the cursor, so a deep page costs what the first does. Scopes and resources page by their
-- primary keys. The per-user and per-client indexes lead with the old single-column indexes' column, so
-- they replace them (foreign-key cascades and lookups by user or client use them as before).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX clients_created_at_idx ON clients (created_at, client_id);
CREATE INDEX clients_registration_type_created_idx ON clients (registration_type, created_at, client_id);
CREATE INDEX initial_access_tokens_created_idx ON initial_access_tokens (created_at, id);

CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at, sid);
DROP INDEX sessions_user_id_idx;

CREATE INDEX grants_user_created_idx ON grants (user_id, created_at, id);
DROP INDEX grants_user_id_idx;
CREATE INDEX grants_client_created_idx ON grants (client_id, created_at, id);
DROP INDEX grants_client_id_idx;

-- Down Migration
CREATE INDEX grants_client_id_idx ON grants (client_id);
DROP INDEX grants_client_created_idx;
CREATE INDEX grants_user_id_idx ON grants (user_id);
DROP INDEX grants_user_created_idx;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
DROP INDEX sessions_user_created_idx;
DROP INDEX initial_access_tokens_created_idx;
DROP INDEX clients_registration_type_created_idx;
DROP INDEX clients_created_at_idx;
DROP INDEX users_created_at_id_idx;
