import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { ClientMetadataRefused } from '../errors/client-metadata-errors.js';
import { isAdminScope, parseScope, SCOPE_TOKEN } from '../lib/scopes.js';
import { findClient, upsertMetadataDocumentClient, type Client } from '../repositories/clients-repository.js';
import { listScopes } from '../repositories/scopes-repository.js';
import { informationalUrl, isLoopbackHost, registrationProblems, responseTypesFor } from './admin/client-registration-rules.js';
import type { ServiceContext } from './context.js';

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-03, "the draft"): a
 * client_id that is an https URL names a client whose metadata is the JSON document at that URL. The
 * client becomes a clients row (registration_type 'metadata_document'; grants, codes and tokens refer to
 * it), always public with PKCE and consent, created or refreshed from the document. The row is the shared
 * record across replicas and the client cache (ctx.clients) serves it, so until metadata_expires_at a
 * lookup makes no network round trip. Errors and refused documents are never stored.
 */

/** What a document leaves out, as for a client created through the admin API (CLIENT_DEFAULTS there). */
const DEFAULTS = { grantTypes: ['authorization_code'], idTokenSignedResponseAlg: 'RS256' } as const;

/**
 * The scopes such a client may ask for. Never an admin scope: anyone can publish a document, and an
 * administrator signing in through it would hand the admin API to its author. Without `scope`, every other
 * registered scope, so an MCP client that names none can still ask for the scopes its MCP server's metadata
 * lists (the user consents every time, and resource indicators bind the token to that server).
 */
async function documentScope(ctx: Pick<Ctx, 'db'>, document: MetadataDocument): Promise<string> {
  const requested = document.scope !== undefined ? parseScope(document.scope) : (await listScopes(ctx.db)).map((s) => s.name);
  return requested.filter((scope) => !isAdminScope(scope)).join(' ');
}

/** The draft, section 8.7: a document is small; 5 KB is the bound it suggests. */
export const MAX_METADATA_DOCUMENT_BYTES = 5 * 1024;

type Ctx = Pick<ServiceContext, 'config' | 'db' | 'clients' | 'metrics' | 'audit' | 'metadataDocuments'>;

const LOOPBACK_CLIENT_ID = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/;

/** True when `clientId` is to be resolved as a metadata document (CIMD_ENABLED, CIMD_ALLOW_LOOPBACK). */
export function isMetadataDocumentClientId(config: Pick<Config, 'cimd'>, clientId: string): boolean {
  if (!config.cimd.enabled) return false;
  return clientId.startsWith('https://') || (config.cimd.allowLoopback && LOOPBACK_CLIENT_ID.test(clientId));
}

/** Whole-label suffix match: example.com covers example.com and a.example.com, not badexample.com. */
function inDomains(host: string, domains: readonly string[]): boolean {
  return domains.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** The draft, section 3: the URL rules, and the domain policy (CIMD_ALLOWED_DOMAINS, CIMD_DENIED_DOMAINS). */
export function checkClientIdUrl(config: Pick<Config, 'cimd'>, clientId: string): URL {
  const invalid = (why: string) => new ClientMetadataRefused('invalid_url', `The client_id URL ${why}.`);
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw invalid('is not a URL');
  }
  if (clientId.includes('#')) throw invalid('must not contain a fragment');
  if (url.username || url.password) throw invalid('must not contain a user name or password');
  if (url.pathname === '/' || url.pathname === '') throw invalid('must contain a path');
  // The URL parser resolves dot segments and lower-cases the host: a client_id it would change is not
  // the URL the document names (exact string comparison, section 4), so it is refused as written.
  if (url.href !== clientId) throw invalid('must be written in its normal form (no dot segments, lower-case host, no default port)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (inDomains(host, config.cimd.deniedDomains) || (config.cimd.allowedDomains.length > 0 && !inDomains(host, config.cimd.allowedDomains))) {
    throw new ClientMetadataRefused('domain_denied', 'This server does not accept clients from the domain of this client_id URL.');
  }
  return url;
}

// RFC 7591 section 2 names; unknown members are ignored (RFC 7591 section 2, the draft section 4).
const optionalUrl = informationalUrl.optional();
const DOCUMENT = z.looseObject({
  client_id: z.string(),
  redirect_uris: z.array(z.string().max(2000)).min(1).max(50),
  post_logout_redirect_uris: z.array(z.string().max(2000)).max(50).optional(),
  client_name: z.string().trim().min(1).max(255).optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).min(1).max(2).optional(),
  response_types: z.array(z.literal('code')).length(1).optional(),
  token_endpoint_auth_method: z.literal('none').optional(),
  scope: z
    .string()
    .max(2000)
    .refine((s) => parseScope(s).every((token) => SCOPE_TOKEN.test(token)))
    .optional(),
  client_uri: optionalUrl,
  logo_uri: optionalUrl,
  tos_uri: optionalUrl,
  policy_uri: optionalUrl,
  contacts: z.array(z.email().max(320)).max(20).optional(),
});
type MetadataDocument = z.output<typeof DOCUMENT>;

