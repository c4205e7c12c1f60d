import { decodeProtectedHeader, type JWTPayload } from 'jose';
import { constantTimeEqual, hmacSha256Base64url } from '../lib/crypto.js';
import type { Client } from '../repositories/clients-repository.js';
import { ClientMetadataRefused } from '../errors/client-metadata-errors.js';
import { lookupClient } from './client-lookup.js';
import { deleteSessionBySid, type Session } from '../repositories/sessions-repository.js';
import { verifyJwt } from '../tokens/jwt.js';
import type { ServiceContext } from './context.js';
import { sessionEnding } from './session-service.js';

/**
 * OpenID Connect RP-Initiated Logout 1.0. The request is checked in a fixed order (lengths, id_token_hint,
 * client, post_logout_redirect_uri) and only a fully verified post_logout_redirect_uri is ever returned,
 * so the endpoint cannot be used as an open redirector (RP-Initiated Logout section 3).
 */

/** A logout request that cannot be honoured; `message` is shown to the user on a 400 page. */
export class InvalidLogoutRequest extends Error {}

export interface LogoutRequest {
  /** The end-user and session named by a verified id_token_hint. */
  hint?: { sub: string; sid?: string; audience: string[]; azp?: string };
  /** The client the request came from (client_id, or the hint's azp/aud), when it is known and active. */
  client?: Pick<Client, 'clientId' | 'clientName' | 'postLogoutRedirectUris'>;
  /** Set only when it exactly matches one of that client's registered post_logout_redirect_uris. */
  postLogoutRedirectUri?: string;
  /** Echoed to postLogoutRedirectUri, and only there. */
  state?: string;
}

export type LogoutParams = Record<string, string | undefined>;

const MAX_LENGTH: Record<string, number> = {
  id_token_hint: 8192,
  client_id: 255,
  post_logout_redirect_uri: 2048,
  state: 2048,
  ui_locales: 255,
};

type Step = (ctx: ServiceContext, params: LogoutParams, out: LogoutRequest) => Promise<void> | void;

const checkLengths: Step = (_ctx, params) => {
  for (const [name, max] of Object.entries(MAX_LENGTH)) {
    if ((params[name]?.length ?? 0) > max) throw new InvalidLogoutRequest(`The ${name} parameter is too long.`);
  }
};

/**
 * The hint only identifies the session, so an expired one is accepted; its signature and issuer are
 * always verified (section 2), and an access token (typ at+jwt) is not an ID token.
 */
const checkIdTokenHint: Step = async (ctx, params, out) => {
  const token = params.id_token_hint;
  if (token === undefined) return;
  let claims: JWTPayload;
  try {
    if (decodeProtectedHeader(token).typ !== 'JWT') throw new Error('not an ID token');
    claims = await verifyJwt(token, ctx.keys, { issuer: ctx.config.issuer, ignoreExpiry: true });
  } catch {
    throw new InvalidLogoutRequest('The id_token_hint is not a valid ID token issued by this server.');
  }
  const audience = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (typeof claims.sub !== 'string' || audience.length === 0) {
    throw new InvalidLogoutRequest('The id_token_hint is not a valid ID token issued by this server.');
  }
  out.hint = {
    sub: claims.sub,
    audience,
    ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
    ...(typeof claims.azp === 'string' ? { azp: claims.azp } : {}),
  };
};

/** Section 2: with both, the client_id must be an audience of the hint. */
const checkClient: Step = async (ctx, params, out) => {
  const explicit = params.client_id;
  if (explicit !== undefined && out.hint && !out.hint.audience.includes(explicit)) {
    throw new InvalidLogoutRequest('The id_token_hint was not issued to this client_id.');
  }
  // Otherwise the hint's azp, or its only audience, names the client (OIDC Core section 2).
  const hint = out.hint;
  const clientId = explicit ?? hint?.azp ?? (hint?.audience.length === 1 ? hint.audience[0] : undefined);
  if (clientId === undefined) return;
  let client;
  try {
    client = await lookupClient(ctx, clientId);
  } catch (err) {
    // A client ID metadata document that cannot be used: the client is not identified.
    if (!(err instanceof ClientMetadataRefused)) throw err;
    if (explicit !== undefined) throw new InvalidLogoutRequest(`The application could not be verified. ${err.description}`);
    return;
  }
  if (client?.isActive) {
    const { clientName, postLogoutRedirectUris } = client;
    out.client = { clientId: client.clientId, clientName, postLogoutRedirectUris };
  } else if (explicit !== undefined) {
    throw new InvalidLogoutRequest('The application is unknown.');
  }
};

