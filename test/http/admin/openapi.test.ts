import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { adminCall, adminToken, ADMIN_ENV, tokenFor } from './admin-helpers.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

type Schema = Record<string, unknown>;
type Operation = { operationId: string; security?: unknown[]; responses: Record<string, Schema>; requestBody?: Schema; parameters?: Schema[] };
type Document = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Schema>; securitySchemes: Record<string, Schema> };
};

/** `/admin/clients/:client_id` (Fastify) ↔ `/admin/clients/{client_id}` (OpenAPI). */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/** Every method and path Fastify serves under /admin (HEAD aside: Fastify adds one per GET), from printRoutes. */
function servedAdminRoutes(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)(?:[├└]── )(\S*)(?: \(([^)]*)\))?/.exec(line.replace(/\u00a0/g, ' '));
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const path = stack.join('');
    if (!match[3] || !path.startsWith('/admin')) continue;
    for (const method of match[3].split(', ')) if (method !== 'HEAD') routes.push(`${method} ${openApiPath(path)}`);
  }
  return routes.sort();
}

interface Req {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  /** Defaults to the authly:admin token; null sends none. */
  token?: string | null;
  contentType?: string;
  /** The app whose admin rate limit is one request a minute. */
  limited?: boolean;
}

interface State {
  admin: string;
  /** admin:clients:read only. */
  clientsReader: string;
  /** admin:users:write only. */
  usersWriter: string;
  client: { client_id: string };
  grantClient: TestClient;
  sweptClient: TestClient;
  user: User;
  signedIn: User;
  other: User;
  /** Has an email address not yet confirmed. */
  unverified: User;
  grantIds: string[];
  scopeName: string;
  resource: string;
  registrationToken: string;
}

type Step = (s: State) => Req | Promise<Req>;
/** One operation: a real success request and a real error request, each with the status it must get. */
type Case = [operation: string, ok: [number, Step], error: [number, Step]];

