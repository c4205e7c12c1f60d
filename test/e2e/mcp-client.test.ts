import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, TEST_PASSWORD } from '../helpers/fixtures.js';

/**
 * The code flow as an OAuth (not OpenID) client such as an MCP client runs it: PKCE S256 and state, no
 * nonce and no ID token, `resource` on the authorization request; the pages walked by a real browser
 * stand-in.
 */
async function oauthCodeFlow(config: client.Configuration, options: { redirectUri: string; scope: string; resource: string; username: string; password: string; issuer: string }) {
  const state = client.randomState();
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope,
    state,
    resource: options.resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const walk = await new FetchBrowser(options.issuer).authorize(url, { username: options.username, password: options.password });
  if (walk.landing.mode !== 'query') throw new Error('expected a query response');
  const tokens = await client.authorizationCodeGrant(config, walk.landing.url, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: false });
  return { tokens, pages: walk.pages };
}

const ADMIN = { id: 'mcp-e2e-admin', secret: 'mcp-e2e-admin-secret-with-enough-entropy-0123456789' };

/** A stand-in MCP server: RFC 9728 metadata, a 401 challenge naming it, and introspection with its own client. */
interface McpServer {
  url: string;
  introspections: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startMcpServer(issuer: string, credentials: () => { id: string; secret: string }): Promise<McpServer> {
  const state = { url: '', introspections: 0 };
  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', state.url).pathname;
      if (path === '/.well-known/oauth-protected-resource/mcp') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ resource: `${state.url}/mcp`, authorization_servers: [issuer], scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'] }),
        );
        return;
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token) {
        response
          .writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${state.url}/.well-known/oauth-protected-resource/mcp"` })
          .end();
        return;
      }
      // What an API must check (README "Protect an API"): active, aud = itself, the scope it needs.
      const { id, secret } = credentials();
      state.introspections++;
      const answer = (await (
        await fetch(`${issuer}/oauth/introspect`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }),
        })
      ).json()) as { active: boolean; aud?: string | string[]; scope?: string };
      const audiences = [answer.aud ?? []].flat();
      const ok = answer.active && audiences.includes(`${state.url}/mcp`) && (answer.scope ?? '').split(' ').includes('mcp:tools');
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, introspection: answer }));
    })();
  });
  state.url = await listen(server);
  return {
    get url() {
      return `${state.url}/mcp`;
    },
    get introspections() {
      return state.introspections;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * An MCP-style client against the real server over HTTP, with zero set-up on the client's side: it meets
 * the MCP server's 401, follows its protected resource metadata (RFC 9728) to Authly, discovers it
 * (RFC 8414), registers (RFC 7591) or uses a client ID metadata document, signs a user in through the
 * real pages with PKCE and `resource` (RFC 8707), and presents a token whose aud is exactly that server,
 * which the server's own client introspects as active. A token for another resource is inactive to it.
 */
describe('an MCP client connects with zero set-up', () => {
  let server: E2eServer;
  let user: User;
  let adminToken: string;
  const rs: Record<'a' | 'b', { id: string; secret: string }> = { a: { id: '', secret: '' }, b: { id: '', secret: '' } };
  let mcpA: McpServer;
  let mcpB: McpServer;
  let documents: Server;
  let documentsOrigin: string;

  async function admin(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${server.issuer}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function registerResource(key: 'a' | 'b', mcp: McpServer): Promise<void> {
    const created = await admin('POST', '/admin/clients', { client_name: `MCP server ${key}`, grant_types: ['client_credentials'], scope: '' });
    expect(created.status).toBe(201);
    const { client_id, client_secret } = (await created.json()) as { client_id: string; client_secret: string };
    rs[key] = { id: client_id, secret: client_secret };
    const resource = await admin('POST', '/admin/resources', { identifier: mcp.url, name: `MCP server ${key}`, scopes: ['mcp:tools'], client_ids: [client_id] });
    expect(resource.status).toBe(201);
  }

  beforeAll(async () => {
    server = await startE2eServer({
      AUTHLY_ADMIN_CLIENT_ID: ADMIN.id,
      AUTHLY_ADMIN_CLIENT_SECRET: ADMIN.secret,
      REGISTRATION_POLICY: 'open',
      CIMD_ALLOW_LOOPBACK: 'true',
    });
    user = await createUser(server.app);
    const token = await fetch(`${server.issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    adminToken = ((await token.json()) as { access_token: string }).access_token;
    expect((await admin('POST', '/admin/scopes', { name: 'mcp:tools', description: 'Use the MCP server’s tools' })).status).toBe(201);
    mcpA = await startMcpServer(server.issuer, () => rs.a);
    mcpB = await startMcpServer(server.issuer, () => rs.b);
    await registerResource('a', mcpA);
    await registerResource('b', mcpB);
    // The client ID metadata document an MCP client publishes at its own URL.
    documents = createServer((request, response) => {
      const clientId = `${documentsOrigin}${request.url}`;
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(
        JSON.stringify({ client_id: clientId, client_name: 'Example MCP client', redirect_uris: ['http://127.0.0.1:33418/callback'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
      );
    });
    documentsOrigin = await listen(documents);
  });
  afterAll(async () => {
    await mcpA?.close();
    await mcpB?.close();
    await new Promise<void>((resolve) => (documents ? documents.close(() => resolve()) : resolve()));
    await server?.close();
  });

  /** What an MCP client does first: call the server, read its challenge, find the authorization server. */
  async function findAuthorizationServer(mcp: McpServer): Promise<URL> {
    const challenge = await fetch(mcp.url);
    expect(challenge.status).toBe(401);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1];
    const metadata = (await (await fetch(metadataUrl!)).json()) as { resource: string; authorization_servers: string[] };
    expect(metadata.resource).toBe(mcp.url);
    return new URL(metadata.authorization_servers[0]!);
  }

  it('discovers, registers dynamically, signs in with resource=, and gets a token only that MCP server accepts', async () => {
    const issuer = await findAuthorizationServer(mcpA);
    const redirectUri = 'http://127.0.0.1:33418/callback';
    const config = await client.dynamicClientRegistration(
      issuer,
      { client_name: 'Example MCP client', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', application_type: 'native', scope: 'mcp:tools offline_access' },
      client.None(),
      { execute: [client.allowInsecureRequests] },
    );
    expect(config.serverMetadata().registration_endpoint).toBe(`${server.issuer}/oauth/register`);
    expect(config.clientMetadata().client_id).toEqual(expect.any(String));

    const { tokens, pages } = await oauthCodeFlow(config, {
      redirectUri,
      scope: 'mcp:tools offline_access',
      resource: mcpA.url,
      username: user.username,
      password: TEST_PASSWORD,
      issuer: server.issuer,
    });
    expect(pages).toEqual(['login', 'consent']);
    expect(tokens.scope?.split(' ').sort()).toEqual(['mcp:tools', 'offline_access']);

    const call = await fetch(mcpA.url, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(call.status).toBe(200);
    expect(((await call.json()) as { introspection: { aud: unknown } }).introspection.aud).toBe(mcpA.url);
    // The same token at another MCP server: its client is told the token is inactive.
    const elsewhere = await fetch(mcpB.url, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(elsewhere.status).toBe(401);
    expect(((await elsewhere.json()) as { introspection: unknown }).introspection).toEqual({ active: false });

    // A refresh keeps the audience, and may not reach for a resource it was not granted.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: mcpA.url });
    expect((await fetch(mcpA.url, { headers: { authorization: `Bearer ${refreshed.access_token}` } })).status).toBe(200);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!, { resource: mcpB.url })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('uses a client ID metadata document as its client_id, and the token names the MCP server', async () => {
    const issuer = await findAuthorizationServer(mcpB);
    const clientId = `${documentsOrigin}/oauth/client-metadata.json`;
    const config = await client.discovery(issuer, clientId, { token_endpoint_auth_method: 'none' }, client.None(), { execute: [client.allowInsecureRequests] });
    expect(config.serverMetadata().client_id_metadata_document_supported).toBe(true);

    const { tokens, pages } = await oauthCodeFlow(config, {
      redirectUri: 'http://127.0.0.1:33418/callback',
      scope: 'mcp:tools',
      resource: mcpB.url,
      username: user.username,
      password: TEST_PASSWORD,
      issuer: server.issuer,
    });
    expect(pages).toContain('consent');
    const claims = decodeJwtIfJwt(tokens.access_token);
    if (claims) expect(claims.aud).toBe(mcpB.url);
    expect((await fetch(mcpB.url, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    expect((await fetch(mcpA.url, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
  });
});

function decodeJwtIfJwt(token: string): ReturnType<typeof decodeJwt> | undefined {
  return token.split('.').length === 3 ? decodeJwt(token) : undefined;
}
