import type { RawParams } from '../../../http/form-body.js';
import type { Client } from '../../../repositories/clients-repository.js';
import type { AuthorizationRequest } from '../../../services/authorization-request.js';
import type { ServiceContext } from '../../../services/context.js';

/** The longest state, nonce, login_hint or scope accepted. */
export const MAX_PARAMETER_LENGTH = 2048;

/** An error shown as an HTML page because the redirect URI is not (yet) trusted: never redirected. */
export class UntrustedRedirectError extends Error {}

/** State the steps build up, in order; later steps may rely on what earlier ones set. */
export interface AuthorizeContext {
  services: ServiceContext;
  raw: RawParams;
  /** Single-valued view of `raw`; set by checkDuplicateParameters. */
  params: Record<string, string | undefined>;
  client?: Client;
  request: Partial<AuthorizationRequest> & { prompt: string[] };
}

export type AuthorizeStep = (c: AuthorizeContext) => void | Promise<void>;

/** The one value of a parameter that must be present at most once, or undefined if absent/empty. */
export function onlyValue(raw: RawParams, name: string): string | undefined | 'repeated' {
  const values = raw[name];
  if (!values) return undefined;
  if (values.length > 1) return 'repeated';
  return values[0] === '' ? undefined : values[0];
}