/**
 * Section 3: exact string match against the identified client's registered list. An unverifiable URI
 * (no client identified, or not registered) gets a 400 page rather than a silent sign-out: the relying
 * party learns about its misconfiguration, and the user is never sent anywhere unverified.
 */
const checkPostLogoutRedirectUri: Step = (_ctx, params, out) => {
  const uri = params.post_logout_redirect_uri;
  if (uri === undefined) return;
  if (!out.client) {
    throw new InvalidLogoutRequest('A post_logout_redirect_uri needs a client_id or an id_token_hint that identifies the application.');
  }
  if (!out.client.postLogoutRedirectUris.includes(uri)) {
    throw new InvalidLogoutRequest('The post_logout_redirect_uri is not registered for this application.');
  }
  out.postLogoutRedirectUri = uri;
  if (params.state !== undefined) out.state = params.state;
};

/** The order of these checks is the security argument; ui_locales is accepted and ignored. */
export const LOGOUT_STEPS: readonly Step[] = [checkLengths, checkIdTokenHint, checkClient, checkPostLogoutRedirectUri];

export async function validateLogoutRequest(ctx: ServiceContext, params: LogoutParams): Promise<LogoutRequest> {
  const out: LogoutRequest = {};
  for (const step of LOGOUT_STEPS) await step(ctx, params, out);
  return out;
}

/** A hint that names exactly this browser's session (sid and sub) lets logout proceed without asking. */
export function hintMatchesSession(request: LogoutRequest, session: Session): boolean {
  const hint = request.hint;
  return hint?.sid !== undefined && hint.sid === session.sid && hint.sub === session.userId;
}

/** Ends the session server-side, so a replayed cookie no longer signs anyone in. */
export async function endSession(ctx: ServiceContext, session: Session): Promise<void> {
  await deleteSessionBySid(ctx.db, session.sid, sessionEnding(ctx));
}

/** Where to send the browser after logout: the verified URI with state, or nothing. */
export function postLogoutRedirect(request: LogoutRequest): string | undefined {
  if (!request.postLogoutRedirectUri) return undefined;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.append('state', request.state);
  return url.href;
}

/**
 * The confirmation form's hidden fields: the verified parameters to repeat on confirmation. The client
 * is carried by id, so the hint itself is not echoed into the page.
 */
export function confirmationFields(request: LogoutRequest): Record<string, string> {
  return {
    ...(request.client ? { client_id: request.client.clientId } : {}),
    ...(request.postLogoutRedirectUri ? { post_logout_redirect_uri: request.postLogoutRedirectUri } : {}),
    ...(request.state !== undefined ? { state: request.state } : {}),
  };
}

/**
 * The confirmation form's CSRF token: an HMAC under the server's CSRF key of the session's sid and the
 * fields it carries, so it works only in this browser's session and the fields cannot be swapped.
 */
export function logoutCsrfToken(ctx: ServiceContext, sid: string, fields: LogoutParams): string {
  const bound = [sid, fields.client_id ?? '', fields.post_logout_redirect_uri ?? '', fields.state ?? ''];
  return hmacSha256Base64url(ctx.csrfKey, `logout:${JSON.stringify(bound)}`);
}

export function checkLogoutCsrfToken(ctx: ServiceContext, sid: string, fields: LogoutParams, token: string | undefined): boolean {
  return token !== undefined && constantTimeEqual(token, logoutCsrfToken(ctx, sid, fields));
}
