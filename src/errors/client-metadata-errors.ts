/**
 * Why a client ID metadata document (draft-ietf-oauth-client-id-metadata-document) was not accepted. A
 * closed list: it labels authly_client_metadata_refusals_total and the audit line. The authorization
 * endpoint shows the description on its untrusted-redirect page; the token endpoint answers invalid_client.
 */
export const CLIENT_METADATA_REFUSALS = [
  /** The client_id URL breaks the draft's URL rules (section 3) or the scheme is not allowed. */
  'invalid_url',
  /** CIMD_ALLOWED_DOMAINS / CIMD_DENIED_DOMAINS. */
  'domain_denied',
  /** The host is, or resolves to, a loopback, private or other special-use address (the SSRF guard). */
  'forbidden_address',
  'dns_failed',
  'network_error',
  'timeout',
  /** A 3xx: redirects are never followed. */
  'redirect',
  /** Any other status than 200. */
  'status',
  'content_type',
  /** Larger than 5 KB. */
  'too_large',
  'invalid_json',
  /** The document's client_id is not exactly the URL it was fetched from. */
  'client_id_mismatch',
  /** A shared-secret or key-based token_endpoint_auth_method, a client_secret, or private keys in jwks. */
  'confidential_client',
  /** Anything else the registration rules refuse (redirect_uris missing or invalid, grant types, URLs). */
  'invalid_metadata',
] as const;

export type ClientMetadataRefusal = (typeof CLIENT_METADATA_REFUSALS)[number];

export class ClientMetadataRefused extends Error {
  override name = 'ClientMetadataRefused';

  /** `description` is public: printable ASCII without quotes or backslashes (RFC 6749 section 5.2). */
  constructor(
    readonly reason: ClientMetadataRefusal,
    readonly description: string,
  ) {
    super(description);
  }
}