// JWK members that only a private or symmetric key has (RFC 7518 section 6).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A JSON Content-Type: application/json or application/<something>+json (the draft, section 4). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** The document's JSON, checked by the draft's rules and Authly's client registration rules. */
export function parseMetadataDocument(clientId: string, body: Buffer): MetadataDocument {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ClientMetadataRefused('invalid_json', 'The client metadata document is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ClientMetadataRefused('invalid_json', 'The client metadata document is not a JSON object.');
  }
  const raw = json as Record<string, unknown>;
  // Section 4: client_id equals the URL the document was fetched from, by simple string comparison.
  if (raw.client_id !== clientId) {
    throw new ClientMetadataRefused('client_id_mismatch', 'The client_id in the client metadata document is not the URL it was fetched from.');
  }
  // Section 4.1: no shared secret can be established with a metadata document, so none may be in it;
  // private_key_jwt does not exist in Authly yet, so only public clients (none) are accepted.
  const method = raw.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none') {
    throw new ClientMetadataRefused('confidential_client', 'The client metadata document asks for a token endpoint auth method other than none.');
  }
  if ('client_secret' in raw || 'client_secret_expires_at' in raw) {
    throw new ClientMetadataRefused('confidential_client', 'The client metadata document contains a client secret.');
  }
  const keys = (raw.jwks as { keys?: unknown } | undefined)?.keys;
  if (Array.isArray(keys) && keys.some((key) => typeof key === 'object' && key !== null && PRIVATE_JWK_MEMBERS.some((m) => m in key))) {
    throw new ClientMetadataRefused('confidential_client', 'The client metadata document contains private key material.');
  }
  const parsed = DOCUMENT.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'document';
    const given = issue.path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key], raw);
    const what = given === undefined ? 'is required' : 'is not valid';
    throw new ClientMetadataRefused('invalid_metadata', `The client metadata document is not valid: ${field} ${what}.`);
  }
  const document = parsed.data;
  const grantTypes = document.grant_types ?? DEFAULTS.grantTypes;
  const problems = registrationProblems({
    tokenEndpointAuthMethod: 'none',
    grantTypes,
    responseTypes: document.response_types ?? responseTypesFor(grantTypes),
    redirectUris: document.redirect_uris,
    postLogoutRedirectUris: document.post_logout_redirect_uris ?? [],
    requirePkce: true,
  });
  const [field, reason] = Object.entries(problems)[0] ?? [];
  if (field) throw new ClientMetadataRefused('invalid_metadata', `The client metadata document is not valid: ${field} ${reason}.`);
  return document;
}

/** Directives of a Cache-Control header (RFC 9111 section 5.2), lower-cased. */
function cacheControl(header: string | undefined): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim());
    if (name) directives.set(name.toLowerCase(), value?.replace(/^"|"$/g, ''));
  }
  return directives;
}

/**
 * How long the document may be used without fetching it again (the draft, section 5.2: per its HTTP
 * cache headers, RFC 9111), clamped to CIMD_CACHE_MIN_SECONDS and CIMD_CACHE_MAX_SECONDS. no-store and
 * no-cache mean "as short as allowed": the row must exist for the flow under way.
 */
export function freshnessSeconds(headers: IncomingHttpHeaders, bounds: { min: number; max: number }, now = Date.now()): number {
  const directives = cacheControl(headers['cache-control']);
  let fresh: number | undefined;
  if (directives.has('no-store') || directives.has('no-cache')) {
    fresh = 0;
  } else if (directives.has('max-age')) {
    const maxAge = Number(directives.get('max-age'));
    fresh = Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : 0;
  } else if (headers.expires !== undefined) {
    // RFC 9111 section 5.3: an invalid Expires means already expired.
    const expires = Date.parse(headers.expires);
    const date = headers.date ? Date.parse(headers.date) : now;
    fresh = Number.isNaN(expires) ? 0 : Math.floor((expires - (Number.isNaN(date) ? now : date)) / 1000);
  }
  if (fresh !== undefined) {
    const age = Number(headers.age);
    if (Number.isInteger(age) && age > 0) fresh -= age;
  }
  return Math.min(Math.max(fresh ?? bounds.min, bounds.min), bounds.max);
}

