import { InvalidRequest } from '../errors/oauth-errors.js';
import type { RawParams } from './form-body.js';

export type SingleParams = Record<string, string | undefined>;

/**
 * OAuth parameters are single-valued: a repeated one is refused (RFC 6749 section 3.1), and a parameter
 * sent without a value is treated as omitted.
 */
export function singleParams(raw: RawParams): SingleParams {
  const out: SingleParams = {};
  for (const [key, values] of Object.entries(raw)) {
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
