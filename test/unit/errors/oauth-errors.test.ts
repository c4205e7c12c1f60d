import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessDenied,
  ConsentRequired,
  InsufficientScope,
  InteractionRequired,
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  InvalidToken,
  LoginRequired,
  RequestNotSupported,
  RequestUriNotSupported,
  safeDescription,
  ServerError,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedResponseType,
} from '../../../src/errors/oauth-errors.js';

const RFC_6749_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

describe('OAuth errors', () => {
  it.each([
    [InvalidRequest, 'invalid_request', 400],
    [InvalidClient, 'invalid_client', 401],
    [InvalidGrant, 'invalid_grant', 400],
    [UnauthorizedClient, 'unauthorized_client', 400],
    [UnsupportedGrantType, 'unsupported_grant_type', 400],
    [UnsupportedResponseType, 'unsupported_response_type', 400],
    [InvalidScope, 'invalid_scope', 400],
    [AccessDenied, 'access_denied', 400],
    [LoginRequired, 'login_required', 400],
    [ConsentRequired, 'consent_required', 400],
    [InteractionRequired, 'interaction_required', 400],
    [RequestNotSupported, 'request_not_supported', 400],
    [RequestUriNotSupported, 'request_uri_not_supported', 400],
    [ServerError, 'server_error', 500],
    [InvalidToken, 'invalid_token', 401],
    [InsufficientScope, 'insufficient_scope', 403],
  ] as const)('%o is %s with status %i, and the class is named after the code', (Cls, code, status) => {
    const err = new Cls('something went wrong', 'private detail');
    expect(err.error).toBe(code);
    expect(err.status).toBe(status);
    expect(err.name).toBe(code.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join(''));
    // The private detail never reaches the wire.
    expect(err.toJSON()).toEqual({ error: code, error_description: 'something went wrong' });
    expect(JSON.stringify(err)).not.toContain('private detail');
  });

  it('descriptions are cleaned of characters RFC 6749 section 5.2 forbids', () => {
    expect(new InvalidRequest('a "quoted" \\ back\nslash é').description).toBe('a quoted  backslash ');
  });

  it('descriptions are capped at 500 characters', () => {
    expect(safeDescription('x'.repeat(2000))).toHaveLength(500);
  });

  it('safeDescription output is always within %x20-21 / %x23-5B / %x5D-7E (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(safeDescription(s)).toMatch(RFC_6749_CHARS);
      }),
    );
  });

  it('safeDescription keeps allowed text unchanged (property)', () => {
    const allowed = fc.string({ unit: fc.constantFrom(...' !#$%&\'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~'.split('')), maxLength: 500 });
    fc.assert(fc.property(allowed, (s) => safeDescription(s) === s));
  });
});
