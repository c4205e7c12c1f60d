import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';
import { createClient, createUser, type TestClient } from '../../helpers/fixtures.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { obtainTokens, tokenRequest, type Tokens } from '../../helpers/oauth-flow.js';
import { hashOpaqueToken } from '../../../src/tokens/opaque-token.js';
import type { User } from '../../../src/repositories/users-repository.js';

/**
 * Many parallel refreshes with one refresh token (RFC 9700 section 4.14.2 plus the reuse grace window).
 * This proves the row lock only on PostgreSQL (TEST_DATABASE_URL): there each request runs on its own
 * pooled connection and the transactions really contend for the row. PGlite has one connection and
 * serializes transactions, so there the same assertions only check the sequential logic.
 */
const N = 20;

interface Burst {
  responses: LightMyRequestResponse[];
  ms: number;
}

async function setUp(env: Record<string, string>) {
  const t = await createTestApp(env);
  const client = await createClient(t.app);
  const user = await createUser(t.app);
  return { t, client, user };
}

async function burst(t: TestApp, client: TestClient, refreshToken: string): Promise<Burst> {
  const started = performance.now();
  const responses = await Promise.all(
    Array.from({ length: N }, () => tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: refreshToken })),
  );
  return { responses, ms: Math.round(performance.now() - started) };
}

async function grantOf(t: TestApp, refreshToken: string): Promise<string> {
  const { rows } = await t.app.ctx.db.query<{ grant_id: string }>('SELECT grant_id FROM refresh_tokens WHERE token_hash = $1', [
    hashOpaqueToken(refreshToken),
  ]);
  return rows[0]!.grant_id;
}

async function liveRefreshTokens(t: TestApp, grantId: string): Promise<number> {
  const { rows } = await t.app.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM refresh_tokens
     WHERE grant_id = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
    [grantId],
  );
  return rows[0]!.n;
}

function report(label: string, t: TestApp, b: Burst, distinct: number): void {
  const ok = b.responses.filter((r) => r.statusCode === 200).length;
  console.log(
    `[refresh-concurrency] ${t.app.ctx.db.kind} ${label}: ${N} requests, ${ok} successes, ` +
      `${b.responses.length - ok} invalid_grant, ${distinct} distinct refresh_token(s), ${b.ms} ms`,
  );
}

describe(`${N} parallel refreshes with one token, grace window on (default 5 s)`, () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  beforeAll(async () => ({ t, client, user } = await setUp({})));
  afterAll(() => t.close());

  it('no 5xx, every response succeeds with the same refresh token, exactly one live successor', async () => {
    const first = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });
    const grantId = await grantOf(t, first.refresh_token!);
    const b = await burst(t, client, first.refresh_token!);

    const statuses = b.responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses).toEqual(Array(N).fill(200));
    const bodies = b.responses.map((r) => r.json() as Tokens);
    const distinct = new Set(bodies.map((body) => body.refresh_token));
    report('grace on', t, b, distinct.size);
    expect(distinct.size).toBe(1);
    expect(new Set(bodies.map((body) => body.access_token)).size).toBe(N);
    expect(await liveRefreshTokens(t, grantId)).toBe(1);

    // The one successor works, and rotates once more as usual.
    const successor = [...distinct][0]!;
    expect(successor).not.toBe(first.refresh_token);
    const next = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: successor });
    expect(next.statusCode).toBe(200);
    expect(await liveRefreshTokens(t, grantId)).toBe(1);
  });
});

describe(`${N} parallel refreshes with one token, REFRESH_TOKEN_REUSE_GRACE_SECONDS=0`, () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  beforeAll(async () => ({ t, client, user } = await setUp({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' })));
  afterAll(() => t.close());

  it('no 5xx, exactly one success, the rest are replays, and the family ends revoked', async () => {
    const first = await obtainTokens(t.app, new InjectBrowser(t.app), client, user.username, { scope: 'openid offline_access' });
    const grantId = await grantOf(t, first.refresh_token!);
    const b = await burst(t, client, first.refresh_token!);

    const statuses = b.responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    const failures = b.responses.filter((r) => r.statusCode !== 200);
    expect(failures).toHaveLength(N - 1);
    // The first replay revokes the family (the rotated token with it); every later one finds it revoked.
    expect(failures.map((f) => f.statusCode)).toEqual(Array(N - 1).fill(400));
    const descriptions = failures.map((f) => (f.json() as { error: string; error_description: string }).error_description);
    expect(failures.every((f) => f.json().error === 'invalid_grant')).toBe(true);
    expect(descriptions.filter((d) => d === 'refresh token was already used; its token family has been revoked')).toHaveLength(1);
    expect(descriptions.filter((d) => d === 'refresh token has been revoked')).toHaveLength(N - 2);
    const winner = b.responses.find((r) => r.statusCode === 200)!.json() as Tokens;
    report('grace 0', t, b, 1);

    expect(await liveRefreshTokens(t, grantId)).toBe(0);
    const after = await tokenRequest(t.app, client, { grant_type: 'refresh_token', refresh_token: winner.refresh_token! });
    expect(after.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token has been revoked' });
  });
});
