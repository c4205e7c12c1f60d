import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource } from '../../../src/repositories/resources-repository.js';
import { lookupResource } from '../../../src/services/resource-lookup.js';
import { createClient, type TestClient } from '../../helpers/fixtures.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, ISO_TIMESTAMP } from './admin-helpers.js';

const BODY_INVALID = 'the request body is not valid';
const RESOURCE_INVALID = 'the resource is not valid';
const NOT_FOUND = { error: 'not_found', message: 'resource not found' };
const path = (identifier: string) => `/admin/resources/${encodeURIComponent(identifier)}`;

describe('admin API: resources', () => {
  let t: TestApp;
  let call: ReturnType<typeof adminCall>;
  /** A confidential client that acts for resources (introspects their tokens), and a public one. */
  let rs: TestClient;
  let spa: TestClient;

  const auditLines = (event: string) =>
    t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.log === 'audit' && l.event === event);

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    call = adminCall(t.app, await adminToken(t.app));
    rs = await createClient(t.app, { clientId: 'reports-api', grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    spa = await createClient(t.app, { clientId: 'spa', tokenEndpointAuthMethod: 'none' });
    for (const name of ['reports:read', 'reports:write']) expect((await call('POST', '/admin/scopes', { name })).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  it('creates a resource (201) from any accepted spelling, stored and returned canonical', async () => {
    const res = await call('POST', '/admin/resources', {
      identifier: 'HTTPS://Reports.Example.COM:443/api',
      name: 'Reports API',
      scopes: ['reports:read', 'reports:write', 'reports:read'],
      access_token_format: 'opaque',
      access_token_ttl_seconds: 300,
      signing_alg: 'RS256',
      client_ids: [rs.clientId],
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBe('/admin/resources/https%3A%2F%2Freports.example.com%2Fapi');
    const body = res.json() as Record<string, unknown>;
    expect(body).toEqual({
      identifier: 'https://reports.example.com/api',
      name: 'Reports API',
      scopes: ['reports:read', 'reports:write'],
      access_token_format: 'opaque',
      access_token_ttl_seconds: 300,
      signing_alg: 'RS256',
      client_ids: ['reports-api'],
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });

    const shown = await call('GET', res.headers.location as string);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toEqual(body);
    // Any spelling the canonical form accepts finds it.
    for (const spelling of ['https://REPORTS.example.com/api', 'https://reports.example.com:443/api', 'HTTPS://reports.example.com/api']) {
      const found = await call('GET', path(spelling));
      expect(found.statusCode, spelling).toBe(200);
      expect(found.json()).toEqual(body);
    }
    // The path is significant: another path, or a trailing slash, is another resource.
    expect((await call('GET', path('https://reports.example.com/api/'))).statusCode).toBe(404);

    expect(auditLines('admin.resource.created')).toContainEqual(
      expect.objectContaining({ resource: 'https://reports.example.com/api', actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, actor_type: 'client' }),
    );
  });

  it('fills in the defaults: no scopes, no acting clients, server defaults for format, lifetime and alg', async () => {
    const res = await call('POST', '/admin/resources', { identifier: 'urn:example:ledger', name: 'Ledger' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      identifier: 'urn:example:ledger',
      name: 'Ledger',
      scopes: [],
      access_token_format: null,
      access_token_ttl_seconds: null,
      signing_alg: null,
      client_ids: [],
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(res.headers.location).toBe('/admin/resources/urn%3Aexample%3Aledger');
    // A host-only URL is written without the root slash (the MCP canonical form), whichever way it came.
    const root = await call('POST', '/admin/resources', { identifier: 'https://MCP.example.com/', name: 'MCP' });
    expect(root.statusCode).toBe(201);
    expect(root.json()).toMatchObject({ identifier: 'https://mcp.example.com' });
    expect((await call('GET', path('https://mcp.example.com/'))).statusCode).toBe(200);
  });

  it('refuses a second resource with the same canonical identifier with 409', async () => {
    for (const identifier of ['https://reports.example.com/api', 'https://Reports.example.com:443/api']) {
      const res = await call('POST', '/admin/resources', { identifier, name: 'Again' });
      expect(res.statusCode, identifier).toBe(409);
      expect(res.json()).toEqual({ error: 'conflict', message: 'a resource with this identifier already exists', fields: { identifier: 'already exists' } });
    }
    expect((await findResource(t.testDb.db, 'https://reports.example.com/api'))!.name).toBe('Reports API');
  });

  const valid = { identifier: 'https://valid.example.com', name: 'Valid' };
  it.each([
    ['no identifier', { name: 'x' }, BODY_INVALID, { identifier: 'required' }],
    ['no name', { identifier: 'https://x.example.com' }, BODY_INVALID, { name: 'required' }],
    ['an empty name', { ...valid, name: '  ' }, BODY_INVALID, { name: 'must not be empty' }],
    ['an identifier with a fragment', { ...valid, identifier: 'https://x.example.com/api#v1' }, BODY_INVALID, { identifier: 'must not contain a fragment (RFC 8707 section 2)' }],
    ['a relative identifier', { ...valid, identifier: '/api' }, BODY_INVALID, { identifier: 'is not an absolute URI (RFC 8707 section 2)' }],
    ['an identifier with user information', { ...valid, identifier: 'https://me:pw@x.example.com' }, BODY_INVALID, { identifier: 'must not contain user information (RFC 8707 section 2)' }],
    ['an identifier with a space', { ...valid, identifier: 'https://x.example.com/a b' }, BODY_INVALID, { identifier: 'contains whitespace or a control character (RFC 8707 section 2)' }],
    ['an empty identifier', { ...valid, identifier: '' }, BODY_INVALID, { identifier: 'is empty (RFC 8707 section 2)' }],
    ['an identifier longer than 200 characters', { ...valid, identifier: `https://x.example.com/${'a'.repeat(179)}` }, BODY_INVALID, { identifier: 'expected at most 200 characters in canonical form' }],
    ['an identifier that is not a string', { ...valid, identifier: 42 }, BODY_INVALID, { identifier: 'expected string, received number' }],
    ['an unknown field', { ...valid, audience: 'x' }, BODY_INVALID, { audience: 'unknown field' }],
    ['scopes that are not a list', { ...valid, scopes: 'reports:read' }, BODY_INVALID, { scopes: 'expected array, received string' }],
    ['a scope that is not a scope-token', { ...valid, scopes: ['reports:read', 'two words'] }, BODY_INVALID, { 'scopes.1': 'expected a scope-token (RFC 6749 section 3.3)' }],
    ['an unknown scope', { ...valid, scopes: ['reports:read', 'nope'] }, RESOURCE_INVALID, { 'scopes.1': 'is not a registered scope' }],
    ...['openid', 'profile', 'email', 'phone', 'address', 'offline_access'].map(
      (scope) =>
        [`the user scope ${scope}`, { ...valid, scopes: [scope] }, RESOURCE_INVALID, { 'scopes.0': 'is an OpenID Connect user scope: it belongs to userinfo, not to a resource' }] as const,
    ),
    ['an unknown access token format', { ...valid, access_token_format: 'reference' }, BODY_INVALID, { access_token_format: 'expected one of "jwt"|"opaque"' }],
    ['a lifetime of 0', { ...valid, access_token_ttl_seconds: 0 }, BODY_INVALID, { access_token_ttl_seconds: 'expected at least 1' }],
    ['a lifetime over a day', { ...valid, access_token_ttl_seconds: 86_401 }, BODY_INVALID, { access_token_ttl_seconds: 'expected at most 86400' }],
    ['a fractional lifetime', { ...valid, access_token_ttl_seconds: 1.5 }, BODY_INVALID, { access_token_ttl_seconds: 'expected a whole number of seconds' }],
    ['a lifetime as text', { ...valid, access_token_ttl_seconds: '300' }, BODY_INVALID, { access_token_ttl_seconds: 'expected number, received string' }],
    ['a shared-secret alg', { ...valid, signing_alg: 'HS256' }, BODY_INVALID, { signing_alg: 'expected one of "RS256"|"ES256"|"EdDSA"' }],
    // This server holds RS256 keys only (JWT_ALGORITHM unset).
    ['an alg the server holds no key for', { ...valid, signing_alg: 'ES256' }, RESOURCE_INVALID, { signing_alg: 'expected one of "RS256" (the algorithms this server holds signing keys for)' }],
    ['an unknown acting client', { ...valid, client_ids: ['reports-api', 'ghost'] }, RESOURCE_INVALID, { 'client_ids.1': 'is not a registered client' }],
    ['a public acting client', { ...valid, client_ids: ['spa'] }, RESOURCE_INVALID, { 'client_ids.0': 'is a public client; only a confidential client can introspect' }],
    ['an empty client id', { ...valid, client_ids: [''] }, BODY_INVALID, { 'client_ids.0': 'must not be empty' }],
  ] as const)('refuses %s with 400 validation_failed', async (_case, body, message, fields) => {
    const res = await call('POST', '/admin/resources', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message, fields });
    expect(await findResource(t.testDb.db, 'https://valid.example.com')).toBeUndefined();
  });

  it('an identifier of 200 characters, the most there may be, is addressable through the path', async () => {
    // Percent-encoded it is longer than 200; the router bounds the decoded path parameter (MAX_PATH_PARAM_LENGTH).
    const identifier = `https://x.example.com/${'%C3%A9/'.repeat(26).slice(0, 178)}`;
    expect(identifier).toHaveLength(200);
    expect((await call('POST', '/admin/resources', { identifier, name: 'Longest' })).statusCode).toBe(201);
    expect(path(identifier).length).toBeGreaterThan(300);
    expect((await call('GET', path(identifier))).json()).toMatchObject({ identifier, name: 'Longest' });
    expect((await call('PATCH', path(identifier), { name: 'Still longest' })).statusCode).toBe(200);
    expect((await call('DELETE', path(identifier))).statusCode).toBe(204);
  });

  it('names every broken rule at once', async () => {
    const res = await call('POST', '/admin/resources', { ...valid, scopes: ['openid', 'nope'], signing_alg: 'EdDSA', client_ids: ['spa', 'ghost'] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'validation_failed',
      message: RESOURCE_INVALID,
      fields: {
        'scopes.0': 'is an OpenID Connect user scope: it belongs to userinfo, not to a resource',
        'scopes.1': 'is not a registered scope',
        signing_alg: 'expected one of "RS256" (the algorithms this server holds signing keys for)',
        'client_ids.0': 'is a public client; only a confidential client can introspect',
        'client_ids.1': 'is not a registered client',
      },
    });
  });

  it('updates only the fields given, validates the result, and drops the cached copy', async () => {
    const identifier = 'https://orders.example.com/v1';
    expect((await call('POST', '/admin/resources', { identifier, name: 'Orders', scopes: ['reports:read'] })).statusCode).toBe(201);
    // Read once through the cache, as the token endpoint does.
    expect((await lookupResource(t.app.ctx, identifier))!.name).toBe('Orders');
    const before = (await call('GET', path(identifier))).json() as { updated_at: string; created_at: string };

    const res = await call('PATCH', path('HTTPS://ORDERS.example.com/v1'), {
      name: 'Orders API',
      scopes: ['reports:write'],
      access_token_format: 'jwt',
      access_token_ttl_seconds: 600,
      signing_alg: 'RS256',
      client_ids: [rs.clientId],
    });
    expect(res.statusCode).toBe(200);
    const updated = res.json() as Record<string, unknown>;
    expect(updated).toEqual({
      identifier,
      name: 'Orders API',
      scopes: ['reports:write'],
      access_token_format: 'jwt',
      access_token_ttl_seconds: 600,
      signing_alg: 'RS256',
      client_ids: ['reports-api'],
      created_at: before.created_at,
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(Date.parse(updated.updated_at as string)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));
    expect((await lookupResource(t.app.ctx, identifier))).toMatchObject({ name: 'Orders API', scopes: ['reports:write'], clientIds: ['reports-api'] });

    // null returns to the server default; an empty list removes every acting client; other fields stay.
    const reset = await call('PATCH', path(identifier), { access_token_format: null, access_token_ttl_seconds: null, signing_alg: null, client_ids: [] });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ name: 'Orders API', scopes: ['reports:write'], access_token_format: null, access_token_ttl_seconds: null, signing_alg: null, client_ids: [] });
    expect((await lookupResource(t.app.ctx, identifier))!.clientIds).toEqual([]);

    expect(auditLines('admin.resource.updated')).toContainEqual(expect.objectContaining({ resource: identifier, actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID }));
  });

  it.each([
    ['the identifier (it never changes)', { identifier: 'https://other.example.com' }, BODY_INVALID, { identifier: 'unknown field' }],
    ['an unknown scope', { scopes: ['nope'] }, RESOURCE_INVALID, { 'scopes.0': 'is not a registered scope' }],
    ['a user scope', { scopes: ['reports:read', 'offline_access'] }, RESOURCE_INVALID, { 'scopes.1': 'is an OpenID Connect user scope: it belongs to userinfo, not to a resource' }],
    ['a public acting client', { client_ids: ['spa'] }, RESOURCE_INVALID, { 'client_ids.0': 'is a public client; only a confidential client can introspect' }],
    ['a null name', { name: null }, BODY_INVALID, { name: 'expected string, received null' }],
  ] as const)('PATCH refuses %s and changes nothing', async (_case, body, message, fields) => {
    const before = await findResource(t.testDb.db, 'https://reports.example.com/api');
    const res = await call('PATCH', path('https://reports.example.com/api'), body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation_failed', message, fields });
    expect(await findResource(t.testDb.db, 'https://reports.example.com/api')).toEqual(before);
  });

  it.each([
    ['GET', undefined],
    ['PATCH', { name: 'x' }],
    ['DELETE', undefined],
  ] as const)('%s of an unknown or malformed identifier is 404', async (method, body) => {
    for (const identifier of ['https://unknown.example.com', 'not a uri', 'https://x.example.com/#frag', 'relative/path']) {
      const res = await call(method, path(identifier), body);
      expect(res.statusCode, identifier).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
    }
  });

  it('lists resources by identifier, a page at a time', async () => {
    const res = await call('GET', '/admin/resources');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: { identifier: string }[]; limit: number; next_cursor: string | null };
    const all = body.items.map((r) => r.identifier);
    expect(all).toEqual([...all].sort());
    expect(body).toMatchObject({ limit: 50, next_cursor: null });
    expect(all).toEqual(expect.arrayContaining(['https://reports.example.com/api', 'urn:example:ledger', 'https://mcp.example.com']));
    expect(body.items.find((r) => r.identifier === 'https://reports.example.com/api')).toEqual(
      (await call('GET', path('https://reports.example.com/api'))).json(),
    );

    const first = (await call('GET', '/admin/resources?limit=2')).json() as typeof body;
    expect(first.items.map((r) => r.identifier)).toEqual(all.slice(0, 2));
    const second = (await call('GET', `/admin/resources?limit=2&cursor=${first.next_cursor}`)).json() as typeof body;
    expect(second).toMatchObject({ limit: 2 });
    expect(second.items.map((r) => r.identifier)).toEqual(all.slice(2, 4));

    const bad = await call('GET', '/admin/resources?limit=0&cursor=x!&sort=name');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'validation_failed',
      message: 'the query parameters are not valid',
      fields: { limit: 'expected at least 1', cursor: 'not a valid cursor', sort: 'unknown field' },
    });
  });

  it('deletes a resource (204), after which it is gone from the API and the cache', async () => {
    const identifier = 'https://doomed.example.com';
    expect((await call('POST', '/admin/resources', { identifier, name: 'Doomed', client_ids: [rs.clientId] })).statusCode).toBe(201);
    expect(await lookupResource(t.app.ctx, identifier)).toBeDefined();
    const res = await call('DELETE', path('HTTPS://DOOMED.example.com/'));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await lookupResource(t.app.ctx, identifier)).toBeUndefined();
    expect((await call('GET', path(identifier))).json()).toEqual(NOT_FOUND);
    const again = await call('DELETE', path(identifier));
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual(NOT_FOUND);
    // The acting client itself stays.
    expect((await call('GET', `/admin/clients/${rs.clientId}`)).statusCode).toBe(200);
    expect(auditLines('admin.resource.deleted')).toContainEqual(expect.objectContaining({ resource: identifier, actor: ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID }));
  });

  it('deleting an acting client removes it from the resource, cached copy included', async () => {
    const other = await createClient(t.app, { grantTypes: ['client_credentials'], redirectUris: [], responseTypes: [], scope: '' });
    const identifier = 'https://acted.example.com';
    expect((await call('POST', '/admin/resources', { identifier, name: 'Acted', client_ids: [other.clientId, rs.clientId] })).statusCode).toBe(201);
    expect((await lookupResource(t.app.ctx, identifier))!.clientIds).toEqual([other.clientId, rs.clientId].sort());
    expect((await call('DELETE', `/admin/clients/${other.clientId}`)).statusCode).toBe(204);
    expect(((await call('GET', path(identifier))).json() as { client_ids: string[] }).client_ids).toEqual([rs.clientId]);
    // A new client given the same client_id does not inherit the deleted one's place.
    expect((await lookupResource(t.app.ctx, identifier))!.clientIds).toEqual([rs.clientId]);
  });

  it('refuses to delete a scope a resource accepts, until no resource does', async () => {
    expect((await call('POST', '/admin/scopes', { name: 'ledger:read' })).statusCode).toBe(201);
    expect((await call('PATCH', path('urn:example:ledger'), { scopes: ['ledger:read'] })).statusCode).toBe(200);
    const used = await call('DELETE', '/admin/scopes/ledger%3Aread');
    expect(used.statusCode).toBe(409);
    expect(used.json()).toEqual({ error: 'conflict', message: 'ledger:read is accepted by 1 resource(s); remove it from them first' });
    expect((await call('PATCH', path('urn:example:ledger'), { scopes: [] })).statusCode).toBe(200);
    expect((await call('DELETE', '/admin/scopes/ledger%3Aread')).statusCode).toBe(204);
  });

  describe("clients' allowed_resources", () => {
    const REDIRECT = 'https://app.example.com/cb';

    it('is null (every resource) by default, and takes registered identifiers in any accepted spelling', async () => {
      const plain = await call('POST', '/admin/clients', { client_name: 'Any', redirect_uris: [REDIRECT] });
      expect(plain.statusCode).toBe(201);
      expect(plain.json()).toMatchObject({ allowed_resources: null });

      const res = await call('POST', '/admin/clients', {
        client_name: 'Narrow',
        redirect_uris: [REDIRECT],
        allowed_resources: ['HTTPS://Reports.example.com/api', 'urn:example:ledger', 'https://reports.example.com:443/api'],
      });
      expect(res.statusCode).toBe(201);
      const { client_id, allowed_resources } = res.json() as { client_id: string; allowed_resources: string[] };
      expect(allowed_resources).toEqual(['https://reports.example.com/api', 'urn:example:ledger']);
      expect((await call('GET', `/admin/clients/${client_id}`)).json()).toMatchObject({ allowed_resources });

      expect((await call('PATCH', `/admin/clients/${client_id}`, { allowed_resources: [] })).json()).toMatchObject({ allowed_resources: [] });
      expect((await call('PATCH', `/admin/clients/${client_id}`, { client_name: 'Still none' })).json()).toMatchObject({ allowed_resources: [] });
      expect((await call('PATCH', `/admin/clients/${client_id}`, { allowed_resources: null })).json()).toMatchObject({ allowed_resources: null });
    });

    it.each([
      ['an unregistered resource', ['https://reports.example.com/api', 'https://nowhere.example.com'], 'the client registration is not valid', { 'allowed_resources.1': 'is not a registered resource' }],
      ['a malformed identifier', ['https://x.example.com/#f'], BODY_INVALID, { 'allowed_resources.0': 'must not contain a fragment (RFC 8707 section 2)' }],
      ['a relative identifier', ['api'], BODY_INVALID, { 'allowed_resources.0': 'is not an absolute URI (RFC 8707 section 2)' }],
      ['a single string', 'https://reports.example.com/api', BODY_INVALID, { allowed_resources: 'expected array, received string' }],
    ] as const)('refuses %s, naming the field', async (_case, allowed, message, fields) => {
      const created = await call('POST', '/admin/clients', { client_id: 'allow-refused', client_name: 'x', redirect_uris: [REDIRECT], allowed_resources: allowed });
      expect(created.statusCode).toBe(400);
      expect(created.json()).toEqual({ error: 'validation_failed', message, fields });
      expect((await call('GET', '/admin/clients/allow-refused')).statusCode).toBe(404);

      const patched = await call('PATCH', `/admin/clients/${rs.clientId}`, { allowed_resources: allowed });
      expect(patched.statusCode).toBe(400);
      expect(patched.json()).toEqual({ error: 'validation_failed', message, fields });
      expect((await call('GET', `/admin/clients/${rs.clientId}`)).json()).toMatchObject({ allowed_resources: null });
    });

    it('a resource a client may ask for cannot be deleted until no client lists it', async () => {
      const identifier = 'https://listed.example.com';
      expect((await call('POST', '/admin/resources', { identifier, name: 'Listed' })).statusCode).toBe(201);
      const client = (await call('POST', '/admin/clients', { client_name: 'Lister', redirect_uris: [REDIRECT], allowed_resources: [identifier] })).json() as {
        client_id: string;
      };
      const refused = await call('DELETE', path(identifier));
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({ error: 'conflict', message: `${identifier} is in the allowed_resources of 1 client(s); remove it from them first` });
      expect(await findResource(t.testDb.db, identifier)).toBeDefined();

      expect((await call('PATCH', `/admin/clients/${client.client_id}`, { allowed_resources: null })).statusCode).toBe(200);
      expect((await call('DELETE', path(identifier))).statusCode).toBe(204);
    });
  });
});
