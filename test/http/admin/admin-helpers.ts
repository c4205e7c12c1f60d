import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { basicAuth } from '../../helpers/fixtures.js';

/** The bootstrap admin client every admin suite configures. */
export const ADMIN_ENV = {
  AUTHLY_ADMIN_CLIENT_ID: 'admin-under-test',
  AUTHLY_ADMIN_CLIENT_SECRET: 'admin-under-test-secret-0123456789',
};

export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** client_credentials at the token endpoint, as the CLI does it. */
export async function requestToken(app: FastifyInstance, clientId: string, secret: string, scope?: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret) },
    payload: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
  });
}

export async function tokenFor(app: FastifyInstance, clientId: string, secret: string, scope?: string): Promise<string> {
  const res = await requestToken(app, clientId, secret, scope);
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { access_token: string }).access_token;
}

export const adminToken = (app: FastifyInstance) =>
  tokenFor(app, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET, 'authly:admin');

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Calls the admin API with a Bearer token; `body` is sent as JSON. */
export function adminCall(app: FastifyInstance, token: string) {
  return (method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
}