describe('admin API: the OpenAPI 3.1 document (GET /admin/openapi.json)', () => {
  let t: TestApp;
  let limited: TestApp;
  let doc: Document;
  let documentResponse: LightMyRequestResponse;
  const s = {} as State;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  const send = (req: Req) =>
    (req.limited ? limited : t).app.inject({
      method: req.method,
      url: req.url,
      headers: {
        ...(req.token === null ? {} : { authorization: `Bearer ${req.token ?? s.admin}` }),
        ...(req.body !== undefined ? { 'content-type': req.contentType ?? 'application/json' } : {}),
      },
      ...(req.body !== undefined ? { payload: typeof req.body === 'string' ? req.body : JSON.stringify(req.body) } : {}),
    });
  const call = (method: Req['method'], url: string, body?: unknown) => send({ method, url, body });
  const created = async <T>(res: Promise<LightMyRequestResponse>): Promise<T> => {
    const r = await res;
    if (r.statusCode >= 300) throw new Error(`setup failed: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };

  beforeAll(async () => {
    t = await createTestApp({ ...ADMIN_ENV, AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1000' });
    limited = await createTestApp({ ...ADMIN_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_ADMIN_PER_MINUTE: '1' });
    s.admin = await adminToken(t.app);
    const scoped = async (scope: string) => {
      const c = await created<{ client_id: string; client_secret: string }>(call('POST', '/admin/clients', { client_name: scope, grant_types: ['client_credentials'], scope }));
      return tokenFor(t.app, c.client_id, c.client_secret, scope);
    };
    s.clientsReader = await scoped('admin:clients:read');
    // Any admin scope reads the document: here the narrowest one.
    documentResponse = await t.app.inject({ method: 'GET', url: '/admin/openapi.json', headers: { authorization: `Bearer ${s.clientsReader}` } });
    doc = documentResponse.json() as Document;
    ajv.addSchema(doc, 'openapi.json');
    s.usersWriter = await scoped('admin:users:write');
    s.client = await created(call('POST', '/admin/clients', { client_name: 'described', redirect_uris: ['https://app.example/cb'] }));
    s.user = await createUser(t.app);
    s.other = await createUser(t.app);
    s.unverified = await createUser(t.app, { emailVerified: false });
    // Grants and a session: users sign in through the authorization endpoint.
    s.grantClient = await createClient(t.app);
    s.sweptClient = await createClient(t.app);
    s.signedIn = await createUser(t.app);
    const [ann, bob] = [await createUser(t.app), await createUser(t.app)];
    const signIn = (user: User, client: TestClient) => obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });
    await signIn(s.signedIn, s.grantClient);
    await signIn(s.signedIn, s.sweptClient);
    await signIn(ann, s.grantClient);
    await signIn(bob, s.sweptClient);
    const grants = await created<{ items: { id: string }[] }>(call('GET', `/admin/clients/${s.grantClient.clientId}/grants`));
    s.grantIds = grants.items.map((g) => g.id);
    s.scopeName = (await created<{ name: string }>(call('POST', '/admin/scopes', { name: 'documents:read', description: 'read documents' }))).name;
    s.resource = (await created<{ identifier: string }>(call('POST', '/admin/resources', { identifier: 'https://api.example.com', name: 'API', scopes: [s.scopeName] }))).identifier;
    s.registrationToken = (await created<{ id: string }>(call('POST', '/admin/registration-tokens', { description: 'for the test' }))).id;
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    await limited?.close();
  });

  /** The document's response for an operation and status, with components.responses resolved. */
  function responseOf(operation: string, status: number): { pointer: string; response: Schema } {
    const [method, path] = operation.split(' ') as [string, string];
    const escaped = path.replace(/~/g, '~0').replace(/\//g, '~1');
    const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    if (!response) throw new Error(`${operation} documents no ${status} response`);
    const ref = response.$ref as string | undefined;
    if (ref) {
      const name = ref.replace('#/components/responses/', '');
      return { pointer: `#/components/responses/${name}`, response: doc.components.responses[name]! };
    }
    return { pointer: `#/paths/${escaped}/${method.toLowerCase()}/responses/${status}`, response };
  }

  /** Validates a live response against the document: status documented, body (or its absence) by the schema. */
  function expectDocumented(operation: string, res: LightMyRequestResponse): void {
    const { pointer, response } = responseOf(operation, res.statusCode);
    const content = response.content as Record<string, unknown> | undefined;
    if (!content) {
      expect(res.body, `${operation} ${res.statusCode} has no body`).toBe('');
      return;
    }
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const validate = ajv.getSchema(`openapi.json${pointer}/content/application~1json/schema`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    const body = res.json() as unknown;
    const valid = validate(body);
    expect(valid, `${operation} ${res.statusCode}: ${JSON.stringify(validate.errors)}\n${res.body}`).toBe(true);
    for (const name of Object.keys((response.headers as object | undefined) ?? {})) {
      if (name === 'WWW-Authenticate' && res.statusCode === 403 && (body as { error?: string }).error !== 'insufficient_scope') continue;
      expect(res.headers[name.toLowerCase()], `${operation} ${res.statusCode} header ${name}`).toBeDefined();
    }
  }

  const nextKid = async () => {
    const keys = async () => (await created<{ items: { kid: string; status: string }[] }>(call('GET', '/admin/keys'))).items;
    let next = (await keys()).find((k) => k.status === 'next');
    if (!next) {
      await call('POST', '/admin/keys/rotate', {});
      next = (await keys()).find((k) => k.status === 'next');
    }
    if (!next) throw new Error('no next key after a rotation');
    return next.kid;
  };
  const activeKid = async () =>
    (await created<{ items: { kid: string; status: string }[] }>(call('GET', '/admin/keys'))).items.find((k) => k.status === 'active')!.kid;
  const freshClient = async () => (await created<{ client_id: string }>(call('POST', '/admin/clients', { client_name: 'to delete', grant_types: ['client_credentials'] }))).client_id;
  const freshUser = async () => (await createUser(t.app)).id;
  const sessionOf = async (user: User) =>
    (await created<{ items: { sid: string }[] }>(call('GET', `/admin/users/${user.id}/sessions`))).items[0]!.sid;
  const grantOf = async (user: User) =>
    (await created<{ items: { id: string; revoked_at: string | null }[] }>(call('GET', `/admin/users/${user.id}/grants`))).items.find((g) => g.revoked_at === null)!.id;
  const missing = randomUUID();
  const enc = encodeURIComponent;

  const CASES: Case[] = [
    [
      'GET /admin/openapi.json',
      [200, () => ({ method: 'GET', url: '/admin/openapi.json' })],
      [
        429,
        async () => {
          await limited.app.inject({ method: 'GET', url: '/admin/openapi.json' });
          return { method: 'GET', url: '/admin/openapi.json', token: null, limited: true };
        },
      ],
    ],
    ['GET /admin/status', [200, () => ({ method: 'GET', url: '/admin/status' })], [401, () => ({ method: 'GET', url: '/admin/status', token: null })]],
    // Clients.
    ['GET /admin/clients', [200, () => ({ method: 'GET', url: '/admin/clients?limit=2' })], [400, () => ({ method: 'GET', url: '/admin/clients?limit=0' })]],
    [
      'POST /admin/clients',
      [201, () => ({ method: 'POST', url: '/admin/clients', body: { client_name: 'new', redirect_uris: ['https://new.example/cb'], contacts: ['ops@example.com'] } })],
      [400, () => ({ method: 'POST', url: '/admin/clients', body: { client_name: '', colour: 'red' } })],
    ],
    [
      'GET /admin/clients/{client_id}',
      [200, (x) => ({ method: 'GET', url: `/admin/clients/${x.client.client_id}` })],
      [404, () => ({ method: 'GET', url: '/admin/clients/no-such-client' })],
    ],
    [
      'PATCH /admin/clients/{client_id}',
      [200, (x) => ({ method: 'PATCH', url: `/admin/clients/${x.client.client_id}`, body: { client_name: 'renamed', logo_uri: 'https://app.example/logo.png' } })],
      [415, (x) => ({ method: 'PATCH', url: `/admin/clients/${x.client.client_id}`, body: 'client_name=renamed', contentType: 'application/x-www-form-urlencoded' })],
    ],
    [
      'DELETE /admin/clients/{client_id}',
      [204, async () => ({ method: 'DELETE', url: `/admin/clients/${await freshClient()}` })],
      [403, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.client.client_id}`, token: x.clientsReader })],
    ],
    [
      'POST /admin/clients/{client_id}/redirect-uris',
      [200, (x) => ({ method: 'POST', url: `/admin/clients/${x.client.client_id}/redirect-uris`, body: { redirect_uri: 'https://app.example/second-callback' } })],
      [404, () => ({ method: 'POST', url: '/admin/clients/no-such-client/redirect-uris', body: { redirect_uri: 'https://app.example/cb' } })],
    ],
    [
      'DELETE /admin/clients/{client_id}/redirect-uris',
      [200, async (x) => {
        await created(call('POST', `/admin/clients/${x.client.client_id}/redirect-uris`, { redirect_uri: 'https://app.example/to-remove' }));
        return { method: 'DELETE', url: `/admin/clients/${x.client.client_id}/redirect-uris?redirect_uri=${encodeURIComponent('https://app.example/to-remove')}` };
      }],
      [404, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.client.client_id}/redirect-uris?redirect_uri=${encodeURIComponent('https://app.example/never-added')}` })],
    ],
    [
      'POST /admin/clients/{client_id}/rotate-secret',
      [200, (x) => ({ method: 'POST', url: `/admin/clients/${x.client.client_id}/rotate-secret` })],
      [404, () => ({ method: 'POST', url: '/admin/clients/no-such-client/rotate-secret' })],
    ],
    [
      'POST /admin/clients/{client_id}/unlock',
      [200, (x) => ({ method: 'POST', url: `/admin/clients/${x.client.client_id}/unlock` })],
      [404, () => ({ method: 'POST', url: '/admin/clients/no-such-client/unlock' })],
    ],
    [
      'GET /admin/audit-events',
      [200, (x) => ({ method: 'GET', url: `/admin/audit-events?event=admin.client.*&subject=${encodeURIComponent(x.client.client_id)}&limit=5` })],
      [403, (x) => ({ method: 'GET', url: '/admin/audit-events', token: x.clientsReader })],
    ],
    [
      'GET /admin/clients/{client_id}/grants',
      [200, (x) => ({ method: 'GET', url: `/admin/clients/${x.grantClient.clientId}/grants?limit=1` })],
      [404, () => ({ method: 'GET', url: '/admin/clients/no-such-client/grants' })],
    ],
    [
      'DELETE /admin/clients/{client_id}/grants/{grantId}',
      [204, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.grantClient.clientId}/grants/${x.grantIds[0]}` })],
      [404, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.grantClient.clientId}/grants/${missing}` })],
    ],
    [
      'DELETE /admin/clients/{client_id}/grants',
      [200, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.sweptClient.clientId}/grants` })],
      [403, (x) => ({ method: 'DELETE', url: `/admin/clients/${x.sweptClient.clientId}/grants`, token: x.clientsReader })],
    ],
    // Users.
    ['GET /admin/users', [200, () => ({ method: 'GET', url: '/admin/users?limit=2' })], [400, () => ({ method: 'GET', url: '/admin/users?cursor=forged' })]],
    [
      'POST /admin/users',
      [201, () => ({ method: 'POST', url: '/admin/users', body: { username: 'described', password: 'a long enough password', address: { country: 'NL' } } })],
      [403, (x) => ({ method: 'POST', url: '/admin/users', body: { username: 'wants-admin', password: 'a long enough password', is_admin: true }, token: x.usersWriter })],
    ],
    [
      'GET /admin/users/{id}',
      [200, (x) => ({ method: 'GET', url: `/admin/users/${enc(x.user.username)}` })],
      [404, () => ({ method: 'GET', url: '/admin/users/nobody-here' })],
    ],
    [
      'PATCH /admin/users/{id}',
      [200, (x) => ({ method: 'PATCH', url: `/admin/users/${x.user.id}`, body: { name: 'Renamed', locale: 'nl-NL' } })],
      [409, (x) => ({ method: 'PATCH', url: `/admin/users/${x.user.id}`, body: { username: x.other.username } })],
    ],
    [
      'DELETE /admin/users/{id}',
      [204, async () => ({ method: 'DELETE', url: `/admin/users/${await freshUser()}` })],
      [404, () => ({ method: 'DELETE', url: `/admin/users/${missing}` })],
    ],
    [
      'POST /admin/users/{id}/password',
      [204, (x) => ({ method: 'POST', url: `/admin/users/${x.user.id}/password`, body: { password: 'another long password' } })],
      [400, (x) => ({ method: 'POST', url: `/admin/users/${x.user.id}/password`, body: { password: 'short' } })],
    ],
    [
      'POST /admin/users/{id}/invite',
      [202, (x) => ({ method: 'POST', url: `/admin/users/${x.other.id}/invite` })],
      [404, () => ({ method: 'POST', url: `/admin/users/${missing}/invite` })],
    ],
    [
      'POST /admin/users/{id}/send-verification',
      [202, (x) => ({ method: 'POST', url: `/admin/users/${x.unverified.id}/send-verification` })],
      [404, () => ({ method: 'POST', url: `/admin/users/${missing}/send-verification` })],
    ],
    [
      'POST /admin/users/{id}/unlock',
      [200, (x) => ({ method: 'POST', url: `/admin/users/${x.user.id}/unlock` })],
      [404, () => ({ method: 'POST', url: `/admin/users/${missing}/unlock` })],
    ],
    [
      'POST /admin/users/{id}/reset-factors',
      [200, (x) => ({ method: 'POST', url: `/admin/users/${x.user.id}/reset-factors` })],
      [404, () => ({ method: 'POST', url: `/admin/users/${missing}/reset-factors` })],
    ],
    [
      'GET /admin/users/{id}/sessions',
      [200, (x) => ({ method: 'GET', url: `/admin/users/${x.signedIn.id}/sessions` })],
      [404, () => ({ method: 'GET', url: `/admin/users/${missing}/sessions` })],
    ],
    [
      'GET /admin/users/{id}/grants',
      [200, (x) => ({ method: 'GET', url: `/admin/users/${x.signedIn.id}/grants` })],
      [400, (x) => ({ method: 'GET', url: `/admin/users/${x.signedIn.id}/grants?limit=abc` })],
    ],
    [
      'DELETE /admin/users/{id}/sessions/{sid}',
      [204, async (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/sessions/${await sessionOf(x.signedIn)}` })],
      [404, (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/sessions/no-such-session` })],
    ],
    [
      'DELETE /admin/users/{id}/sessions',
      [204, (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/sessions` })],
      [404, () => ({ method: 'DELETE', url: `/admin/users/${missing}/sessions` })],
    ],
    [
      'DELETE /admin/users/{id}/grants/{grantId}',
      [204, async (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/grants/${await grantOf(x.signedIn)}` })],
      [404, (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/grants/${missing}` })],
    ],
    [
      'DELETE /admin/users/{id}/grants',
      [204, (x) => ({ method: 'DELETE', url: `/admin/users/${x.signedIn.id}/grants` })],
      [404, () => ({ method: 'DELETE', url: `/admin/users/${missing}/grants` })],
    ],
    // Scopes and resources.
    ['GET /admin/scopes', [200, () => ({ method: 'GET', url: '/admin/scopes' })], [400, () => ({ method: 'GET', url: '/admin/scopes?sort=name' })]],
    [
      'POST /admin/scopes',
      [201, () => ({ method: 'POST', url: '/admin/scopes', body: { name: 'documents:write', is_default: false } })],
      [409, (x) => ({ method: 'POST', url: '/admin/scopes', body: { name: x.scopeName } })],
    ],
    [
      'DELETE /admin/scopes/{name}',
      [204, () => ({ method: 'DELETE', url: '/admin/scopes/documents%3Awrite' })],
      [404, () => ({ method: 'DELETE', url: '/admin/scopes/no-such-scope' })],
    ],
    ['GET /admin/resources', [200, () => ({ method: 'GET', url: '/admin/resources' })], [401, () => ({ method: 'GET', url: '/admin/resources', token: 'not-a-token' })]],
    [
      'POST /admin/resources',
      [201, () => ({ method: 'POST', url: '/admin/resources', body: { identifier: 'https://reports.example.com/', name: 'Reports', access_token_ttl_seconds: 300 } })],
      [400, () => ({ method: 'POST', url: '/admin/resources', body: { identifier: 'https://api.example.com/#fragment', name: 'Bad' } })],
    ],
    [
      'GET /admin/resources/{identifier}',
      [200, (x) => ({ method: 'GET', url: `/admin/resources/${enc(x.resource)}` })],
      [404, () => ({ method: 'GET', url: `/admin/resources/${enc('https://unknown.example.com')}` })],
    ],
    [
      'PATCH /admin/resources/{identifier}',
      [200, (x) => ({ method: 'PATCH', url: `/admin/resources/${enc(x.resource)}`, body: { name: 'The API', signing_alg: 'RS256' } })],
      [404, () => ({ method: 'PATCH', url: `/admin/resources/${enc('https://unknown.example.com')}`, body: { name: 'x' } })],
    ],
    [
      'DELETE /admin/resources/{identifier}',
      [204, () => ({ method: 'DELETE', url: `/admin/resources/${enc('https://reports.example.com/')}` })],
      [404, () => ({ method: 'DELETE', url: `/admin/resources/${enc('https://unknown.example.com')}` })],
    ],
    // Maintenance, signing keys, registration tokens.
    [
      'POST /admin/maintenance/cleanup',
      [200, () => ({ method: 'POST', url: '/admin/maintenance/cleanup' })],
      [403, (x) => ({ method: 'POST', url: '/admin/maintenance/cleanup', token: x.clientsReader })],
    ],
    ['GET /admin/keys', [200, () => ({ method: 'GET', url: '/admin/keys' })], [403, (x) => ({ method: 'GET', url: '/admin/keys', token: x.clientsReader })]],
    [
      'POST /admin/keys/rotate',
      [200, () => ({ method: 'POST', url: '/admin/keys/rotate', body: {} })],
      [400, () => ({ method: 'POST', url: '/admin/keys/rotate', body: '{"emergency":', contentType: 'application/json' })],
    ],
    [
      'POST /admin/keys/{kid}/retire',
      [200, async () => ({ method: 'POST', url: `/admin/keys/${await nextKid()}/retire` })],
      [409, async () => ({ method: 'POST', url: `/admin/keys/${await activeKid()}/retire` })],
    ],
    [
      'POST /admin/keys/{kid}/revoke',
      [200, async () => ({ method: 'POST', url: `/admin/keys/${await nextKid()}/revoke` })],
      [404, () => ({ method: 'POST', url: '/admin/keys/no-such-key/revoke' })],
    ],
    ['GET /admin/registration-tokens', [200, () => ({ method: 'GET', url: '/admin/registration-tokens' })], [400, () => ({ method: 'GET', url: '/admin/registration-tokens?limit=201' })]],
    [
      'POST /admin/registration-tokens',
      [201, () => ({ method: 'POST', url: '/admin/registration-tokens', body: { expires_in: '12h', max_uses: 5 } })],
      [400, () => ({ method: 'POST', url: '/admin/registration-tokens', body: { expires_in: 'soon' } })],
    ],
    [
      'POST /admin/registration-tokens/{id}/revoke',
      [200, (x) => ({ method: 'POST', url: `/admin/registration-tokens/${x.registrationToken}/revoke` })],
      [404, () => ({ method: 'POST', url: `/admin/registration-tokens/${missing}/revoke` })],
    ],
  ];

  it('is an OpenAPI 3.1 document of the admin API, for any admin token and never cached', () => {
    expect(documentResponse.statusCode).toBe(200);
    expect(documentResponse.headers['cache-control']).toBe('no-store');
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Authly admin API', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(doc.servers).toEqual([{ url: t.config.issuer, description: expect.any(String) }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.oauth2).toMatchObject({ type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${t.config.issuer}/oauth/token` } } });
    // Every error shape, written once.
    expect(Object.keys(doc.components.responses).sort()).toEqual(
      ['conflict', 'forbidden', 'invalid_token', 'not_found', 'payload_too_large', 'rate_limited', 'temporarily_unavailable', 'unsupported_media_type', 'validation_failed'].sort(),
    );
    expect(Object.keys((doc.components.responses.rate_limited!.headers as object) ?? {})).toEqual(['Retry-After']);
    expect(Object.keys((doc.components.responses.temporarily_unavailable!.headers as object) ?? {})).toEqual(['Retry-After']);
    expect(Object.keys((doc.components.responses.invalid_token!.headers as object) ?? {})).toEqual(['WWW-Authenticate']);
    // Every reference points at something in the document.
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) (key === '$ref' && typeof value === 'string' ? refs.push(value) : walk(value));
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    // Every schema in it is a JSON Schema 2020-12 (OpenAPI 3.1's dialect).
    const schemas: unknown[] = [...Object.values(doc.components.schemas)];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) (key === 'schema' ? schemas.push(value) : collect(value));
      }
    };
    collect(doc.paths);
    collect(doc.components.responses);
    expect(schemas.length).toBeGreaterThan(100);
    for (const schema of schemas) expect(ajv.validateSchema(schema as object), JSON.stringify(ajv.errors)).toBe(true);
    for (const ref of new Set(refs)) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect(target, ref).toBeDefined();
    }
    // Only the admin API: nothing else Authly serves leaks in.
    expect(Object.keys(doc.paths).every((path) => path.startsWith('/admin/'))).toBe(true);
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    // Each operation names its scope (security) and the errors every token-checked operation can answer.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.security, `${method} ${path}`).toHaveLength(2);
        for (const status of ['400', '401', '403', '429', '503']) expect(op.responses[status], `${method} ${path} ${status}`).toBeDefined();
        if (op.requestBody) for (const status of ['413', '415']) expect(op.responses[status], `${method} ${path} ${status}`).toBeDefined();
      }
    }
  });

  it('describes every route Fastify serves under /admin (and nothing it does not)', () => {
    const served = servedAdminRoutes(t.app.printRoutes({ commonPrefix: false }));
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(served.length).toBeGreaterThan(40);
    expect(documented).toEqual(served);
  });

  it('has no public operation: every one, this document included, answers 401 invalid_token without a token', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const url = path.replace(/\{\w+\}/g, 'x');
        const res = await t.app.inject({ method: method.toUpperCase() as Req['method'], url });
        expect([`${method} ${path}`, res.statusCode, (res.json() as { error: string }).error]).toEqual([`${method} ${path}`, 401, 'invalid_token']);
      }
    }
  });

  it('has a success and an error case below for every documented operation', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(CASES.map(([operation]) => operation).sort()).toEqual(documented.sort());
  });

  it('closes its response objects: a field the document does not name fails validation', async () => {
    const res = await call('GET', `/admin/clients/${s.client.client_id}`);
    const validate = ajv.getSchema(`openapi.json${responseOf('GET /admin/clients/{client_id}', 200).pointer}/content/application~1json/schema`)!;
    expect(validate(res.json())).toBe(true);
    expect(validate({ ...(res.json() as object), client_secret_hash: 'x' })).toBe(false);
    const { client_name: _, ...withoutName } = res.json() as Record<string, unknown>;
    expect(validate(withoutName)).toBe(false);
  });

  /** The success request's JSON body is one the document accepts (its input schemas are not stricter than the handler). */
  function expectAcceptedBody(operation: string, req: Req): void {
    if (req.body === undefined || typeof req.body === 'string') return;
    const [method, path] = operation.split(' ') as [string, string];
    const escaped = path.replace(/~/g, '~0').replace(/\//g, '~1');
    const validate = ajv.getSchema(`openapi.json#/paths/${escaped}/${method.toLowerCase()}/requestBody/content/application~1json/schema`);
    if (!validate) throw new Error(`${operation} documents no JSON request body`);
    expect(validate(req.body), `${operation} request: ${JSON.stringify(validate.errors)}`).toBe(true);
  }

  it.each(CASES)('%s: live responses match the document', async (operation, [okStatus, ok], [errorStatus, error]) => {
    const request = await ok(s);
    expectAcceptedBody(operation, request);
    const success = await send(request);
    expect(success.statusCode, success.body).toBe(okStatus);
    expectDocumented(operation, success);
    const failure = await send(await error(s));
    expect(failure.statusCode, failure.body).toBe(errorStatus);
    expectDocumented(operation, failure);
  });
});
