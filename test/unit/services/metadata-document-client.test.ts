import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import { ClientMetadataRefused } from '../../../src/errors/client-metadata-errors.js';
import {
  checkClientIdUrl,
  freshnessSeconds,
  isJsonContentType,
  isMetadataDocumentClientId,
  parseMetadataDocument,
  redirectHostOf,
  redirectsOnlyToThisDevice,
} from '../../../src/services/metadata-document-client.js';

const cimd = (overrides: Partial<Config['cimd']> = {}): Pick<Config, 'cimd'> => ({
  cimd: {
    enabled: true,
    allowLoopback: false,
    allowedDomains: [],
    deniedDomains: [],
    cacheMinSeconds: 300,
    cacheMaxSeconds: 86400,
    fetchTimeoutMs: 5000,
    maxFetchesPerHost: 4,
    ...overrides,
  },
});

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ClientMetadataRefused) return err.reason;
    throw err;
  }
  return undefined;
}

describe('isMetadataDocumentClientId', () => {
  it.each([
    ['https://app.example.com/client.json', {}, true],
    ['https://app.example.com/client.json', { enabled: false }, false],
    ['my-client', {}, false],
    ['http://app.example.com/client.json', { allowLoopback: true }, false],
    ['http://127.0.0.1:8080/client.json', {}, false],
    ['http://127.0.0.1:8080/client.json', { allowLoopback: true }, true],
    ['http://localhost/client.json', { allowLoopback: true }, true],
    ['http://[::1]:9/client.json', { allowLoopback: true }, true],
    ['http://127.0.0.1.example.com/client.json', { allowLoopback: true }, false],
    ['http://localhost.example.com/client.json', { allowLoopback: true }, false],
  ] as const)('%s with %j: %s', (clientId, overrides, expected) => {
    expect(isMetadataDocumentClientId(cimd(overrides), clientId)).toBe(expected);
  });
});

describe('checkClientIdUrl: domain policy on whole labels', () => {
  it.each([
    ['https://mcp.example.com/c.json', { allowedDomains: ['example.com'] }, undefined],
    ['https://example.com/c.json', { allowedDomains: ['example.com'] }, undefined],
    ['https://badexample.com/c.json', { allowedDomains: ['example.com'] }, 'domain_denied'],
    ['https://example.com.evil.net/c.json', { allowedDomains: ['example.com'] }, 'domain_denied'],
    ['https://evil.example.com/c.json', { deniedDomains: ['evil.example.com'] }, 'domain_denied'],
    ['https://a.evil.example.com/c.json', { deniedDomains: ['evil.example.com'] }, 'domain_denied'],
    ['https://notevil.example.com/c.json', { deniedDomains: ['evil.example.com'] }, undefined],
    ['https://evil.example.com/c.json', { allowedDomains: ['example.com'], deniedDomains: ['evil.example.com'] }, 'domain_denied'],
    ['https://app.example.com/c.json?v=1', {}, undefined],
  ] as const)('%s with %j', (url, overrides, expected) => {
    expect(reasonOf(() => checkClientIdUrl(cimd({ ...overrides } as Partial<Config['cimd']>), url))).toBe(expected);
  });
});

describe('freshnessSeconds', () => {
  const bounds = { min: 60, max: 3600 };
  const now = Date.parse('2026-12-05T12:00:00Z');
  it.each([
    [{}, 60],
    [{ 'cache-control': 'max-age=600' }, 600],
    [{ 'cache-control': 'public, MAX-AGE=600, must-revalidate' }, 600],
    [{ 'cache-control': 'max-age="600"' }, 600],
    [{ 'cache-control': 'max-age=10' }, 60],
    [{ 'cache-control': 'max-age=100000' }, 3600],
    [{ 'cache-control': 'max-age=600', age: '100' }, 500],
    [{ 'cache-control': 'max-age=abc' }, 60],
    [{ 'cache-control': 'no-store, max-age=600' }, 60],
    [{ 'cache-control': 'no-cache' }, 60],
    [{ expires: 'Sat, 05 Dec 2026 12:20:00 GMT' }, 1200],
    [{ expires: 'Sat, 05 Dec 2026 12:20:00 GMT', date: 'Sat, 05 Dec 2026 12:10:00 GMT' }, 600],
    [{ expires: '0' }, 60],
    [{ expires: 'Sat, 05 Dec 2026 12:20:00 GMT', 'cache-control': 'max-age=120' }, 120],
  ])('%j → %i s', (headers, expected) => {
    expect(freshnessSeconds(headers, bounds, now)).toBe(expected);
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/oauth-client-metadata+json', true],
    ['text/json', false],
    ['text/html', false],
    ['application/jsonp', false],
    [undefined, false],
  ])('%s: %s', (contentType, expected) => {
    expect(isJsonContentType(contentType)).toBe(expected);
  });
});

describe('parseMetadataDocument', () => {
  const id = 'https://app.example.com/client.json';
  const parse = (doc: unknown) => parseMetadataDocument(id, Buffer.from(JSON.stringify(doc)));
  const valid = { client_id: id, redirect_uris: ['https://app.example.com/cb'] };

  it('accepts the smallest document and ignores members it does not know', () => {
    expect(parse({ ...valid, software_id: 'x', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] } })).toMatchObject(valid);
  });

  it.each([
    [{ ...valid, client_id: `${id}/` }, 'client_id_mismatch'],
    [{ ...valid, client_id: id.toUpperCase() }, 'client_id_mismatch'],
    [{ ...valid, token_endpoint_auth_method: 'client_secret_jwt' }, 'confidential_client'],
    [{ ...valid, client_secret_expires_at: 0 }, 'confidential_client'],
    [{ ...valid, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'confidential_client'],
    [{ ...valid, jwks: { keys: [{ kty: 'RSA', n: 'n', e: 'AQAB', p: 'p' }] } }, 'confidential_client'],
    [{ ...valid, response_types: ['token'] }, 'invalid_metadata'],
    [{ ...valid, redirect_uris: ['javascript:alert(1)'] }, 'invalid_metadata'],
    [{ ...valid, post_logout_redirect_uris: ['http://evil.example/'] }, 'invalid_metadata'],
    [{ ...valid, scope: 'openid "quoted"' }, 'invalid_metadata'],
    [{ ...valid, contacts: ['not an email'] }, 'invalid_metadata'],
    [{ ...valid, redirect_uris: Array.from({ length: 51 }, (_, i) => `https://app.example.com/${i}`) }, 'invalid_metadata'],
    [null, 'invalid_json'],
    ['a string', 'invalid_json'],
  ])('%j: %s', (doc, expected) => {
    expect(reasonOf(() => parse(doc))).toBe(expected);
  });
});

describe('the consent page facts', () => {
  it.each([
    [['http://127.0.0.1/cb'], true],
    [['http://localhost:3000/cb', 'http://[::1]/cb'], true],
    [['com.example.app:/cb'], true],
    [['http://127.0.0.1/cb', 'https://app.example.com/cb'], false],
    [['https://localhost.example.com/cb'], false],
    [[], false],
  ])('redirectsOnlyToThisDevice(%j) is %s', (redirectUris, expected) => {
    expect(redirectsOnlyToThisDevice({ redirectUris })).toBe(expected);
  });

  it('names the host of the redirect URI', () => {
    expect(redirectHostOf('https://mcp.example.com:8443/cb?x=1')).toBe('mcp.example.com');
    expect(redirectHostOf('com.example.app:/cb')).toBe('com.example.app');
  });
});
