import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { InvalidDpopProof, InvalidDpopProofAtResource, UseDpopNonce, UseDpopNonceAtResource } from '../../errors/oauth-errors.js';
import { sha256Base64url } from '../../lib/crypto.js';
import type { ServiceContext } from '../context.js';
import { useOnce } from '../replay-guard.js';
import { currentDpopNonce, isAcceptedDpopNonce } from './dpop-nonce.js';

type ProofCtx = Pick<ServiceContext, 'config' | 'db' | 'redis' | 'dpopNonceKey' | 'now'> & Partial<Pick<ServiceContext, 'metrics'>>;

const REPLAYED = 'the DPoP proof was already used (jti replayed)';

/** What the request a proof came with looks like (RFC 9449 section 4.3, checks 8 to 10). */
export interface DpopRequest {
  /** The DPoP header as received: one value, or several (refused). */
  header: string | string[] | undefined;
  /** The request's method (htm). */
  method: string;
  /** The endpoint's URL under the issuer (htu is compared with it, without query and fragment). */
  url: string;
  /** At a protected resource: the access token presented, whose hash `ath` must be (section 4.3 check 11). */
  accessToken?: string;
  /** Where the proof is checked: errors are 400 at the authorization server, 401 with a challenge at a resource. */
  at: 'authorization_server' | 'resource';
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key: what tokens are bound to (cnf.jkt). */
  jkt: string;
  jti: string;
  iat: number;
}

/** RFC 7515 compact serialization; a proof is one JWS, so a comma means several DPoP headers were joined. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 512;
/** Members only a private (or symmetric) JWK has: a proof's jwk must be public (section 4.3 check 7). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * RFC 9449 section 4.3 in its order: one well-formed JWT in one DPoP header; typ dpop+jwt; an asymmetric
 * alg the server accepts; a public jwk; the signature by that key; jti, htm, htu and iat present; htm and
 * htu matching this request; iat within the window; the nonce when the server requires one; ath at a
 * resource; and finally jti single use across replicas (section 11.1), recorded last so that a proof
 * refused for another reason uses nothing up. Throws invalid_dpop_proof or use_dpop_nonce.
 */
export async function verifyDpopProof(ctx: ProofCtx, request: DpopRequest): Promise<VerifiedDpopProof> {
  try {
    const verified = await checkDpopProof(ctx, request);
    ctx.metrics?.dpopProofs.inc({ at: request.at, result: 'valid' });
    return verified;
  } catch (err) {
    const result = err instanceof UseDpopNonce ? 'nonce_required' : err instanceof InvalidDpopProof && err.description === REPLAYED ? 'replayed' : 'invalid';
    ctx.metrics?.dpopProofs.inc({ at: request.at, result });
    throw err;
  }
}

