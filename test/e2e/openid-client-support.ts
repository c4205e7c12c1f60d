import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { FetchBrowser, WalkOptions } from '../helpers/e2e-server.js';

/**
 * openid-client configured the way a relying party would be against this test server: metadata from
 * discovery, plain http allowed (the server is on 127.0.0.1), and ID tokens from the token endpoint
 * verified against the JWKS (signature included), not only their claims.
 */
export function discover(issuer: string, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/** OIDC Core section 3.1.3.6: the left half of the SHA-256 of the access token (RS256), base64url. */
export function expectedAtHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

export interface CodeFlowOptions extends WalkOptions {
  redirectUri: string;
  scope?: string;
  /** Extra authorization request parameters (prompt, response_mode, ...). */
  extra?: Record<string, string>;
  /** false: send no code_challenge and no code_verifier (the require_pkce=false client). */
  pkce?: boolean;
  /** A DPoP handle (RFC 9449): the token request carries a proof by its key. */
  dpop?: client.DPoPHandle;
}

export interface CodeFlowResult {
  tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  pages: ('login' | 'consent')[];
  nonce: string;
  state: string;
}

/**
 * One authorization code flow as openid-client drives it: state + nonce + PKCE S256, the pages walked
 * by `browser`, then the callback URL (or, for form_post, the POST the browser would send) handed to
 * authorizationCodeGrant, which checks iss, state, the ID token and the nonce.
 */
export async function codeFlow(config: client.Configuration, browser: FetchBrowser, options: CodeFlowOptions): Promise<CodeFlowResult> {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const usePkce = options.pkce ?? true;
  const verifier = client.randomPKCECodeVerifier();
  const parameters: Record<string, string> = {
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid profile email offline_access',
    state,
    nonce,
    ...(usePkce ? { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' } : {}),
    ...options.extra,
  };
  const walk = await browser.authorize(client.buildAuthorizationUrl(config, parameters), options);
  const callback =
    walk.landing.mode === 'query'
      ? walk.landing.url
      : new Request(walk.landing.action, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: walk.landing.params.toString(),
        });
  const tokens = await client.authorizationCodeGrant(config, callback, {
    ...(usePkce ? { pkceCodeVerifier: verifier } : {}),
    expectedState: state,
    expectedNonce: nonce,
  }, undefined, options.dpop ? { DPoP: options.dpop } : undefined);
  return { tokens, pages: walk.pages, nonce, state };
}

/** The OAuth error code of a rejected openid-client call, or a rethrow when it is something else. */
export async function oauthErrorOf(promise: Promise<unknown>): Promise<{ error: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return { error: err.error, status: err.status };
    if (err instanceof client.AuthorizationResponseError) return { error: err.error };
    if (err instanceof client.WWWAuthenticateChallengeError) {
      return { error: err.cause[0]?.parameters.error ?? 'unknown', status: err.status };
    }
    throw err;
  }
  throw new Error('expected the call to fail with an OAuth error');
}
