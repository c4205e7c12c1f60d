-- Up Migration
-- Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose client_id is
-- an https URL is a clients row (registration_type 'metadata_document') refreshed from the document at that
-- URL. Until this time the row serves without a fetch (HTTP cache headers, clamped by CIMD_CACHE_MIN_SECONDS
-- and CIMD_CACHE_MAX_SECONDS); NULL for every other client.
ALTER TABLE clients ADD COLUMN metadata_expires_at timestamptz;
