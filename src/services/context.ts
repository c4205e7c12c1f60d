import type { Config } from '../config/config.js';
import type { Cache } from '../cache/cache-hub.js';
import type { Db } from '../db/db.js';
import type { RedisConnection } from '../db/redis-connection.js';
import type { Client } from '../repositories/clients-repository.js';
import type { Resource } from '../repositories/resources-repository.js';
import type { Scope } from '../repositories/scopes-repository.js';
import type { KeyStore } from '../tokens/key-store.js';
import type { AuditLog } from './audit.js';
import type { ClientKeySets } from './client-keys.js';
import type { MetadataDocumentResolver } from './metadata-document-resolver.js';
import type { Metrics } from './metrics.js';

/** What services need: handed down from the composition root (src/plugins/services.ts). */
export interface ServiceContext {
  config: Readonly<Config>;
  db: Db;
  keys: KeyStore;
  clientSecretKey: Buffer;
  csrfKey: Buffer;
  /** HMAC key of the brute-force counters' keys (src/services/throttle-service.ts). */
  throttleKey: Buffer;
  /** AES-256-GCM key for a rotated refresh token's successor, kept only for the reuse grace window. */
  refreshTokenKey: Buffer;
  /** AES-256-GCM key of the users' TOTP secrets (src/services/mfa-service.ts). */
  totpKey: Buffer;
  /** The clock of time-based codes, in milliseconds (tests pin it; otherwise Date.now). */
  now: () => number;
  metrics: Metrics;
  /** Read-through client cache (src/services/client-lookup.ts), invalidated by admin writes. */
  clients: Cache<Client>;
  /** Read-through scope cache (src/services/scope-policy.ts), invalidated when a scope is deleted. */
  scopes: Cache<Scope>;
  /** Read-through resource cache (src/services/resource-lookup.ts), invalidated by admin writes. */
  resources: Cache<Resource>;
  /** Client ID Metadata Documents: the guarded fetcher and the fetches in flight (one per process). */
  metadataDocuments: MetadataDocumentResolver;
  /** Clients' keys fetched from their jwks_uri: the cache and the fetches in flight (one per process). */
  clientKeySets: ClientKeySets;
  /** Redis when REDIS_URL is set (readiness and metrics report its state), else undefined. */
  redis: RedisConnection | undefined;
  /** Security events; routes hand services a copy bound to the request's ip and id (withOrigin). */
  audit: AuditLog;
}
