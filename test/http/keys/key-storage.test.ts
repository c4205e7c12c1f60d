import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptAesGcm } from '../../../src/lib/crypto.js';
import { runCleanup } from '../../../src/services/cleanup-service.js';
import { KeyStore } from '../../../src/tokens/key-store.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

const SECRET = 'k'.repeat(40);

/** The envelope written before v2: AES-256-GCM without associated data. */
const derivedKey = () => Buffer.from(hkdfSync('sha256', SECRET, 'authly', 'signing-key-encryption', 32));

function legacyV1(plain: string): string {
  const key = derivedKey();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

interface Row {
  kid: string;
  private_jwk: string;
}

describe('private keys at rest (AUTHLY_KEY_ENCRYPTION_KEY)', () => {
  let t: TestApp;
  const rows = async () => (await t.app.ctx.db.query<Row>('SELECT kid, private_jwk FROM signing_keys ORDER BY kid')).rows;

  beforeAll(async () => {
    t = await createTestApp({ AUTHLY_KEY_ENCRYPTION_KEY: SECRET, JWT_ALGORITHM: 'ES256' });
  });
  afterAll(() => t?.close());

  it('reads a v1 envelope and rewrites it as v2 (bound to the kid) at start', async () => {
    const [row] = await rows();
    // What a v1 row held: the same private JWK, wrapped the old way.
    const plain = decryptAesGcm(derivedKey(), row!.private_jwk, row!.kid, 'v2');
    expect(plain).toContain('"d"');
    await t.app.ctx.db.query('UPDATE signing_keys SET private_jwk = $2 WHERE kid = $1', [row!.kid, legacyV1(plain)]);
    expect((await rows()).find((r) => r.kid === row!.kid)!.private_jwk.startsWith('v1.')).toBe(true);
    await new KeyStore(t.app.ctx.db, ['RS256', 'ES256'], { encryptionSecret: SECRET }).init();
    for (const r of await rows()) expect(r.private_jwk.startsWith('v2.')).toBe(true);
    await t.app.ctx.keys.reload();
    expect((await t.app.ctx.keys.verificationKey(row!.kid))?.kid).toBe(row!.kid);
  });

  it('refuses a private key moved onto another kid (associated data = kid)', async () => {
    const [a, b] = await rows();
    await t.app.ctx.db.query('UPDATE signing_keys SET private_jwk = $2 WHERE kid = $1', [b!.kid, a!.private_jwk]);
    await expect(new KeyStore(t.app.ctx.db, ['RS256', 'ES256'], { encryptionSecret: SECRET }).reload()).rejects.toThrow();
    await t.app.ctx.db.query('UPDATE signing_keys SET private_jwk = $2 WHERE kid = $1', [b!.kid, b!.private_jwk]);
  });
});

describe('scheduled rotation (KEY_ROTATION_DAYS) in the cleanup job', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ KEY_ROTATION_DAYS: '30', CLEANUP_INTERVAL_MINUTES: '60' });
  });
  afterAll(() => t?.close());

  const statuses = async () =>
    (await t.app.ctx.db.query<{ status: string }>('SELECT status FROM signing_keys ORDER BY status')).rows.map((r) => r.status);

  it('publishes a next key once the active key is KEY_ROTATION_DAYS old, under the cleanup lock', async () => {
    expect((await runCleanup(t.app.ctx)).skipped).toBe(false);
    expect(await statuses()).toEqual(['active']);
    await t.app.ctx.db.query(`UPDATE signing_keys SET activated_at = now() - interval '31 days'`);
    expect((await runCleanup(t.app.ctx)).skipped).toBe(false);
    expect(await statuses()).toEqual(['active', 'next']);
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(2);
    expect(t.logs.some((l) => l.includes('"event":"keys.changed"'))).toBe(true);
  });
});
