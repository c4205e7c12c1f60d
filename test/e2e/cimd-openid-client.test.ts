import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { FetchBrowser, startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, REDIRECT_URI, TEST_PASSWORD } from '../helpers/fixtures.js';
import { MetadataDocumentServer } from '../helpers/metadata-document-server.js';
import { codeFlow, discover } from './openid-client-support.js';

/**
 * An MCP-style client with openid-client against a running Authly: its client_id is the URL of a client ID
 * metadata document served over HTTP (CIMD_ALLOW_LOOPBACK=true), no registration anywhere; discovery,
 * the real sign-in and consent pages, the code flow with PKCE, an ID token for that client_id, userinfo
 * and a rotating refresh.
 */
describe('openid-client with a client ID metadata document', () => {
  let server: E2eServer;
  let docs: MetadataDocumentServer;
  let user: User;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
    server = await startE2eServer({ CIMD_ALLOW_LOOPBACK: 'true' });
    user = await createUser(server.app);
  });
  afterAll(async () => {
    await server?.close();
    await docs?.close();
  });

  it('discovers CIMD support, signs in through the pages, and gets tokens for the URL client_id', async () => {
    const clientId = docs.document('/mcp-client.json', {
      client_name: 'openid-client MCP',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile email offline_access',
    });
    const config = await discover(server.issuer, clientId, client.None());
    expect(config.serverMetadata().client_id_metadata_document_supported).toBe(true);
    const browser = new FetchBrowser(server.issuer);

    const first = await codeFlow(config, browser, { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD });
    expect(first.pages).toEqual(['login', 'consent']);
    expect(first.tokens.claims()).toMatchObject({ iss: server.issuer, aud: clientId, sub: user.id, nonce: first.nonce });
    const info = await client.fetchUserInfo(config, first.tokens.access_token, user.id);
    expect(info.sub).toBe(user.id);

    const refreshed = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(first.tokens.refresh_token);

    // Signed in already: the login is skipped, the consent never is.
    const second = await codeFlow(config, browser, { redirectUri: REDIRECT_URI, username: user.username, password: TEST_PASSWORD });
    expect(second.pages).toEqual(['consent']);
    expect(docs.count('/mcp-client.json')).toBe(1);
  });
});
