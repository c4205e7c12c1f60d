import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s256 } from '../../../src/lib/pkce.js';
import { exchangeLiveAuthorizationCode } from '../../../src/repositories/authorization-codes-repository.js';
import { rotateLiveRefreshToken } from '../../../src/repositories/tokens-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { hashOpaqueToken, newOpaqueToken } from '../../../src/tokens/opaque-token.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { obtainCode, obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

const JKT_A = 'A'.repeat(43);
const JKT_B = 'B'.repeat(43);

/**
 * The grants' one-statement fast paths carry the DPoP binding as values (RFC 9449): a bound code or
 * refresh token is used only with its key, and otherwise nothing is used up or written (the transactional
 * path then reports invalid_grant); the rows written carry the binding. Bearer requests pass null.
 */
describe('DPoP in the one-statement grants', () => {
  let t: TestApp;
  let client: TestClient;
  let user: User;
  let browser: InjectBrowser;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    user = await createUser(t.app);
    browser = new InjectBrowser(t.app);
  });
  afterAll(() => t.close());

  const column = async (sql: string, value: string) => (await t.testDb.db.query<{ v: string | null }>(sql, [value])).rows[0]?.v;
  const times = () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    return { now, soon: new Date(now.getTime() + 60_000), later: new Date(now.getTime() + 3_600_000) };
  };

  it('a code bound with dpop_jkt: another key or none uses nothing up; its key exchanges it and binds both tokens', async () => {
    const code = await obtainCode(browser, client, user.username, { scope: 'openid offline_access', dpop_jkt: JKT_A });
    expect(await column('SELECT dpop_jkt AS v FROM authorization_codes WHERE code_hash = $1', hashOpaqueToken(code.code))).toBe(JKT_A);
    const exchange = (dpopJkt: string | null) => {
      const { now, soon, later } = times();
      const refresh = newOpaqueToken();
      const jti = randomUUID();
      const run = exchangeLiveAuthorizationCode(t.testDb.db, {
        codeHash: hashOpaqueToken(code.code),
        clientId: client.clientId,
        redirectUri: REDIRECT_URI,
        challenge: s256(code.verifier),
        access: { jti, issuedAt: now, expiresAt: soon },
        refresh: { hash: refresh.hash, expiresAt: later, dpopJkt },
        dpopJkt,
      });
      return { run, jti, refreshHash: refresh.hash };
    };
    expect(await exchange(JKT_B).run).toBeUndefined();
    expect(await exchange(null).run).toBeUndefined();
    expect(await column('SELECT consumed_at::text AS v FROM authorization_codes WHERE code_hash = $1', hashOpaqueToken(code.code))).toBeNull();
    const ok = exchange(JKT_A);
    expect(await ok.run).toMatchObject({ userId: user.id, refreshTokenIssued: true });
    expect(await column('SELECT dpop_jkt AS v FROM access_tokens WHERE jti = $1', ok.jti)).toBe(JKT_A);
    expect(await column('SELECT dpop_jkt AS v FROM refresh_tokens WHERE token_hash = $1', ok.refreshHash)).toBe(JKT_A);
  });

  it('a bound refresh token rotates only with its key; the successor keeps the binding, the access token takes the proof key', async () => {
    const tokenHash = hashOpaqueToken((await obtainTokens(t.app, browser, client, user.username, { scope: 'openid offline_access' })).refresh_token!);
    await t.testDb.db.query('UPDATE refresh_tokens SET dpop_jkt = $2 WHERE token_hash = $1', [tokenHash, JKT_A]);
    const rotate = (dpopJkt: string | null, bindSuccessorTo: string | null = null) => {
      const { now, soon, later } = times();
      const successor = newOpaqueToken();
      const jti = randomUUID();
      const run = rotateLiveRefreshToken(t.testDb.db, {
        tokenHash,
        clientId: client.clientId,
        requestedScopes: null,
        access: { jti, issuedAt: now, expiresAt: soon },
        successor: { hash: successor.hash, ciphertext: null, expiresAt: later },
        graceSeconds: 0,
        dpopJkt,
        bindSuccessorTo,
      });
      return { run, jti, successorHash: successor.hash };
    };
    expect(await rotate(JKT_B).run).toBeUndefined();
    expect(await rotate(null).run).toBeUndefined();
    expect(await column('SELECT rotated_at::text AS v FROM refresh_tokens WHERE token_hash = $1', tokenHash)).toBeNull();
    const ok = rotate(JKT_A, JKT_B);
    expect(await ok.run).toMatchObject({ userId: user.id });
    expect(await column('SELECT dpop_jkt AS v FROM access_tokens WHERE jti = $1', ok.jti)).toBe(JKT_A);
    // The successor keeps the old binding (A), not the one offered for unbound tokens (B).
    expect(await column('SELECT dpop_jkt AS v FROM refresh_tokens WHERE token_hash = $1', ok.successorHash)).toBe(JKT_A);
  });

  it('an unbound refresh token used with a proof by a public client: the successor is bound from then on', async () => {
    const tokenHash = hashOpaqueToken((await obtainTokens(t.app, browser, client, user.username, { scope: 'openid offline_access' })).refresh_token!);
    const { now, soon, later } = times();
    const successor = newOpaqueToken();
    const rotated = await rotateLiveRefreshToken(t.testDb.db, {
      tokenHash,
      clientId: client.clientId,
      requestedScopes: null,
      access: { jti: randomUUID(), issuedAt: now, expiresAt: soon },
      successor: { hash: successor.hash, ciphertext: null, expiresAt: later },
      graceSeconds: 0,
      dpopJkt: JKT_B,
      bindSuccessorTo: JKT_B,
    });
    expect(rotated).toBeDefined();
    expect(await column('SELECT dpop_jkt AS v FROM refresh_tokens WHERE token_hash = $1', successor.hash)).toBe(JKT_B);
  });
});
