import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertScope } from '../../src/repositories/scopes-repository.js';
import { adminCall, adminToken, ADMIN_ENV } from '../http/admin/admin-helpers.js';
import { clientSigningKey, type ClientSigningKey } from '../helpers/client-assertion.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { MetadataDocumentServer } from '../helpers/metadata-document-server.js';
import { discover } from './openid-client-support.js';

/**
 * private_key_jwt and client_secret_jwt as the certified client libraries send them (openid-client v6
 * PrivateKeyJwt / ClientSecretJwt, oauth4webapi), against a real server: client_credentials, then
 * introspection and revocation authenticated the same way; keys by value and by a jwks_uri served here.
 */
describe('client assertions with openid-client and oauth4webapi', () => {
  let server: E2eServer;
  let jwks: MetadataDocumentServer;
  let call: ReturnType<typeof adminCall>;

  async function create(body: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }> {
    const res = await call('POST', '/admin/clients', { client_name: 'Library client', grant_types: ['client_credentials'], scope: 'api:read', ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { client_id: string; client_secret?: string };
  }

  beforeAll(async () => {
    server = await startE2eServer({ ...ADMIN_ENV, OUTBOUND_ALLOW_LOOPBACK: 'true' });
    await insertScope(server.app.ctx.db, { name: 'api:read', description: 'Read the API', isDefault: false });
    call = adminCall(server.app, await adminToken(server.app));
    jwks = await MetadataDocumentServer.start();
  });
  afterAll(async () => {
    await jwks?.close();
    await server?.close();
  });

  async function roundTrip(config: client.Configuration) {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'api:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, scope: 'api:read' });
    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  }

  it.each(['ES256', 'PS256', 'EdDSA', 'RS256'])('openid-client PrivateKeyJwt (%s, jwks by value): token, introspection, revocation', async (alg) => {
    const key = await clientSigningKey(alg);
    const { client_id } = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    await roundTrip(await discover(server.issuer, client_id, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid })));
  });

  it('openid-client PrivateKeyJwt with a jwks_uri served here, across a key rotation', async () => {
    const k1 = await clientSigningKey('ES256');
    const k2 = await clientSigningKey('ES256');
    const uri = jwks.serve('/e2e-jwks.json', { body: { keys: [k1.publicJwk] } });
    const { client_id } = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: uri });
    await roundTrip(await discover(server.issuer, client_id, client.PrivateKeyJwt({ key: k1.privateKey, kid: k1.kid })));
    jwks.serve('/e2e-jwks.json', { body: { keys: [k1.publicJwk, k2.publicJwk] } });
    await roundTrip(await discover(server.issuer, client_id, client.PrivateKeyJwt({ key: k2.privateKey, kid: k2.kid })));
  });

  it('openid-client ClientSecretJwt: token, introspection, revocation', async () => {
    const { client_id, client_secret } = await create({ token_endpoint_auth_method: 'client_secret_jwt' });
    await roundTrip(await discover(server.issuer, client_id, client.ClientSecretJwt(client_secret!)));
  });

  it('openid-client: a key the client did not register is refused with invalid_client', async () => {
    const registered = await clientSigningKey('ES256');
    const other: ClientSigningKey = { ...(await clientSigningKey('ES256')), kid: registered.kid };
    const { client_id } = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [registered.publicJwk] } });
    const config = await discover(server.issuer, client_id, client.PrivateKeyJwt({ key: other.privateKey, kid: other.kid }));
    const err = await client.clientCredentialsGrant(config, { scope: 'api:read' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(client.ResponseBodyError);
    expect(err).toMatchObject({ error: 'invalid_client', error_description: 'the client assertion signature is not valid', status: 401 });
  });

  it('oauth4webapi PrivateKeyJwt and ClientSecretJwt at the token endpoint', async () => {
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_jwt']));

    const key = await clientSigningKey('ES256');
    const pkj = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const pkjClient: oauth.Client = { client_id: pkj.client_id };
    const response = await oauth.clientCredentialsGrantRequest(as, pkjClient, oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), { scope: 'api:read' }, {
      [oauth.allowInsecureRequests]: true,
    });
    const tokens = await oauth.processClientCredentialsResponse(as, pkjClient, response);
    expect(tokens.scope).toBe('api:read');

    const csj = await create({ token_endpoint_auth_method: 'client_secret_jwt' });
    const csjClient: oauth.Client = { client_id: csj.client_id };
    const introspected = await oauth.processIntrospectionResponse(
      as,
      csjClient,
      await oauth.introspectionRequest(as, csjClient, oauth.ClientSecretJwt(csj.client_secret!), tokens.access_token, { [oauth.allowInsecureRequests]: true }),
    );
    // Another client's token: introspection answers, and the caller is authenticated by its HMAC assertion.
    expect(typeof introspected.active).toBe('boolean');

    const wrong = oauth.ClientSecretJwt('not-the-secret-0123456789abcdefghijkl');
    const refused = await oauth.clientCredentialsGrantRequest(as, csjClient, wrong, { scope: 'api:read' }, { [oauth.allowInsecureRequests]: true });
    const err = await oauth.processClientCredentialsResponse(as, csjClient, refused).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 });
  });
});
