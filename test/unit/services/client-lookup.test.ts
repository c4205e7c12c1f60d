import { describe, expect, it } from 'vitest';
import type { Client } from '../../../src/repositories/clients-repository.js';
import { CLIENT_DEFAULTS } from '../../../src/services/admin/client-admin-service.js';
import { CLIENT_CACHE } from '../../../src/services/client-lookup.js';

const CLIENT: Client = {
  ...CLIENT_DEFAULTS,
  clientId: 'cached',
  clientSecretHash: 'hmac-sha256$x',
  clientName: 'Cached',
  clientType: 'confidential',
  redirectUris: ['https://app.example.com/cb'],
  responseTypes: ['code'],
  idTokenSignedResponseAlg: 'ES256',
  accessTokenFormat: 'opaque',
  allowedResources: ['https://api.example.com'],
  registrationType: 'dynamic',
  lastUsedAt: new Date('2026-11-24T12:00:00.000Z'),
  metadataExpiresAt: new Date('2026-11-24T13:00:00.000Z'),
  jwksUri: 'https://app.example.com/jwks.json',
  tokenEndpointAuthSigningAlg: 'PS256',
  clientSecretEncrypted: null,
  createdAt: new Date('2026-11-24T10:00:00.000Z'),
  updatedAt: new Date('2026-11-24T11:00:00.000Z'),
};

/** Redis holds clients as JSON (src/cache/cache-hub.ts); revive must give back what the database gave. */
describe('client cache revive', () => {
  const throughJson = (value: unknown) => CLIENT_CACHE.revive(JSON.parse(JSON.stringify(value)));

  it('gives back the client, dates and per-client token formats included', () => {
    expect(throughJson(CLIENT)).toEqual(CLIENT);
    expect(throughJson({ ...CLIENT, accessTokenFormat: null })).toEqual({ ...CLIENT, accessTokenFormat: null });
  });

  it('reads an entry cached by the previous release (without the newer columns) as their migration defaults', () => {
    const {
      idTokenSignedResponseAlg: _alg,
      accessTokenFormat: _format,
      allowedResources: _resources,
      registrationType: _registration,
      lastUsedAt: _used,
      metadataExpiresAt: _expires,
      jwks: _jwks,
      jwksUri: _jwksUri,
      tokenEndpointAuthSigningAlg: _signingAlg,
      clientSecretEncrypted: _encrypted,
      ...older
    } = CLIENT;
    expect(throughJson(older)).toEqual({
      ...CLIENT,
      idTokenSignedResponseAlg: 'RS256',
      accessTokenFormat: null,
      allowedResources: null,
      registrationType: 'admin',
      lastUsedAt: null,
      metadataExpiresAt: null,
      jwks: null,
      jwksUri: null,
      tokenEndpointAuthSigningAlg: null,
      clientSecretEncrypted: null,
    });
  });
});
