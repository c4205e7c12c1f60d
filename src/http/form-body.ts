import type { FastifyInstance } from 'fastify';
import { checkParam } from './input-guard.js';

/** Form and query parameters with every repeated key kept, so duplicates can be refused. */
export type RawParams = Record<string, string[]>;

/**
 * Parses application/x-www-form-urlencoded, refusing non-UTF-8 bytes, NUL characters and values beyond
 * their length limit (src/http/input-guard.ts).
 */
export function parseUrlEncoded(text: string, source: 'query' | 'body' = 'body'): RawParams {
  const params: RawParams = Object.create(null) as RawParams;
  for (const [key, value] of new URLSearchParams(text)) {
    checkParam(key, value, source);
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
  return q < 0 ? (Object.create(null) as RawParams) : parseUrlEncoded(url.slice(q + 1), 'query');
}
