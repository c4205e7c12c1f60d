import { describe, expect, it } from 'vitest';
import { idTokenAlgProblem, redirectUriProblem, registrationProblems, responseTypesFor } from '../../../../src/services/admin/client-registration-rules.js';

const PRIVATE_USE = 'must use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 section 7.1)';
const HTTP = 'http is allowed only for loopback hosts (RFC 8252 section 7.3); use https';

describe('redirect URI registration (RFC 6749 section 3.1.2, RFC 8252)', () => {
  it.each([
    'https://app.example.com/cb',
    'https://app.example.com:8443/cb?tenant=a',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:49152/cb',
    'http://localhost:3000/cb',
    'http://[::1]:8080/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['https://app.example.com/cb#frag', 'must not contain a fragment (RFC 6749 section 3.1.2)'],
    ['https://app.example.com/cb#', 'must not contain a fragment (RFC 6749 section 3.1.2)'],
    ['/cb', 'must be an absolute URI'],
    ['app.example.com/cb', 'must be an absolute URI'],
    ['', 'must be printable ASCII without spaces (percent-encode other characters)'],
    ['https://app.example.com/c b', 'must be printable ASCII without spaces (percent-encode other characters)'],
    ['https://app.example.com/cb\n', 'must be printable ASCII without spaces (percent-encode other characters)'],
    ['https://exämple.com/cb', 'must be printable ASCII without spaces (percent-encode other characters)'],
    ['https://user:pass@app.example.com/cb', 'must not contain user credentials'],
    ['http://app.example.com/cb', HTTP],
    ['http://127.0.0.1.example.com/cb', HTTP],
    ['http://localhost.example.com/cb', HTTP],
    ['javascript:alert(1)', PRIVATE_USE],
    ['data:text/html,hi', PRIVATE_USE],
    ['file:///etc/passwd', PRIVATE_USE],
    ['myapp:/cb', PRIVATE_USE],
  ])('refuses %j', (uri, problem) => {
    expect(redirectUriProblem(uri)).toBe(problem);
  });
});

describe('registration consistency', () => {
  const codeClient = {
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    redirectUris: ['https://app.example.com/cb'],
    postLogoutRedirectUris: [],
    requirePkce: true,
  };
  const serviceClient = { ...codeClient, grantTypes: ['client_credentials'], responseTypes: [], redirectUris: [] };

  it.each([
    ['a confidential code-flow client', codeClient],
    ['a public code-flow client', { ...codeClient, tokenEndpointAuthMethod: 'none' }],
    ['a confidential client without PKCE', { ...codeClient, requirePkce: false }],
    ['a client_credentials-only client', serviceClient],
    ['a client with both grants', { ...codeClient, grantTypes: ['authorization_code', 'client_credentials'] }],
  ])('accepts %s', (_case, client) => {
    expect(registrationProblems(client)).toEqual({});
  });

  it('reports every broken rule once, by wire field name', () => {
    expect(
      registrationProblems({
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['refresh_token', 'client_credentials'],
        responseTypes: ['code'],
        redirectUris: ['http://example.com/cb', 'https://ok.example.com/cb#x'],
        postLogoutRedirectUris: ['https://ok.example.com/bye'],
        requirePkce: false,
      }),
    ).toEqual({
      'redirect_uris.0': HTTP,
      'redirect_uris.1': 'must not contain a fragment (RFC 6749 section 3.1.2)',
      grant_types: 'refresh_token requires authorization_code',
      response_types: 'must be empty without the authorization_code grant',
      redirect_uris: 'must be empty without the authorization_code grant',
      post_logout_redirect_uris: 'must be empty without the authorization_code grant',
      require_pkce: 'public clients always require PKCE',
    });
  });

  it('derives response_types from grant_types', () => {
    expect(responseTypesFor(['authorization_code', 'refresh_token'])).toEqual(['code']);
    expect(responseTypesFor(['client_credentials'])).toEqual([]);
  });

  it('allows an ID token alg only when the server holds a key for it (never none or HS*)', () => {
    expect(idTokenAlgProblem('ES256', ['RS256', 'ES256'])).toBeUndefined();
    for (const alg of ['EdDSA', 'none', 'HS256']) {
      expect(idTokenAlgProblem(alg, ['RS256', 'ES256'])).toBe('expected one of "RS256"|"ES256" (the algorithms this server holds signing keys for)');
    }
  });
});
