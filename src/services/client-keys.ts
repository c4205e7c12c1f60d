import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ClientKeysUnavailable, type ClientKeysFailure } from '../errors/client-keys-errors.js';
import { ClientMetadataRefused } from '../errors/client-metadata-errors.js';
import type { Client, ClientJwks } from '../repositories/clients-repository.js';
import { jwksProblem, jwksUriProblem } from './client-key-rules.js';
import type { ServiceContext } from './context.js';
import { freshnessSeconds, isJsonContentType } from './metadata-document-client.js';
import type { OutboundFetcher } from './outbound-fetch.js';

/**
 * The public keys a client signs with (client assertions, RFC 7523; request objects, RFC 9101): its `jwks`
 * (by value) or its `jwks_uri` (OpenID Connect Dynamic Client Registration 1.0 section 2; RFC 7591 section 2),
 * as a jose key resolver. A jwks_uri is fetched through the SSRF guard (src/services/outbound-fetch.ts),
 * kept per process for as long as its Cache-Control allows within CLIENT_JWKS_CACHE_MIN/MAX_SECONDS, one
 * fetch in flight per URL; an error is never kept. When a JWS names a key the set does not hold (the
 * client rotated its keys, OIDC Core section 10.1.1), the set is fetched again, at most once per
 * CLIENT_JWKS_REFETCH_INTERVAL_SECONDS per URL, so a stream of made-up `kid`s cannot make Authly hammer
 * the client's server.
 */

/** A JWK Set is a few keys; this bounds a fetched one (a stored one is bounded by MAX_KEYS). */
export const MAX_JWKS_BYTES = 64 * 1024;
/** Sets kept per process; the least recently fetched goes first. */
const MAX_CACHED_SETS = 1000;

/** A set jwksProblem accepted: public keys only, so jose may import it as it is. */
function publicSet(value: ClientJwks): JSONWebKeySet {
  return value as unknown as JSONWebKeySet;
}

interface CachedSet {
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
  expiresAt: number;
}

/** Per process (like the metadata-document resolver): fetched key sets, fetches in flight, forced refetches. */
export class ClientKeySets {
  private readonly sets = new Map<string, CachedSet>();
  private readonly inflight = new Map<string, Promise<CachedSet>>();
  /** When each URL was last fetched because of an unknown kid. */
  private readonly forcedAt = new Map<string, number>();
  /** A stored jwks imported once per cached client object (clients are frozen and shared by the cache). */
  private readonly byValue = new WeakMap<object, JWTVerifyGetKey>();

  constructor(
    readonly fetcher: OutboundFetcher,
    private readonly now: () => number = Date.now,
  ) {}

  inline(jwks: ClientJwks): JWTVerifyGetKey {
    let getKey = this.byValue.get(jwks);
    if (!getKey) this.byValue.set(jwks, (getKey = createLocalJWKSet(publicSet(jwks))));
    return getKey;
  }

  /** The cached set while fresh, else one fetch shared by every caller. */
  async current(ctx: Ctx, uri: string): Promise<{ set: CachedSet; fetchedNow: boolean }> {
    const cached = this.sets.get(uri);
    if (cached && cached.expiresAt > this.now()) return { set: cached, fetchedNow: false };
    return { set: await this.fetchShared(ctx, uri), fetchedNow: true };
  }

  /** A fetch because a JWS names a key the set lacks; undefined while the URL's interval has not passed. */
  async refetch(ctx: Ctx, uri: string): Promise<CachedSet | undefined> {
    const pending = this.inflight.get(uri);
    if (pending) return pending;
    const last = this.forcedAt.get(uri);
    if (last !== undefined && this.now() - last < ctx.config.clientJwks.refetchIntervalSeconds * 1000) {
      ctx.metrics.clientJwksFetches.inc({ result: 'refetch_limited' });
      return undefined;
    }
    this.forcedAt.set(uri, this.now());
    if (this.forcedAt.size > MAX_CACHED_SETS) this.forcedAt.delete(this.forcedAt.keys().next().value!);
    return this.fetchShared(ctx, uri);
  }

  private fetchShared(ctx: Ctx, uri: string): Promise<CachedSet> {
    let pending = this.inflight.get(uri);
    if (!pending) {
      pending = this.fetchSet(ctx, uri).finally(() => this.inflight.delete(uri));
      this.inflight.set(uri, pending);
    }
    return pending;
  }

