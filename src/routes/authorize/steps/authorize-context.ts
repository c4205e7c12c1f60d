import type { RawParams } from '../../../http/form-body.js';
import type { Client } from '../../../repositories/clients-repository.js';
import type { AuthorizationRequest } from '../../../services/authorization-request.js';
import type { ServiceContext } from '../../../services/context.js';

/** The longest state, nonce, login_hint or scope accepted. */
export const MAX_PARAMETER_LENGTH = 2048;

/**
 * An error shown as an HTML page because the redirect URI is not (yet) trusted: never redirected. `error` is
 * the OAuth code it stands for where a client reads it directly (the pushed authorization request endpoint
 * answers it as JSON, RFC 9126 section 2.3).
 */
export class UntrustedRedirectError extends Error {
  constructor(
    message: string,
    readonly error: 'invalid_request' | 'invalid_request_uri' | 'invalid_request_object' = 'invalid_request',
  ) {
    super(message);
  }
}

/** State the steps build up, in order; later steps may rely on what earlier ones set. */
export interface AuthorizeContext {
  services: ServiceContext;
  raw: RawParams;
  /** Single-valued view of `raw`; set by checkDuplicateParameters. */
  params: Record<string, string | undefined>;
  client?: Client;
  request: Partial<AuthorizationRequest> & { prompt: string[] };
  /**
   * 'push': the steps validate a request pushed to POST /oauth/par (RFC 9126 section 2.1), which is stored,
   * not answered; unset: an authorization request.
   */
  mode?: 'push';
  /** The parameters are those of a pushed request (loaded by loadPushedRequest, or being pushed). */
  pushed?: boolean;
  /** The parameters came from a request object (RFC 9101) with this alg; set by unpackRequestObject. */
  requestObjectAlg?: string;
}

export type AuthorizeStep = (c: AuthorizeContext) => void | Promise<void>;

/** The one value of a parameter that must be present at most once, or undefined if absent/empty. */
export function onlyValue(raw: RawParams, name: string): string | undefined | 'repeated' {
  const values = raw[name];
  if (!values) return undefined;
  if (values.length > 1) return 'repeated';
  return values[0] === '' ? undefined : values[0];
}
