import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** POST /oauth/register with a JSON body (`raw` strings are sent as they are). */
export function register(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/oauth/register',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A call to the client configuration endpoint (RFC 7592) with a registration access token. */
export function configure(
  app: FastifyInstance,
  method: 'GET' | 'PUT' | 'DELETE',
  clientId: string,
  token: string | undefined,
  body?: unknown,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url: `/oauth/register/${encodeURIComponent(clientId)}`,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

export const WEB_CLIENT = {
  client_name: 'Web MCP client',
  redirect_uris: ['https://mcp.example.com/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
};

export const NATIVE_CLIENT = {
  client_name: 'Desktop MCP client',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1:33418/callback', 'com.example.desktop:/oauth/cb'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
};
