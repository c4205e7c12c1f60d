import { decodeProtectedHeader } from 'jose';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainKeys } from '../../../src/services/key-rotation.js';
import { rotationPolicy } from '../../../src/tokens/key-lifecycle.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser } from '../../helpers/fixtures.js';
import { obtainTokens, userinfo, type Tokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { introspect } from '../../helpers/token-management.js';
import { ADMIN_ENV, adminCall, adminToken, tokenFor } from '../admin/admin-helpers.js';

interface WireKey {
  kid: string;
  alg: string;
  status: string;
  signs_from: string | null;
  unpublish_after: string | null;
}

async function jwksKids(app: FastifyInstance): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  expect(res.statusCode).toBe(200);
  return (res.json() as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid!;
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

async function signIn(t: TestApp): Promise<{ tokens: Tokens; client: Awaited<ReturnType<typeof createClient>> }> {
  const client = await createClient(t.app);
  const user = await createUser(t.app);
  return { tokens: await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid' }), client };
}

describe('signing-key rotation with pre-publication (admin API)', () => {
  let t: TestApp;
  let admin: ReturnType<typeof adminCall>;
  let oldKid: string;
  let newKid: string;
  let before: Awaited<ReturnType<typeof signIn>>;
  const policy = () => rotationPolicy(t.config);

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    admin = adminCall(t.app, await adminToken(t.app));
    before = await signIn(t);
    oldKid = kidOf(before.tokens.access_token);
  });
  afterAll(() => t?.close());

  it('needs authly:admin', async () => {
    const reader = await createClient(t.app, { scope: 'admin:clients:read', grantTypes: ['client_credentials'], responseTypes: [] });
    const narrow = await tokenFor(t.app, reader.clientId, reader.clientSecret!, 'admin:clients:read');
    const res = await adminCall(t.app, narrow)('POST', '/admin/keys/rotate', {});
    expect(res.statusCode).toBe(403);
    expect((await adminCall(t.app, narrow)('GET', '/admin/keys')).statusCode).toBe(403);
  });

  it('rotate publishes the next key in the JWKS before it signs anything', async () => {
    const res = await admin('POST', '/admin/keys/rotate', {});
    expect(res.statusCode).toBe(200);
    const { changes } = res.json() as { changes: { kind: string; kid: string; alg: string }[] };
    expect(changes).toEqual([{ kind: 'create', kid: expect.any(String), alg: 'RS256' }]);
    newKid = changes[0]!.kid;
    expect(await jwksKids(t.app)).toEqual([oldKid, newKid].sort());
    // Tokens are still signed by the old key.
    const { tokens } = await signIn(t);
    expect(kidOf(tokens.access_token)).toBe(oldKid);
    expect(kidOf(tokens.id_token!)).toBe(oldKid);
    const list = (await admin('GET', '/admin/keys')).json() as { items: WireKey[] };
    const next = list.items.find((k) => k.kid === newKid)!;
    expect(next.status).toBe('next');
    // It may sign only after the JWKS cache lifetime (max-age=300, twice, plus the reload interval).
    expect(Date.parse(next.signs_from!) - Date.now()).toBeGreaterThan(600_000);
    expect((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).headers['cache-control']).toBe('public, max-age=300');
    // A second rotate does not stack another key.
    expect((await admin('POST', '/admin/keys/rotate', {})).json()).toEqual({ changes: [], revoked_access_tokens: 0 });
  });

  it('after the lead time the next key signs; tokens of the retiring key still verify', async () => {
    const { changes } = await maintainKeys(t.app.ctx, later(policy().publishLeadSeconds + 1));
    expect(changes.map((c) => [c.kind, c.kid])).toEqual([
      ['activate', newKid],
      ['deactivate', oldKid],
    ]);
    const { tokens } = await signIn(t);
    expect(kidOf(tokens.access_token)).toBe(newKid);
    expect(kidOf(tokens.id_token!)).toBe(newKid);
    expect(await jwksKids(t.app)).toEqual([oldKid, newKid].sort());
    expect((await userinfo(t.app, before.tokens.access_token)).statusCode).toBe(200);
    const res = await introspect(t.app, before.client, { token: before.tokens.access_token });
    expect(res.json()).toMatchObject({ active: true });
    // Retiring it by hand is refused while its tokens may be live.
    const early = await admin('POST', `/admin/keys/${oldKid}/retire`);
    expect(early.statusCode).toBe(409);
    expect((await admin('POST', `/admin/keys/${newKid}/retire`)).statusCode).toBe(409);
    expect((await admin('POST', '/admin/keys/nope/retire')).statusCode).toBe(404);
  });

  it('once the last token it signed has expired, the retiring key leaves the JWKS and verifies nothing', async () => {
    const { changes } = await maintainKeys(t.app.ctx, later(policy().publishLeadSeconds + policy().retireAfterSeconds + 2));
    expect(changes.map((c) => [c.kind, c.kid])).toEqual([['retire', oldKid]]);
    expect(await jwksKids(t.app)).toEqual([newKid]);
    // The old access token has not expired yet, but nothing it was signed with is published any more.
    expect((await userinfo(t.app, before.tokens.access_token)).statusCode).toBe(401);
    // So does the admin token obtained before the rotation: a fresh one lists the keys.
    expect((await admin('GET', '/admin/keys')).statusCode).toBe(401);
    const fresh = adminCall(t.app, await adminToken(t.app));
    const list = (await fresh('GET', '/admin/keys')).json() as { items: WireKey[] };
    expect(list.items.find((k) => k.kid === oldKid)?.status).toBe('retired');
  });
});

describe('emergency rotation of a compromised key', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
  });
  afterAll(() => t?.close());

  it('keys revoke: the next key signs at once, the key leaves the JWKS, its access tokens are revoked', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const victim = await signIn(t);
    const compromised = kidOf(victim.tokens.access_token);
    const rotate = await admin('POST', '/admin/keys/rotate', {});
    const nextKid = (rotate.json() as { changes: { kid: string }[] }).changes[0]!.kid;

    const res = await admin('POST', `/admin/keys/${compromised}/revoke`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { changes: { kind: string; kid: string }[]; revoked_access_tokens: number };
    expect(body.changes.map((c) => [c.kind, c.kid])).toEqual([
      ['revoke', compromised],
      ['activate', nextKid],
    ]);
    // The victim's token and the admin token itself were signed by it.
    expect(body.revoked_access_tokens).toBeGreaterThanOrEqual(2);
    expect(await jwksKids(t.app)).toEqual([nextKid]);
    expect((await userinfo(t.app, victim.tokens.access_token)).statusCode).toBe(401);
    expect((await introspect(t.app, victim.client, { token: victim.tokens.access_token })).json()).toEqual({ active: false });
    // The admin token was signed by the revoked key too.
    expect((await admin('GET', '/admin/keys')).statusCode).toBe(401);
    // New tokens are signed by the next key without waiting for the lead time; the refresh token still works.
    const fresh = await signIn(t);
    expect(kidOf(fresh.tokens.access_token)).toBe(nextKid);
    const again = adminCall(t.app, await adminToken(t.app));
    expect((await again('POST', `/admin/keys/${compromised}/revoke`)).statusCode).toBe(409);
  });

  it('keys rotate --emergency: revokes the signing key and creates a new active one when none is waiting', async () => {
    const admin = adminCall(t.app, await adminToken(t.app));
    const victim = await signIn(t);
    const compromised = kidOf(victim.tokens.access_token);
    const res = await admin('POST', '/admin/keys/rotate', { emergency: true });
    expect(res.statusCode).toBe(200);
    const { changes } = res.json() as { changes: { kind: string; kid: string }[] };
    expect(changes.map((c) => c.kind)).toEqual(['revoke', 'create']);
    expect(changes[0]!.kid).toBe(compromised);
    const created = changes[1]!.kid;
    expect(await jwksKids(t.app)).toEqual([created]);
    expect(kidOf((await signIn(t)).tokens.access_token)).toBe(created);
    expect((await userinfo(t.app, victim.tokens.access_token)).statusCode).toBe(401);
    // The admin token was signed by the revoked key; a fresh one works, and input is validated.
    expect((await admin('GET', '/admin/keys')).statusCode).toBe(401);
    const again = adminCall(t.app, await adminToken(t.app));
    expect((await again('POST', '/admin/keys/rotate', { emergency: 'yes' })).statusCode).toBe(400);
  });
});
