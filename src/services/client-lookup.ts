import type { CacheSpec } from '../cache/cache-hub.js';
import { findClient, type Client } from '../repositories/clients-repository.js';
import type { ServiceContext } from './context.js';
import { isMetadataDocumentClientId, resolveMetadataDocumentClient } from './metadata-document-client.js';

/**
 * Clients are read on every token, introspection, revocation and authorization request and written only
 * through the admin API, which invalidates them (src/services/admin/client-admin-service.ts). L1 lives 30 s
 * at most (a bound for the rare lost invalidation, e.g. a replica partitioned from Redis without noticing);
 * the Redis copy 5 minutes.
 */
export const CLIENT_CACHE: CacheSpec<Client> = {
  name: 'clients',
  l1TtlMs: 30_000,
  l1MaxEntries: 10_000,
  l2TtlSeconds: 300,
  revive(json) {
    const client = json as Client & { createdAt: string; updatedAt: string; lastUsedAt: string | null; metadataExpiresAt?: string | null };
    return {
      ...client,
      // An entry that a replica still on the previous release put in Redis lacks these columns: their
      // migration defaults (migrations/20261124220000_add_client_token_formats.sql) are what it stands for.
      idTokenSignedResponseAlg: client.idTokenSignedResponseAlg ?? 'RS256',
      accessTokenFormat: client.accessTokenFormat ?? null,
      // migrations/20261205210000_create_resources.sql
      allowedResources: client.allowedResources ?? null,
      registrationType: client.registrationType ?? 'admin',
      lastUsedAt: client.lastUsedAt ? new Date(client.lastUsedAt) : null,
      // migrations/20261205222000_add_client_metadata_expiry.sql
      metadataExpiresAt: client.metadataExpiresAt ? new Date(client.metadataExpiresAt) : null,
      // migrations/20261206051000_add_dpop_bindings.sql
      dpopBoundAccessTokens: client.dpopBoundAccessTokens ?? false,
      // migrations/20261206052000_create_pushed_authorization_requests.sql
      requirePushedAuthorizationRequests: client.requirePushedAuthorizationRequests ?? false,
      requestObjectSigningAlg: client.requestObjectSigningAlg ?? null,
      requireSignedRequestObject: client.requireSignedRequestObject ?? false,
      // migrations/20261206053000_add_client_keys.sql
      jwks: client.jwks ?? null,
      jwksUri: client.jwksUri ?? null,
      tokenEndpointAuthSigningAlg: client.tokenEndpointAuthSigningAlg ?? null,
      clientSecretEncrypted: client.clientSecretEncrypted ?? null,
      createdAt: new Date(client.createdAt),
      updatedAt: new Date(client.updatedAt),
    };
  },
};

type LookupCtx = Pick<ServiceContext, 'config' | 'db' | 'clients' | 'metrics' | 'audit' | 'metadataDocuments'>;

/**
 * A client by id, through the cache (never caching "not found"). The result is frozen: do not mutate it.
 * A client_id that is an https URL is a client ID metadata document's (src/services/metadata-document-client.ts):
 * fetched when its stored copy is stale, and ClientMetadataRefused is thrown when it cannot be used.
 */
export async function lookupClient(ctx: LookupCtx, clientId: string): Promise<Client | undefined> {
  if (isMetadataDocumentClientId(ctx.config, clientId)) return resolveMetadataDocumentClient(ctx, clientId);
  const client = await ctx.clients.get(clientId, () => findClient(ctx.db, clientId));
  // A metadata-document client exists only while its URL is accepted (CIMD_ENABLED, CIMD_ALLOW_LOOPBACK).
  return client?.registrationType === 'metadata_document' ? undefined : client;
}
