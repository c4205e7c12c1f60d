import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import type { Config } from '../config/config.js';
import { classifyAddress } from '../lib/special-use-addresses.js';

/**
 * What a client may register as its keys (OpenID Connect Dynamic Client Registration 1.0 section 2, RFC 7591
 * section 2): checked by the admin API, dynamic registration and every jwks_uri fetch
 * (src/services/client-keys.ts). Pure functions; the reasons are public.
 */

const MAX_KEYS = 20;

// JWK members that only a private or symmetric key has (RFC 7518 section 6).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why `value` cannot be a client's JWK Set, or undefined when it can: a `keys` array of at most 20 public
 * RSA (at least 2048 bits), EC or OKP keys, no private or symmetric member (SECURITY.md: a client's
 * registration never carries its private keys), distinct `kid`s (OIDC Core section 10.1: a JWS picks its
 * key by kid).
 */
export function jwksProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JWK Set: an object with a keys array (RFC 7517 section 5)';
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return 'must be a JWK Set: an object with a keys array (RFC 7517 section 5)';
  if (keys.length === 0) return 'must hold at least one key';
  if (keys.length > MAX_KEYS) return `must hold at most ${MAX_KEYS} keys`;
  const kids = new Set<string>();
  for (const [i, key] of keys.entries()) {
    const problem = jwkProblem(key);
    if (problem) return `keys.${i} ${problem}`;
    const kid = (key as { kid?: string }).kid;
    if (kid !== undefined) {
      if (kids.has(kid)) return `keys.${i} repeats the kid ${JSON.stringify(kid)}; each key needs its own`;
      kids.add(kid);
    }
  }
  return undefined;
}

function jwkProblem(key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'must be a JWK object';
  const jwk = key as Record<string, unknown>;
  const secret = PRIVATE_JWK_MEMBERS.find((member) => member in jwk);
  if (secret) return `contains the private or symmetric member ${secret}; register public keys only`;
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return 'must have kty RSA, EC or OKP';
  for (const member of ['kid', 'use', 'alg'] as const) {
    const v = jwk[member];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 200)) return `has an invalid ${member}`;
  }
  if (jwk.use !== undefined && jwk.use !== 'sig' && jwk.use !== 'enc') return 'must have use sig or enc';
  let details: { modulusLength?: number } | undefined;
  try {
    details = createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails;
  } catch {
    return 'is not a valid public key';
  }
  if (jwk.kty === 'RSA' && (details?.modulusLength ?? 0) < 2048) return 'is an RSA key shorter than 2048 bits';
  return undefined;
}

/**
 * Why `uri` cannot be a client's jwks_uri, or undefined when it can: an absolute https URL without
 * credentials or fragment, whose host is not a special-use address; http and a loopback host only with
 * OUTBOUND_ALLOW_LOOPBACK (development). Host names are resolved and checked again at every fetch.
 */
export function jwksUriProblem(uri: string, config: Pick<Config, 'outboundAllowLoopback'>): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute https URL';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain a user name or password';
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (loopback && config.outboundAllowLoopback) return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an https URL';
  if (url.protocol !== 'https:') return 'must be an https URL';
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (loopback || (isIP(literal) && classifyAddress(literal) !== 'public')) return 'must name a public internet host';
  return undefined;
}
