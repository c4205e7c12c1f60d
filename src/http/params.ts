import { InvalidRequest } from '../errors/oauth-errors.js';
import type { RawParams } from './form-body.js';

export type SingleParams = Record<string, string | undefined>;

/**
 * Parameters an endpoint defines as repeatable: RFC 8707 section 2 (authorization request) and section 2.2
 * (token request) let `resource` be sent several times.
 */
export const RESOURCE_PARAMS: ReadonlySet<string> = new Set(['resource']);
const NONE: ReadonlySet<string> = new Set();

/**
 * OAuth parameters are single-valued: a repeated one is refused (RFC 6749 section 3.1), and a parameter
 * sent without a value is treated as omitted. The endpoint's repeatable ones (`multiValued`) are not in
 * the result: read them with multiParam.
 */
export function singleParams(raw: RawParams, multiValued: ReadonlySet<string> = NONE): SingleParams {
  const out: SingleParams = {};
  for (const [key, values] of Object.entries(raw)) {
    if (multiValued.has(key)) continue;
    if (values.length > 1) throw new InvalidRequest(`${key} must not be repeated`);
    const value = values[0];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** The request body as raw parameters; anything but a form body is refused. */
export function formBody(body: unknown, contentType: string | undefined): RawParams {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return (body ?? {}) as RawParams;
}

/** Every non-empty value of a repeatable parameter, in order (an empty value counts as omitted). */
export function multiParam(raw: RawParams, name: string): string[] {
  return (raw[name] ?? []).filter((v) => v !== '');
}
