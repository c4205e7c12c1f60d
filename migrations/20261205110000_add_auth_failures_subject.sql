-- Up Migration
-- Throttle keys are now keyed hashes (fixed length, no login names or addresses at rest), counted per
-- account and address; the old plain-text rows are transient counters and cannot be mapped, so they go.
-- `subject` is the keyed hash of the account or client a row throttles, so an admin can unlock it
-- (every row for that account, whichever address it is paired with).
DELETE FROM auth_failures;
ALTER TABLE auth_failures ADD COLUMN subject text;
CREATE INDEX auth_failures_subject_idx ON auth_failures (subject) WHERE subject IS NOT NULL;
