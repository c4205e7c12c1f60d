import { describe, expect, it } from 'vitest';
import type { RawRequestDefaultExpression } from 'fastify';
import { redactUrl, requestIdFor } from '../../../src/http/logging.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as RawRequestDefaultExpression;

describe('http/logging', () => {
  it.each(['code', 'code_verifier', 'access_token', 'refresh_token', 'id_token', 'id_token_hint', 'client_secret', 'password', 'token', 'login_hint', 'state', 'nonce'])(
    'redacts %s from logged URLs, whatever its case',
    (name) => {
      const out = redactUrl(`/p?${name}=hidden1&${name.toUpperCase()}=hidden2&keep=1`);
      expect(out).not.toMatch(/hidden[12]/);
      expect(out).toContain('keep=1');
    },
  );

  it('redacts every copy of a repeated sensitive parameter', () => {
    expect(redactUrl('/p?code=A1&code=B2')).not.toMatch(/A1|B2/);
  });

  it('leaves URLs without a query alone', () => {
    expect(redactUrl('/oauth/token')).toBe('/oauth/token');
  });

  it('survives broken percent-encoding', () => {
    expect(redactUrl('/p?code=%FF%zz&x=%')).not.toContain('%FF%zz');
  });

  it('requestIdFor: a well-formed X-Request-ID or X-Correlation-ID, otherwise a UUID', () => {
    expect(requestIdFor(req({ 'x-request-id': 'abc-1' }))).toBe('abc-1');
    expect(requestIdFor(req({ 'x-correlation-id': 'c.2' }))).toBe('c.2');
    expect(requestIdFor(req({ 'x-request-id': 'bad id', 'x-correlation-id': 'good' }))).toBe('good');
    for (const bad of ['', 'a b', 'x'.repeat(129), 'a\nb', '<script>']) {
      expect(requestIdFor(req({ 'x-request-id': bad }))).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