  private async fetchSet(ctx: Ctx, uri: string): Promise<CachedSet> {
    const { config, metrics } = ctx;
    try {
      const problem = jwksUriProblem(uri, config);
      if (problem) throw new ClientKeysUnavailable('invalid_url', `The client jwks_uri ${problem}.`);
      let response;
      try {
        response = await this.fetcher.fetch({
          url: new URL(uri),
          allowLoopback: config.outboundAllowLoopback,
          timeoutMs: config.clientJwks.fetchTimeoutMs,
          maxBytes: MAX_JWKS_BYTES,
          accept: 'application/jwk-set+json, application/json',
          contentTypeOk: isJsonContentType,
        });
      } catch (err) {
        if (err instanceof ClientMetadataRefused) throw fetchFailure(err.reason);
        throw err;
      }
      let json: unknown;
      try {
        json = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new ClientKeysUnavailable('invalid_jwks', 'The client jwks_uri did not return JSON.');
      }
      const problem2 = jwksProblem(json);
      if (problem2) throw new ClientKeysUnavailable('invalid_jwks', `The JWK Set at the client jwks_uri is not usable: ${problem2}.`.replace(/["\\]/g, "'"));
      const ttl = freshnessSeconds(response.headers, { min: config.clientJwks.cacheMinSeconds, max: config.clientJwks.cacheMaxSeconds }, this.now());
      const fetchedAt = this.now();
      const set: CachedSet = { getKey: createLocalJWKSet(publicSet(json as ClientJwks)), fetchedAt, expiresAt: fetchedAt + ttl * 1000 };
      this.sets.delete(uri);
      this.sets.set(uri, set);
      if (this.sets.size > MAX_CACHED_SETS) this.sets.delete(this.sets.keys().next().value!);
      metrics.clientJwksFetches.inc({ result: 'ok' });
      return set;
    } catch (err) {
      // Never kept: the next request fetches again (the brute-force throttle bounds how often it can).
      if (err instanceof ClientKeysUnavailable) metrics.clientJwksFetches.inc({ result: err.reason });
      throw err;
    }
  }
}

const FETCH_FAILURES: Partial<Record<string, [ClientKeysFailure, string]>> = {
  invalid_url: ['invalid_url', 'The client jwks_uri must use https.'],
  forbidden_address: ['forbidden_address', 'The client jwks_uri host is not a public internet address.'],
  dns_failed: ['dns_failed', 'The client jwks_uri host could not be resolved.'],
  timeout: ['timeout', 'Fetching the client jwks_uri timed out.'],
  redirect: ['redirect', 'The client jwks_uri redirects; redirects are not followed.'],
  status: ['status', 'The client jwks_uri did not answer 200.'],
  content_type: ['content_type', 'The client jwks_uri is not served as JSON.'],
  too_large: ['too_large', `The client jwks_uri returned more than ${MAX_JWKS_BYTES} bytes.`],
};

function fetchFailure(reason: string): ClientKeysUnavailable {
  const [failure, description] = FETCH_FAILURES[reason] ?? ['network_error', 'The client jwks_uri could not be fetched.'];
  return new ClientKeysUnavailable(failure, description);
}

type Ctx = Pick<ServiceContext, 'config' | 'metrics'>;

/**
 * A jose key resolver over the client's keys (for jwtVerify / compactVerify), or undefined when the client
 * registered none. The resolver throws jose's JWKSNoMatchingKey when no key fits the JWS header (after the
 * one refetch an unknown kid may cause), and ClientKeysUnavailable when the jwks_uri cannot be fetched.
 */
export function clientKeyResolver(
  ctx: Ctx & Pick<ServiceContext, 'clientKeySets'>,
  client: Pick<Client, 'jwks' | 'jwksUri'>,
): JWTVerifyGetKey | undefined {
  const sets = ctx.clientKeySets;
  if (client.jwks) return sets.inline(client.jwks);
  const uri = client.jwksUri;
  if (!uri) return undefined;
  return async (header, token) => {
    const { set, fetchedNow } = await sets.current(ctx, uri);
    try {
      return await set.getKey(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || fetchedNow) throw err;
      // OIDC Core section 10.1.1: a signer rotates by publishing a new key; an unknown kid asks for the set again.
      const refreshed = await sets.refetch(ctx, uri);
      if (!refreshed || refreshed === set) throw err;
      return refreshed.getKey(header, token);
    }
  };
}
