// @ts-check
import { currentTokens, signIn } from './auth.js';

/** An admin API error: its status, `error` code and message (the admin error shape). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | null} requestId
   */
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The token lacks the admin scopes: the signed-in user is not an administrator. */
export class NotAdministrator extends Error {}

/**
 * Calls the admin API with the operator's token. A 401 (no token, an expired or revoked one) starts the
 * sign-in again and comes back to this page; a 403 for a missing scope becomes NotAdministrator.
 * @param {string} method
 * @param {string} path under /admin, e.g. '/clients?limit=20'
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  const tokens = currentTokens();
  if (!tokens) return redirectToSignIn();
  const res = await fetch(`/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens.access_token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401) return redirectToSignIn();
  if (res.status === 204) return undefined;
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (res.ok) return json;
  if (res.status === 403 && json?.error === 'insufficient_scope') throw new NotAdministrator(json.error_description ?? 'insufficient_scope');
  const fields = json?.fields ? ` (${Object.entries(json.fields).map(([k, v]) => `${k}: ${v}`).join('; ')})` : '';
  const message = `${json?.message ?? json?.error_description ?? `the admin API answered ${res.status}`}${fields}`;
  throw new ApiError(res.status, json?.error ?? 'error', message, res.headers.get('x-request-id'));
}

/** @returns {Promise<never>} */
async function redirectToSignIn() {
  await signIn(location.pathname + location.search);
  // The page is leaving; nothing after this runs.
  return new Promise(() => {});
}

/**
 * Builds a query string from the set values.
 * @param {Record<string, string | number | undefined | null>} params
 */
export function query(params) {
  const set = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return set.length ? `?${new URLSearchParams(set.map(([k, v]) => [k, String(v)])).toString()}` : '';
}
