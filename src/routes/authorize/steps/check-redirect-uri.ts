import { onlyValue, UntrustedRedirectError, type AuthorizeStep } from './authorize-context.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * Exact string match against the registered list (RFC 9700 section 2.1, OAuth 2.1 section 2.3.1). The
 * one allowance: a loopback redirect of a native app may use any port (RFC 8252 section 7.3).
 */
export function redirectUriMatches(registered: readonly string[], candidate: string): boolean {
  if (registered.includes(candidate)) return true;
  const candidateUrl = loopbackUrl(candidate);
  if (!candidateUrl || candidate.includes('#')) return false;
  candidateUrl.port = '';
  return registered.some((r) => {
    const reg = loopbackUrl(r);
    return reg !== undefined && reg.port === '' && reg.href === candidateUrl.href;
  });
}

function loopbackUrl(uri: string): URL | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? url : undefined;
  } catch {
    return undefined;
  }
}

export const checkRedirectUri: AuthorizeStep = (c) => {
  const redirectUri = onlyValue(c.raw, 'redirect_uri');
  // OIDC Core section 3.1.2.1 makes redirect_uri required; Authly requires it of every request.
  if (redirectUri === undefined) throw new UntrustedRedirectError('The request has no redirect_uri.');
  if (redirectUri === 'repeated') throw new UntrustedRedirectError('The redirect_uri parameter is repeated.');
  if (!redirectUriMatches(c.client!.redirectUris, redirectUri)) {
    throw new UntrustedRedirectError('The redirect_uri is not registered for this application.');
  }
  c.request.redirectUri = redirectUri;
  // From here on errors go back to the client; state rides along (RFC 6749 section 4.1.2.1).
  const state = onlyValue(c.raw, 'state');
  if (state !== undefined && state !== 'repeated') c.request.state = state;
  const mode = onlyValue(c.raw, 'response_mode');
  c.request.responseMode = mode === 'form_post' ? 'form_post' : 'query';
};
