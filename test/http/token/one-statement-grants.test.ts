import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s256 } from '../../../src/lib/pkce.js';
import { exchangeLiveAuthorizationCode } from '../../../src/repositories/authorization-codes-repository.js';
import { findRefreshToken, rotateLiveRefreshToken } from '../../../src/repositories/tokens-repository.js';
import type { User } from '../../../src/repositories/users-repository.js';
import { hashOpaqueToken, newOpaqueToken } from '../../../src/tokens/opaque-token.js';
import { InjectBrowser } from '../../helpers/browser.js';
import { createClient, createUser, REDIRECT_URI, type TestClient } from '../../helpers/fixtures.js';
import { obtainCode, obtainTokens } from '../../helpers/oauth-flow.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

/** The grants' one-statement fast paths, on the real database (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
describe('grants in one statement', () => {
  let t: TestApp;
  let client: TestClient;
  let other: TestClient;
  let user: User;
  let browser: InjectBrowser;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t.app);
    other = await createClient(t.app);
    user = await createUser(t.app);
    browser = new InjectBrowser(t.app);
  });
  afterAll(() => t.close());

  /**
   * The common code exchange in one statement (exchangeLiveAuthorizationCode) on the real database: it uses
   * a code up and writes tokens only when every check holds, and otherwise uses nothing up and writes
   * nothing, leaving the decision (and the error) to the path that consumes and reports.
   */
  describe('code exchange (exchangeLiveAuthorizationCode)', () => {
    const exchange = (code: string, verifier: string, overrides: { clientId?: string; redirectUri?: string; refresh?: boolean } = {}) => {
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const refresh = newOpaqueToken();
      const jti = randomUUID();
      const run = exchangeLiveAuthorizationCode(t.testDb.db, {
        codeHash: hashOpaqueToken(code),
        clientId: overrides.clientId ?? client.clientId,
        redirectUri: overrides.redirectUri ?? REDIRECT_URI,
        challenge: s256(verifier),
        access: { jti, issuedAt: now, expiresAt: new Date(now.getTime() + 60_000) },
        refresh: overrides.refresh === false ? null : { hash: refresh.hash, expiresAt: new Date(now.getTime() + 3_600_000) },
      });
      return { run, jti, refreshHash: refresh.hash };
    };
    const count = async (sql: string, value: string) => Number((await t.testDb.db.query<{ n: string }>(sql, [value])).rows[0]!.n);
    const accessRows = (jti: string) => count('SELECT count(*) AS n FROM access_tokens WHERE jti = $1', jti);
    const refreshRows = (hash: string) => count('SELECT count(*) AS n FROM refresh_tokens WHERE token_hash = $1', hash);
    const consumed = (code: string) => count('SELECT count(*) AS n FROM authorization_codes WHERE code_hash = $1 AND consumed_at IS NOT NULL', hashOpaqueToken(code));

    it('uses a valid code up once and writes its tokens; the refresh token only with offline_access and a client that may refresh', async () => {
      const withOffline = await obtainCode(browser, client, user.username, { scope: 'openid email offline_access', nonce: 'n-1' });
      const first = exchange(withOffline.code, withOffline.verifier);
      expect(await first.run).toMatchObject({ userId: user.id, scope: 'openid email offline_access', nonce: 'n-1', refreshTokenIssued: true });
      expect([await accessRows(first.jti), await refreshRows(first.refreshHash), await consumed(withOffline.code)]).toEqual([1, 1, 1]);
      const again = exchange(withOffline.code, withOffline.verifier);
      expect(await again.run).toBeUndefined();
      expect([await accessRows(again.jti), await refreshRows(again.refreshHash)]).toEqual([0, 0]);

      const noOffline = await obtainCode(browser, client, user.username, { scope: 'openid email' });
      const plain = exchange(noOffline.code, noOffline.verifier);
      expect(await plain.run).toMatchObject({ refreshTokenIssued: false });
      expect([await accessRows(plain.jti), await refreshRows(plain.refreshHash)]).toEqual([1, 0]);

      const noRefreshGrant = await obtainCode(browser, client, user.username, { scope: 'openid offline_access' });
      const denied = exchange(noRefreshGrant.code, noRefreshGrant.verifier, { refresh: false });
      expect(await denied.run).toMatchObject({ refreshTokenIssued: false });
      expect(await accessRows(denied.jti)).toBe(1);
    });

    it('uses nothing up for another client, another redirect_uri, a wrong verifier, an expired code, a revoked grant or an inactive user', async () => {
      const cases: [string, (code: string) => Promise<unknown>, { clientId?: string; redirectUri?: string; verifier?: string }][] = [
        ['another client', async () => {}, { clientId: other.clientId }],
        ['another redirect_uri', async () => {}, { redirectUri: `${REDIRECT_URI}/other` }],
        ['a wrong verifier', async () => {}, { verifier: 'x'.repeat(43) }],
        ['an expired code', (code) => t.testDb.db.query("UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1", [hashOpaqueToken(code)]), {}],
        ['a revoked grant', (code) => t.testDb.db.query('UPDATE grants SET revoked_at = now() WHERE id = (SELECT grant_id FROM authorization_codes WHERE code_hash = $1)', [hashOpaqueToken(code)]), {}],
        ['an inactive user', () => t.testDb.db.query('UPDATE users SET is_active = false WHERE id = $1', [user.id]), {}],
      ];
      try {
        for (const [name, prepare, overrides] of cases) {
          const issued = await obtainCode(browser, client, user.username, { scope: 'openid offline_access' });
          await prepare(issued.code);
          const { run, jti, refreshHash } = exchange(issued.code, overrides.verifier ?? issued.verifier, overrides);
          expect(await run, name).toBeUndefined();
          expect([await accessRows(jti), await refreshRows(refreshHash), await consumed(issued.code)], name).toEqual([0, 0, 0]);
        }
      } finally {
        await t.testDb.db.query('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
      }
    });

    it('uses a code up once when it is exchanged twice at the same time', async () => {
      const issued = await obtainCode(browser, client, user.username, { scope: 'openid' });
      const results = await Promise.all([exchange(issued.code, issued.verifier).run, exchange(issued.code, issued.verifier).run]);
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
  });

  /**
   * The common refresh in one statement (rotateLiveRefreshToken) on the real database: it rotates and
   * writes only a live token used by its own client within its scope, and otherwise writes nothing, leaving
   * the decision (and the error) to the transactional path.
   */
  describe('refresh rotation (rotateLiveRefreshToken)', () => {
    const liveToken = async () =>
      hashOpaqueToken((await obtainTokens(t.app, browser, client, user.username, { scope: 'openid email offline_access' })).refresh_token!);

    const rotate = (tokenHash: string, overrides: { clientId?: string; requestedScopes?: string[] | null } = {}) => {
      const successor = newOpaqueToken();
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const jti = randomUUID();
      const run = rotateLiveRefreshToken(t.testDb.db, {
        tokenHash,
        clientId: overrides.clientId ?? client.clientId,
        requestedScopes: overrides.requestedScopes === undefined ? null : overrides.requestedScopes,
        access: { jti, issuedAt: now, expiresAt: new Date(now.getTime() + 60_000) },
        successor: { hash: successor.hash, ciphertext: 'sealed', expiresAt: new Date(now.getTime() + 3_600_000) },
        graceSeconds: 10,
      });
      return { run, successor, jti };
    };
    const accessRow = async (jti: string) =>
      (await t.testDb.db.query<{ scope: string; user_id: string }>('SELECT scope, user_id FROM access_tokens WHERE jti = $1', [jti])).rows[0];

    it('rotates a live token: the successor keeps its scope, the access token gets the requested one', async () => {
      const tokenHash = await liveToken();
      const { run, successor, jti } = rotate(tokenHash, { requestedScopes: ['email'] });
      const rotated = await run;
      expect(rotated).toMatchObject({ userId: user.id, scope: 'openid email offline_access', sid: expect.any(String) });
      expect(rotated!.authTime).toBeInstanceOf(Date);
      expect(await accessRow(jti)).toEqual({ scope: 'email', user_id: user.id });
      expect(await findRefreshToken(t.testDb.db, successor.hash)).toMatchObject({ grantId: rotated!.grantId, scope: 'openid email offline_access', rotatedAt: null });
      const old = (await t.testDb.db.query<{ successor_hash: string; successor_ciphertext: string; rotated: boolean }>(
        'SELECT successor_hash, successor_ciphertext, rotated_at IS NOT NULL AS rotated FROM refresh_tokens WHERE token_hash = $1',
        [tokenHash],
      )).rows[0];
      expect(old).toEqual({ successor_hash: successor.hash, successor_ciphertext: 'sealed', rotated: true });

      // Used again: already rotated, so nothing is written.
      const again = rotate(tokenHash);
      expect(await again.run).toBeUndefined();
      expect(await accessRow(again.jti)).toBeUndefined();
      expect(await findRefreshToken(t.testDb.db, again.successor.hash)).toBeUndefined();
    });

    it('writes nothing for another client, a wider scope, a revoked grant, an expired or revoked token, or an inactive user', async () => {
      const cases: [string, (hash: string) => Promise<unknown>, { clientId?: string; requestedScopes?: string[] }][] = [
        ['another client', async () => {}, { clientId: other.clientId }],
        ['a wider scope', async () => {}, { requestedScopes: ['openid', 'profile'] }],
        ['a revoked grant', (hash) => t.testDb.db.query('UPDATE grants SET revoked_at = now() WHERE id = (SELECT grant_id FROM refresh_tokens WHERE token_hash = $1)', [hash]), {}],
        ['an expired token', (hash) => t.testDb.db.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [hash]), {}],
        ['a revoked token', (hash) => t.testDb.db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = $1', [hash]), {}],
      ];
      for (const [name, prepare, overrides] of cases) {
        const tokenHash = await liveToken();
        await prepare(tokenHash);
        const { run, successor, jti } = rotate(tokenHash, overrides);
        expect(await run, name).toBeUndefined();
        expect(await accessRow(jti), name).toBeUndefined();
        expect(await findRefreshToken(t.testDb.db, successor.hash), name).toBeUndefined();
        expect((await findRefreshToken(t.testDb.db, tokenHash))!.rotatedAt, name).toBeNull();
      }

      const tokenHash = await liveToken();
      await t.testDb.db.query('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      try {
        expect(await rotate(tokenHash).run).toBeUndefined();
        expect((await findRefreshToken(t.testDb.db, tokenHash))!.rotatedAt).toBeNull();
      } finally {
        await t.testDb.db.query('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
      }
    });

    it('rotates a token once when it is used twice at the same time', async () => {
      const tokenHash = await liveToken();
      const results = await Promise.all([rotate(tokenHash).run, rotate(tokenHash).run]);
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
  });
});
