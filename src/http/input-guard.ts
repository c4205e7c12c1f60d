import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  MAX_JSON_DEPTH,
  MAX_JSON_STRING_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARAM_LENGTH,
  MAX_PATH_LENGTH,
  PARAM_LIMITS,
} from '../config/input-limits.js';
import { ROUTES } from '../config/routes.js';
import { InputRejected, type InputSource } from '../errors/input-errors.js';

/**
 * The one guard for every string that enters (issue 10 §2): path, query, form body, JSON body and headers.
 * PostgreSQL text cannot hold U+0000 nor text that is not UTF-8, and a key longer than a btree entry makes
 * an INSERT fail, so each string is checked here, before any route, lookup, hash or lockout key sees it.
 * The path, query, headers and charset are checked in an onRequest hook; form bodies in their parser
 * (src/http/form-body.ts) and admin JSON in its parser (src/routes/admin/admin-routes.ts), with the
 * functions below. Limits: src/config/input-limits.ts.
 */

export const PARAMS_NOT_UTF8 = 'parameters must be UTF-8 text without NUL characters';
const NO_NUL = 'must not contain NUL characters';
const NOT_UTF8 = 'must be UTF-8 text';

// U+FFFD is what URLSearchParams makes of bytes that are not UTF-8; NUL is refused by PostgreSQL text.
const UNACCEPTABLE = /[\uFFFD\u0000]/;

/** A form or query parameter: UTF-8 without NUL, and no longer than its limit. */
export function checkParam(name: string, value: string, source: InputSource): void {
  if (UNACCEPTABLE.test(name) || UNACCEPTABLE.test(value)) {
    const field = name.length > MAX_NAME_LENGTH ? 'parameter' : name;
    throw new InputRejected(PARAMS_NOT_UTF8, source, field, name.includes('\u0000') || value.includes('\u0000') ? NO_NUL : NOT_UTF8);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InputRejected(`a parameter name is longer than ${MAX_NAME_LENGTH} characters`, source, 'parameter', `name must be at most ${MAX_NAME_LENGTH} characters`);
  }
  const limit = PARAM_LIMITS[name] ?? MAX_PARAM_LENGTH;
  if (value.length > limit) {
    throw new InputRejected(`${name} is longer than ${limit} characters`, source, name, `must be at most ${limit} characters`);
  }
}

/** The path: valid percent-encoded UTF-8 without NUL, bounded in length. */
function checkPath(path: string): void {
  if (path.length > MAX_PATH_LENGTH) {
    throw new InputRejected(`the request path is longer than ${MAX_PATH_LENGTH} characters`, 'path', 'path', `must be at most ${MAX_PATH_LENGTH} characters`);
  }
  if (!path.includes('%')) return;
  let decoded: string;
  try {
    // Throws on a broken escape and on bytes that are not UTF-8 (overlong forms and surrogates included).
    decoded = decodeURIComponent(path);
  } catch {
    throw new InputRejected('the request path must be UTF-8 text without NUL characters', 'path', 'path', NOT_UTF8);
  }
  if (decoded.includes('\u0000')) throw new InputRejected('the request path must be UTF-8 text without NUL characters', 'path', 'path', NO_NUL);
}

// RFC 6749 appendix B and RFC 8259 section 8.1: OAuth forms and JSON are UTF-8 (US-ASCII is a subset).
const ACCEPTED_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Headers other than Authorization carry no NUL (Node's parser refuses one on the wire; this covers every
 * other way in). Authorization is answered by its own parsers with the endpoint's challenge (RFC 6750
 * section 3.1: 401 invalid_token at a resource; RFC 6749 section 5.2: 401 invalid_client): Basic
 * refuses NUL and bounds the client id (src/services/client-authentication.ts), a Bearer token is only
 * hashed or verified, never used as a key.
 */
function checkHeaders(headers: FastifyRequest['headers']): void {
  for (const name in headers) {
    const value = headers[name];
    if (name !== 'authorization' && value !== undefined && String(value).includes('\u0000')) {
      throw new InputRejected(`the ${name} header must not contain NUL characters`, 'header', name, NO_NUL);
    }
  }
  const charset = CHARSET.exec(headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && !ACCEPTED_CHARSETS.has(charset)) {
    throw new InputRejected('the request body must be UTF-8 (unsupported charset)', 'header', 'content-type', 'charset must be utf-8', 415);
  }
}

/** Everything but the body, which its parser checks as it is read. */
export function checkRequestLine(url: string, headers: FastifyRequest['headers']): void {
  const q = url.indexOf('?');
  checkPath(q < 0 ? url : url.slice(0, q));
  if (q >= 0 && q < url.length - 1) {
    for (const [name, value] of new URLSearchParams(url.slice(q + 1))) checkParam(name, value, 'query');
  }
  checkHeaders(headers);
}

/**
 * The nesting depth of a JSON text, counted without parsing it (no recursion on untrusted depth):
 * true when no array or object is nested deeper than `max`. Brackets inside strings do not count.
 */
export function jsonDepthWithin(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}

// With the u flag a surrogate pair is one code point, so only an unpaired half matches.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The first string (value or key) of a parsed JSON value that cannot enter: NUL, a lone surrogate (not
 * UTF-8, refused by PostgreSQL jsonb) or too long. Walks iteratively; returns its dotted path and why.
 */
export function findUnacceptableJsonString(value: unknown): { field: string; reason: string } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  const check = (s: string, field: string) => {
    if (s.includes('\u0000')) return { field, reason: NO_NUL };
    if (LONE_SURROGATE.test(s)) return { field, reason: NOT_UTF8 };
    if (s.length > MAX_JSON_STRING_LENGTH) return { field, reason: `must be at most ${MAX_JSON_STRING_LENGTH} characters` };
    return undefined;
  };
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      const bad = check(item, path);
      if (bad) return bad;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) {
        const field = path ? `${path}.${key}` : key;
        const bad = check(key, field) ?? (key.length > MAX_NAME_LENGTH ? { field: path || 'body', reason: `keys must be at most ${MAX_NAME_LENGTH} characters` } : undefined);
        if (bad) return bad;
        stack.push([inner, field]);
      }
    }
  }
  return undefined;
}

/** How errors look where a request arrived: person-facing pages, the admin API, or OAuth JSON. */
export type ErrorShape = 'page' | 'admin' | 'oauth';

const PAGE_PATHS = new Set<string>([
  ROUTES.authorization,
  ROUTES.endSession,
  // Issue 12 §2: recovery, verification and sign-up pages.
  ROUTES.forgotPassword,
  ROUTES.resetPassword,
  ROUTES.verifyEmail,
  ROUTES.resendVerification,
  ROUTES.acceptInvitation,
  ROUTES.signUp,
  ROUTES.accountEmail,
]);
const INTERACTION_PREFIX = ROUTES.interaction.slice(0, ROUTES.interaction.indexOf('/:'));

export function errorShapeFor(url: string): ErrorShape {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path === ROUTES.admin || path.startsWith(`${ROUTES.admin}/`)) return 'admin';
  if (PAGE_PATHS.has(path) || path.startsWith(`${INTERACTION_PREFIX}/`)) return 'page';
  // The account pages (issue 12 §4) answer a person too.
  if (path === ROUTES.account || path.startsWith(`${ROUTES.account}/`)) return 'page';
  // So does the console's shell, and its asset files: an unknown one gets the HTML 404 page.
  if (path === ROUTES.console || path.startsWith(`${ROUTES.console}/`)) return 'page';
  return 'oauth';
}

/** First check after the host check: every request's path, query and headers. */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      checkRequestLine(request.url, request.headers);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });
}
