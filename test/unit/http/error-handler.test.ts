import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailable } from '../../../src/errors/storage-errors.js';
import { registerErrorHandler } from '../../../src/http/error-handler.js';
import { loadConfig } from '../../../src/config/config.js';
import type { ServiceContext } from '../../../src/services/context.js';

const withCode = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

/**
 * Database faults become 503 + Retry-After (or 400 for input the database refused) in the shape of who
 * reads the route: OAuth clients, the admin API, or people on the pages (SECURITY.md: never a 500).
 */
describe('error handler: database faults', () => {
  let app: FastifyInstance;
  let next: unknown;

  beforeAll(async () => {
    app = Fastify();
    // The error pages take the operator's branding from the configuration.
    app.decorate('ctx', { config: loadConfig({}) } as ServiceContext);
    registerErrorHandler(app);
    const fail = async () => {
      throw next;
    };
    for (const url of ['/oauth/token', '/oauth/authorize', '/interaction/:uid/login', '/admin/clients', '/oidc/userinfo']) {
      app.get(url, fail);
    }
    await app.ready();
  });
  afterAll(() => app.close());

  async function call(url: string, err: unknown) {
    next = err;
    return app.inject({ method: 'GET', url });
  }

  it.each([
    ['ECONNREFUSED', '5'],
    ['57P01', '5'],
    ['08006', '5'],
    ['40001', '1'],
    ['40P01', '1'],
    ['55P03', '2'],
    ['57014', '2'],
  ])('%s on the token endpoint: 503 temporarily_unavailable with Retry-After %s', async (code, retryAfter) => {
    const res = await call('/oauth/token', withCode(code));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  });

  it('a lost connection (node-postgres message) on userinfo: OAuth 503', async () => {
    const res = await call('/oidc/userinfo', new Error('Connection terminated unexpectedly'));
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('temporarily_unavailable');
  });

  it('on the admin API: the admin error shape', async () => {
    const res = await call('/admin/clients', new StorageUnavailable('closed'));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ error: 'temporarily_unavailable', message: 'the database is unavailable; retry later' });
  });

  it.each(['/oauth/authorize', '/interaction/abc/login'])('on the page %s: an HTML page', async (url) => {
    const res = await call(url, withCode('ECONNREFUSED'));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('Temporarily unavailable');
    expect(res.body).not.toContain('ECONNREFUSED');
  });

  it.each(['22001', '22021'])('%s (input the database refused) is 400 invalid_request, admin validation_failed', async (code) => {
    const oauth = await call('/oauth/token', withCode(code));
    expect(oauth.statusCode).toBe(400);
    expect(oauth.json()).toEqual({ error: 'invalid_request', error_description: 'a parameter value is too long or is not valid text' });
    const admin = await call('/admin/clients', withCode(code));
    expect(admin.statusCode).toBe(400);
    expect(admin.json()).toMatchObject({ error: 'validation_failed' });
  });

  it('anything else stays a 500 server_error without details', async () => {
    const res = await call('/oauth/token', withCode('42P01'));
    expect(res.statusCode).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.json()).toEqual({ error: 'server_error', error_description: 'internal error' });
  });
});