async function checkDpopProof(ctx: ProofCtx, request: DpopRequest): Promise<VerifiedDpopProof> {
  const { config } = ctx;
  const atResource = request.at === 'resource';
  const invalid = (description: string): InvalidDpopProof => {
    const err = atResource ? new InvalidDpopProofAtResource(description) : new InvalidDpopProof(description);
    if (atResource) err.dpopChallengeAlgs = config.dpop.signingAlgs;
    return err;
  };

  // 1. Exactly one DPoP header with one JWT (section 4.3 check 1; Node joins repeated headers with ", ").
  const header = request.header;
  if (header === undefined) throw invalid('a DPoP proof is required');
  if (Array.isArray(header) || header.includes(',')) throw invalid('exactly one DPoP header is allowed');
  const proof = header.trim();
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw invalid('the DPoP proof is not a well-formed JWT');

  // 2. The JOSE header: typ, alg, jwk (checks 4 to 7).
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(proof);
  } catch {
    throw invalid('the DPoP proof is not a well-formed JWT');
  }
  if (protectedHeader.typ !== 'dpop+jwt') throw invalid('the DPoP proof typ must be dpop+jwt');
  const alg = protectedHeader.alg;
  if (typeof alg !== 'string' || !(config.dpop.signingAlgs as readonly string[]).includes(alg)) {
    throw invalid(`the DPoP proof alg must be one of ${config.dpop.signingAlgs.join(' ')}`);
  }
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw invalid('the DPoP proof header must carry a jwk');
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) throw invalid('the DPoP proof jwk must be a public key');

  // 3. The signature, by the key in the header.
  // Signature only (compactVerify): the claims are checked below, each with its own answer.
  let payloadBytes: Uint8Array;
  let jkt: string;
  try {
    const key = await importJWK(jwk, alg);
    if (key instanceof Uint8Array) throw new Error('symmetric key');
    ({ payload: payloadBytes } = await compactVerify(proof, key, { algorithms: [alg] }));
    jkt = await calculateJwkThumbprint(jwk, 'sha256');
  } catch {
    throw invalid('the DPoP proof signature does not verify with its jwk');
  }
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes)) as Record<string, unknown>;
  } catch {
    throw invalid('the DPoP proof payload is not a JSON object');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw invalid('the DPoP proof payload is not a JSON object');

  // 4. The claims (check 8) and their match with this request (checks 9 and 10).
  const { jti, htm, htu, iat } = payload as { jti?: unknown; htm?: unknown; htu?: unknown; iat?: unknown };
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw invalid('the DPoP proof must carry a jti');
  if (typeof htm !== 'string') throw invalid('the DPoP proof must carry htm');
  if (typeof htu !== 'string') throw invalid('the DPoP proof must carry htu');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('the DPoP proof must carry iat');
  if (htm !== request.method) throw invalid('the DPoP proof htm does not match the request method');
  if (normalizedHtu(htu) !== normalizedHtu(request.url)) throw invalid('the DPoP proof htu does not match the request URL');

  // 5. iat within the window (check 11; section 11.1): not older than the maximum age, not from the future.
  const now = ctx.now() / 1000;
  const { proofMaxAgeSeconds, clockSkewSeconds } = config.dpop;
  if (iat > now + clockSkewSeconds) throw invalid('the DPoP proof iat is in the future');
  if (iat < now - proofMaxAgeSeconds - clockSkewSeconds) throw invalid('the DPoP proof has expired (iat too old)');

  // 6. Server nonce (section 8; section 9 at a resource).
  if (config.dpop.requireNonce) {
    const nonce = (payload as { nonce?: unknown }).nonce;
    if (typeof nonce !== 'string' || !isAcceptedDpopNonce(ctx, nonce)) {
      const description = nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is stale or invalid';
      const err = atResource ? new UseDpopNonceAtResource(description, currentDpopNonce(ctx)) : new UseDpopNonce(description, currentDpopNonce(ctx));
      if (atResource) err.dpopChallengeAlgs = config.dpop.signingAlgs;
      throw err;
    }
  }

  // 7. ath: the proof is for this access token (section 4.3 check 12, section 7).
  if (request.accessToken !== undefined) {
    const ath = (payload as { ath?: unknown }).ath;
    if (typeof ath !== 'string') throw invalid('the DPoP proof must carry ath');
    if (ath !== sha256Base64url(request.accessToken)) throw invalid('the DPoP proof ath does not match the access token');
  }

  // 8. Single use, on every replica, for as long as the proof could be accepted.
  const usableUntil = new Date((iat + proofMaxAgeSeconds + clockSkewSeconds) * 1000);
  if (!(await useOnce(ctx, 'dpop_proof', `${jkt}:${jti}`, usableUntil))) throw invalid(REPLAYED);

  return { jkt, jti, iat };
}

/**
 * RFC 9449 section 4.3 check 9: htu compared without query and fragment, after syntax- and scheme-based
 * normalization (RFC 3986 sections 6.2.2 and 6.2.3: case of scheme and host, default port, dot segments,
 * percent-encoding case), which the WHATWG URL parser performs. Not an http(s) URL: matches nothing.
 */
export function normalizedHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  const path = url.pathname.replace(/%[0-9a-f]{2}/g, (escape) => escape.toUpperCase());
  return `${url.protocol}//${url.host}${path}`;
}

/** The nonce header to send with a successful response, when the server requires nonces (section 8.2). */
export function dpopNonceForResponse(ctx: Pick<ServiceContext, 'config' | 'dpopNonceKey' | 'now'>): string | undefined {
  return ctx.config.dpop.enabled && ctx.config.dpop.requireNonce ? currentDpopNonce(ctx) : undefined;
}
