/**
 * OAuth and OpenID Connect errors, one class per RFC error code. `description` is public and goes on the
 * wire; `detail` is private and only logged. Serialized in one place: src/http/error-handler.ts.
 */

// RFC 6749 section 5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
const UNSAFE_DESCRIPTION_CHARS = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g;

export function safeDescription(text: string): string {
  return text.replace(UNSAFE_DESCRIPTION_CHARS, '').slice(0, 500);
}

export abstract class OAuthError extends Error {
  abstract readonly error: string;
  readonly status: number = 400;
  readonly description: string;
  readonly detail: string | undefined;
  /**
   * RFC 9449 section 7.1: set on an error at a protected resource for a DPoP request (or a DPoP-bound
   * token): the algorithms of a `WWW-Authenticate: DPoP` challenge, which then replaces the Bearer one.
   */
  dpopChallengeAlgs: readonly string[] | undefined;
  /** RFC 9449 section 8: a fresh server nonce to send back in the DPoP-Nonce header. */
  dpopNonce: string | undefined;

  constructor(description: string, detail?: string) {
    super(description);
    this.description = safeDescription(description);
    this.detail = detail;
  }

  override get name(): string {
    return this.constructor.name;
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
}
/** invalid_request at a protected resource: answered with a Bearer challenge (RFC 6750 section 3.1). */
export class InvalidBearerRequest extends InvalidRequest {}
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status = 401;
  /** Set when the client tried HTTP Basic: the 401 then carries a Basic challenge (RFC 6749 section 5.2). */
  usedBasic = false;
}
export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
}
export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
}
export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
}
export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
}
export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
}
/** RFC 8707 section 2: the requested resource is invalid, missing, unknown, or malformed. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target';
}
export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
}
/** RFC 8628 section 3.5: the user has not yet approved or denied the device's request; poll again. */
export class AuthorizationPending extends OAuthError {
  readonly error = 'authorization_pending';
}
/** RFC 8628 section 3.5: still pending, and the device polled too fast; its interval grew by 5 seconds. */
export class SlowDown extends OAuthError {
  readonly error = 'slow_down';
}
/** RFC 8628 section 3.5: the device_code has expired; the device may start a new request. */
export class ExpiredToken extends OAuthError {
  readonly error = 'expired_token';
}
export class LoginRequired extends OAuthError {
  readonly error = 'login_required';
}
export class ConsentRequired extends OAuthError {
  readonly error = 'consent_required';
}
export class InteractionRequired extends OAuthError {
  readonly error = 'interaction_required';
}
export class RequestNotSupported extends OAuthError {
  readonly error = 'request_not_supported';
}
export class RequestUriNotSupported extends OAuthError {
  readonly error = 'request_uri_not_supported';
}
/** OIDC Core section 3.1.2.6 / RFC 9126 section 4: the request_uri is unknown, expired, used, or not this client's. */
export class InvalidRequestUri extends OAuthError {
  readonly error = 'invalid_request_uri';
}
/** OIDC Core section 3.1.2.6 / RFC 9101 section 6.3: the request object is not valid. */
export class InvalidRequestObject extends OAuthError {
  readonly error = 'invalid_request_object';
}
export class ServerError extends OAuthError {
  readonly error = 'server_error';
  override readonly status = 500;
}
/**
 * RFC 6749 sections 4.1.2.1 and 5.2 usage: the server cannot handle the request now (a dependency is down,
 * too many requests in flight, shutting down). Sent as 503 with Retry-After, which tells clients to retry.
 */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 503;

  constructor(
    description: string,
    readonly retryAfterSeconds: number,
    detail?: string,
  ) {
    super(description, detail);
  }
}
/** RFC 7591 section 3.2.2: a redirect URI the registration cannot accept. */
export class InvalidRedirectUri extends OAuthError {
  readonly error = 'invalid_redirect_uri';
}
/** RFC 7591 section 3.2.2: any other client metadata value the registration cannot accept. */
export class InvalidClientMetadata extends OAuthError {
  readonly error = 'invalid_client_metadata';
}
/**
 * REGISTRATION_POLICY=closed: this server registers no client dynamically. RFC 7591 defines no code for it;
 * access_denied (RFC 6749 section 4.1.2.1) says the server refuses, and 403 says that no credential helps.
 */
export class RegistrationNotAllowed extends OAuthError {
  readonly error = 'access_denied';
  override readonly status = 403;
}
/** RFC 6750 section 3.1: errors at a protected resource carry a Bearer challenge. */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token';
  override readonly status = 401;
  /** No credentials were sent at all: the challenge then carries no error code (RFC 6750 section 3.1). */
  noCredentials = false;
}
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope';
  override readonly status = 403;
}

/** RFC 9449 section 5 and 7.1: the DPoP proof is missing, malformed or does not hold (400 at the token endpoint). */
export class InvalidDpopProof extends OAuthError {
  readonly error = 'invalid_dpop_proof';
}
/** The same at a protected resource: 401 with a DPoP challenge (RFC 9449 section 7.1). */
export class InvalidDpopProofAtResource extends InvalidDpopProof {
  override readonly status = 401;
}
/** RFC 9449 section 8: the proof must carry the server's current nonce, sent in the DPoP-Nonce header. */
export class UseDpopNonce extends OAuthError {
  readonly error = 'use_dpop_nonce';

  constructor(description: string, nonce: string) {
    super(description);
    this.dpopNonce = nonce;
  }
}
/** RFC 9449 section 9: the same at a protected resource, 401 with a DPoP challenge. */
export class UseDpopNonceAtResource extends UseDpopNonce {
  override readonly status = 401;
}
