import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { InvalidScope, InvalidTarget } from '../../../src/errors/oauth-errors.js';
import type { Client } from '../../../src/repositories/clients-repository.js';
import type { Resource } from '../../../src/repositories/resources-repository.js';
import {
  accessTokenSettings,
  audienceClaim,
  canonicalResources,
  scopesForResources,
} from '../../../src/services/resource-indicators.js';
import type { KeyStore } from '../../../src/tokens/key-store.js';

const config = loadConfig({ JWT_ALGORITHM: 'ES256', ACCESS_TOKEN_EXPIRE_MINUTES: '15' });
const ctx = { config, keys: { algorithms: ['RS256', 'ES256'] } as unknown as KeyStore };
const client = { accessTokenFormat: null } as Client;

const resource = (identifier: string, overrides: Partial<Resource> = {}): Resource => ({
  identifier,
  name: identifier,
  scopes: [],
  accessTokenFormat: null,
  accessTokenTtlSeconds: null,
  signingAlg: null,
  clientIds: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...overrides,
});

describe('canonicalResources', () => {
  it('canonicalizes and removes duplicates, keeping the first order', () => {
    expect(canonicalResources(['HTTPS://A.example/', 'https://b.example/x', 'https://a.example'])).toEqual(['https://a.example', 'https://b.example/x']);
  });

  it.each([
    [['#x'], 'resource is not an absolute URI'],
    [['https://a.example/#x'], 'resource must not contain a fragment'],
    [['https://a.example/ x'], 'resource contains whitespace or a control character'],
    [[`https://a.example/${'é'.repeat(400)}`], 'resource is too long'],
    [Array.from({ length: 17 }, (_, i) => `https://r${i}.example`), 'at most 16 resource values are accepted'],
  ])('refuses %j with invalid_target', (values, description) => {
    expect(() => canonicalResources(values)).toThrow(new InvalidTarget(description));
  });
});

describe('scopesForResources', () => {
  const api = resource('https://api.example', { scopes: ['read', 'write'] });
  it('keeps the scopes a resource accepts and the OpenID Connect ones', () => {
    expect(scopesForResources(['openid', 'email', 'read', 'other', 'offline_access'], [api], true)).toEqual(['openid', 'email', 'read', 'offline_access']);
  });
  it('without resource: every scope', () => {
    expect(scopesForResources(['other'], [], true)).toEqual(['other']);
  });
  it('nothing left: invalid_scope when the scopes were asked for, else an empty scope', () => {
    expect(() => scopesForResources(['other'], [api], true)).toThrow(new InvalidScope('none of the requested scopes is accepted by the requested resource'));
    expect(scopesForResources(['other'], [api], false)).toEqual([]);
    expect(scopesForResources([], [api], true)).toEqual([]);
  });
});

describe('audienceClaim', () => {
  it('the issuer, one identifier, or an array', () => {
    expect(audienceClaim('https://issuer', [])).toBe('https://issuer');
    expect(audienceClaim('https://issuer', ['https://a'])).toBe('https://a');
    expect(audienceClaim('https://issuer', ['https://a', 'https://b'])).toEqual(['https://a', 'https://b']);
  });
});

describe('accessTokenSettings', () => {
  it('no resource: the client and server defaults', () => {
    expect(accessTokenSettings(ctx, client, [])).toEqual({ format: 'jwt', ttlSeconds: 900, alg: 'ES256' });
    expect(accessTokenSettings(ctx, { ...client, accessTokenFormat: 'opaque' }, [])).toEqual({ format: 'opaque', ttlSeconds: 900, alg: 'ES256' });
  });
  it("one resource's settings override them", () => {
    const r = resource('https://a', { accessTokenFormat: 'opaque', accessTokenTtlSeconds: 60, signingAlg: 'RS256' });
    expect(accessTokenSettings(ctx, client, [r])).toEqual({ format: 'opaque', ttlSeconds: 60, alg: 'RS256' });
    const jwt = resource('https://j', { accessTokenFormat: 'jwt' });
    expect(accessTokenSettings(ctx, { ...client, accessTokenFormat: 'opaque' }, [jwt]).format).toBe('jwt');
  });
  it('an alg without a key falls back to JWT_ALGORITHM', () => {
    expect(accessTokenSettings(ctx, client, [resource('https://e', { signingAlg: 'EdDSA' })]).alg).toBe('ES256');
  });
  it('several: the shortest lifetime, jwt unless all are opaque, the alg only when they agree', () => {
    const a = resource('https://a', { accessTokenFormat: 'opaque', accessTokenTtlSeconds: 600, signingAlg: 'RS256' });
    const b = resource('https://b', { accessTokenFormat: 'jwt', accessTokenTtlSeconds: 120, signingAlg: 'RS256' });
    const c = resource('https://c', { accessTokenFormat: 'opaque', signingAlg: null });
    expect(accessTokenSettings(ctx, client, [a, b])).toEqual({ format: 'jwt', ttlSeconds: 120, alg: 'RS256' });
    expect(accessTokenSettings(ctx, client, [a, c])).toEqual({ format: 'opaque', ttlSeconds: 600, alg: 'ES256' });
  });
});
