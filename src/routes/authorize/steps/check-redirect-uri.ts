import { MAX_PARAMETER_LENGTH, onlyValue, UntrustedRedirectError, type AuthorizeStep } from './authorize-context.js';

const LOOPBACK_ORIGINS = ['http://127.0.0.1', 'http://[::1]'];
// A port as a browser or native app writes it: no leading zero, at most 65535 (checked below).
const PORT = /^:([1-9]\d{0,4})(?=[/?]|$)/;

/**
 * Exact string match against the registered list (RFC 9700 section 2.1, OAuth 2.1 section 2.3.1). The
 * one allowance: a loopback redirect registered without a port may be used with any port (RFC 8252
 * section 7.3). That comparison is on the strings too: nothing is normalized, so `HTTP://`, `127.1`,
 * dot segments or a leading-zero port never match.
 */
export function redirectUriMatches(registered: readonly string[], candidate: string): boolean {
  if (registered.includes(candidate)) return true;
  const origin = LOOPBACK_ORIGINS.find((o) => candidate.startsWith(`${o}:`));
  if (!origin) return false;
  const port = PORT.exec(candidate.slice(origin.length));
  if (!port || Number(port[1]) > 65535) return false;
  const withoutPort = origin + candidate.slice(origin.length + port[0].length);
  return registered.includes(withoutPort);
}

export const checkRedirectUri: AuthorizeStep = (c) => {
  const redirectUri = onlyValue(c.raw, 'redirect_uri');
  // OIDC Core section 3.1.2.1 makes redirect_uri required; Authly requires it of every request.
  if (redirectUri === undefined) throw new UntrustedRedirectError('The request has no redirect_uri.');
  if (redirectUri === 'repeated') throw new UntrustedRedirectError('The redirect_uri parameter is repeated.');
  // A metadata document's redirect URIs are matched exactly, without the loopback port allowance (the
  // draft-ietf-oauth-client-id-metadata-document rules): its author lists the very URIs it uses.
  const matches =
    c.client!.registrationType === 'metadata_document'
      ? c.client!.redirectUris.includes(redirectUri)
      : redirectUriMatches(c.client!.redirectUris, redirectUri);
  if (!matches) {
    throw new UntrustedRedirectError('The redirect_uri is not registered for this application.');
  }
  c.request.redirectUri = redirectUri;
  // From here on errors go back to the client; state rides along (RFC 6749 section 4.1.2.1).
  const state = onlyValue(c.raw, 'state');
  // An oversized state is refused later (checkLengths) and is not echoed back.
  if (state !== undefined && state !== 'repeated' && state.length <= MAX_PARAMETER_LENGTH) c.request.state = state;
  const mode = onlyValue(c.raw, 'response_mode');
  c.request.responseMode = mode === 'form_post' ? 'form_post' : 'query';
};
