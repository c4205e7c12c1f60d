import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '../errors/oauth-errors.js';

/** Form and query parameters with every repeated key kept, so duplicates can be refused. */
export type RawParams = Record<string, string[]>;

// U+FFFD is what URLSearchParams makes of bytes that are not UTF-8; NUL is refused by PostgreSQL text.
const UNACCEPTABLE = /[\uFFFD\u0000]/;

/** Parses application/x-www-form-urlencoded, refusing non-UTF-8 bytes and NUL characters. */
export function parseUrlEncoded(text: string): RawParams {
  const params: RawParams = Object.create(null) as RawParams;
  for (const [key, value] of new URLSearchParams(text)) {
    if (UNACCEPTABLE.test(key) || UNACCEPTABLE.test(value)) {
      throw new InvalidRequest('parameters must be UTF-8 text without NUL characters');
    }
    (params[key] ??= []).push(value);
  }
  return params;
}

/** Registers the form parser; request bodies are capped by the app's bodyLimit. */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseUrlEncoded(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** The raw query string of a request, parsed with repeated keys kept. */
export function rawQuery(url: string): RawParams {
  const q = url.indexOf('?');
  return q < 0 ? (Object.create(null) as RawParams) : parseUrlEncoded(url.slice(q + 1));
}
