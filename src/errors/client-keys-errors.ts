/**
 * Why a client's keys (its `jwks_uri`, RFC 7591 section 2) could not be had. A closed list: it labels
 * authly_client_jwks_fetches_total. Endpoints answer with their own OAuth error (invalid_client at the
 * token endpoint, invalid_request_object for request objects); the description is public.
 */
export const CLIENT_KEYS_FAILURES = [
  /** The URL is not https (or http on loopback with OUTBOUND_ALLOW_LOOPBACK). */
  'invalid_url',
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
  'too_large',
  /** Not a JSON object with a `keys` array of public keys. */
  'invalid_jwks',
] as const;

export type ClientKeysFailure = (typeof CLIENT_KEYS_FAILURES)[number];

export class ClientKeysUnavailable extends Error {
  override name = 'ClientKeysUnavailable';

  /** `description` is public: printable ASCII without quotes or backslashes (RFC 6749 section 5.2). */
  constructor(
    readonly reason: ClientKeysFailure,
    readonly description: string,
  ) {
    super(description);
  }
}