function clientFrom(clientId: string, url: URL, document: MetadataDocument, scope: string, expiresAt: Date) {
  const grantTypes = document.grant_types ?? DEFAULTS.grantTypes;
  return {
    clientId,
    clientSecretHash: null,
    clientName: document.client_name ?? url.host,
    clientType: 'public' as const,
    tokenEndpointAuthMethod: 'none' as const,
    redirectUris: [...new Set(document.redirect_uris)],
    postLogoutRedirectUris: [...new Set(document.post_logout_redirect_uris ?? [])],
    grantTypes: [...new Set(grantTypes)],
    responseTypes: responseTypesFor(grantTypes),
    scope,
    clientUri: document.client_uri ?? null,
    logoUri: document.logo_uri ?? null,
    tosUri: document.tos_uri ?? null,
    policyUri: document.policy_uri ?? null,
    contacts: [...new Set(document.contacts ?? [])],
    skipConsent: false,
    requirePkce: true,
    idTokenSignedResponseAlg: DEFAULTS.idTokenSignedResponseAlg,
    accessTokenFormat: null,
    metadataExpiresAt: expiresAt,
  };
}

/** Fetches, checks and stores the document; every refusal is counted and audited, and nothing is stored. */
async function refresh(ctx: Ctx, clientId: string): Promise<Client> {
  const { config, metrics } = ctx;
  let fetched = false;
  try {
    const url = checkClientIdUrl(config, clientId);
    fetched = true;
    const response = await ctx.metadataDocuments.fetcher.fetch({
      url,
      allowLoopback: config.cimd.allowLoopback,
      timeoutMs: config.cimd.fetchTimeoutMs,
      maxBytes: MAX_METADATA_DOCUMENT_BYTES,
      accept: 'application/json',
      contentTypeOk: isJsonContentType,
    });
    const document = parseMetadataDocument(clientId, response.body);
    const ttl = freshnessSeconds(response.headers, { min: config.cimd.cacheMinSeconds, max: config.cimd.cacheMaxSeconds });
    const stored = await upsertMetadataDocumentClient(
      ctx.db,
      clientFrom(clientId, url, document, await documentScope(ctx, document), new Date(Date.now() + ttl * 1000)),
    );
    // Every replica drops what it held for this client_id, so the refreshed row is what they serve next.
    await ctx.clients.invalidate(clientId);
    metrics.clientMetadataFetches.inc({ result: 'ok' });
    // undefined: a client of another registration type took the id meanwhile; it is not overwritten.
    const client = stored ?? (await findClient(ctx.db, clientId));
    if (!client) throw new ClientMetadataRefused('invalid_metadata', 'The client could not be stored.');
    return client;
  } catch (err) {
    if (err instanceof ClientMetadataRefused) {
      if (fetched) metrics.clientMetadataFetches.inc({ result: err.reason });
      metrics.clientMetadataRefusals.inc({ reason: err.reason });
      ctx.audit.record('client.metadata_refused', { client_id: clientId, reason: err.reason });
    }
    throw err;
  }
}

/**
 * The client a metadata-document client_id names: the stored row while it is fresh (no fetch, and no
 * query on a cache hit), else the document fetched, checked and stored again. A client an administrator
 * disabled is returned as stored, without a fetch: it stays disabled whatever its document says.
 * Throws ClientMetadataRefused when the document cannot be used.
 */
export async function resolveMetadataDocumentClient(ctx: Ctx, clientId: string): Promise<Client> {
  const stored = await ctx.clients.get(clientId, () => findClient(ctx.db, clientId));
  if (stored && (stored.registrationType !== 'metadata_document' || !stored.isActive || (stored.metadataExpiresAt?.getTime() ?? 0) > Date.now())) {
    ctx.metrics.cacheRequests.inc({ cache: 'client_metadata', result: 'hit' });
    return stored;
  }
  ctx.metrics.cacheRequests.inc({ cache: 'client_metadata', result: 'miss' });
  const { inflight } = ctx.metadataDocuments;
  let pending = inflight.get(clientId);
  if (!pending) {
    pending = refresh(ctx, clientId).finally(() => inflight.delete(clientId));
    inflight.set(clientId, pending);
  }
  return pending;
}

/**
 * True when every redirect URI of the client leads to a program on the user's own device (a loopback
 * host, RFC 8252 section 7.3, or a private-use scheme, section 7.1): any local program can claim such a
 * client's name (MCP authorization, security considerations), so the consent page warns.
 */
export function redirectsOnlyToThisDevice(client: Pick<Client, 'redirectUris'>): boolean {
  return (
    client.redirectUris.length > 0 &&
    client.redirectUris.every((uri) => {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        return false;
      }
      const scheme = url.protocol.slice(0, -1);
      return scheme === 'http' || scheme === 'https' ? isLoopbackHost(url.hostname) : true;
    })
  );
}

/** The host name a redirect URI leads to (a private-use scheme's whole URI names no host: the scheme then). */
export function redirectHostOf(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    return url.hostname || url.protocol.slice(0, -1);
  } catch {
    return redirectUri;
  }
}
