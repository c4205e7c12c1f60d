import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Db } from '../db/db.js';
import {
  insertSigningKey,
  listSigningKeys,
  lockSigningKeys,
  type SigningKeyRow,
} from '../repositories/signing-keys-repository.js';

export type SigningAlg = 'RS256' | 'ES256' | 'EdDSA';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** Only the public members of a JWK: a private member must never reach the JWKS. */
function publicOnly(jwk: JWK): JWK {
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''] ?? [];
  const record = jwk as Record<string, unknown>;
  return Object.fromEntries(members.filter((m) => record[m] !== undefined).map((m) => [m, record[m]])) as JWK;
}

/** AES-256-GCM envelope for private keys at rest, keyed by HKDF(AUTHLY_KEY_ENCRYPTION_KEY). */
class KeyEncryption {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'authly', 'signing-key-encryption', 32));
  }
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }
  decrypt(envelope: string): string {
    const [version, iv, tag, body] = envelope.split('.');
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('unknown private key envelope');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/**
 * Signing keys live in the database so every replica and every restart signs and verifies with the same
 * keys; this store caches them in memory and reloads when it meets a kid it does not know.
 */
export class KeyStore {
  private keys: SigningKey[] = [];
  private readonly encryption: KeyEncryption | undefined;
  private lastReload = 0;
  /** Bumped whenever the key set is reloaded: results cached against older keys are stale. */
  generation = 0;

  constructor(
    private readonly db: Db,
    /** The configured algorithms (RS256 first, src/app.ts): each has an active key once init() ran. */
    readonly algorithms: readonly SigningAlg[],
    encryptionSecret?: string,
  ) {
    this.encryption = encryptionSecret ? new KeyEncryption(encryptionSecret) : undefined;
  }

  /** Creates a key for every configured algorithm that has none (once across replicas), then loads all. */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockSigningKeys(tx);
      const existing = await listSigningKeys(tx);
      for (const alg of this.algorithms) {
        if (!existing.some((k) => k.alg === alg && k.status === 'active')) {
          await insertSigningKey(tx, await this.generate(alg));
        }
      }
    });
    await this.reload();
  }

  async reload(): Promise<void> {
    const rows = await listSigningKeys(this.db);
    this.keys = await Promise.all(rows.map((row) => this.load(row)));
    this.lastReload = Date.now();
    this.generation++;
  }

  /** The newest active key for an algorithm. */
  signingKey(alg: SigningAlg): SigningKey {
    const key = this.keys.find((k) => k.alg === alg);
    if (!key) throw new Error(`no signing key for ${alg}`);
    return key;
  }

  /** A key by kid; reloads from the database at most once a second when another replica rotated. */
  async verificationKey(kid: string): Promise<SigningKey | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key;
  }

  /** JWKS document: public members plus kid, alg and use (RFC 7517 section 4). */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  private async generate(alg: SigningAlg): Promise<Omit<SigningKeyRow, 'status' | 'createdAt'>> {
    const options = alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {};
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
    const publicJwk = publicOnly(await exportJWK(publicKey));
    const privateJson = JSON.stringify(await exportJWK(privateKey));
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      alg,
      publicJwk: publicJwk as Record<string, unknown>,
      privateJwk: this.encryption ? this.encryption.encrypt(privateJson) : privateJson,
      privateJwkEncrypted: Boolean(this.encryption),
    };
  }

  private async load(row: SigningKeyRow): Promise<SigningKey> {
    if (row.privateJwkEncrypted && !this.encryption) {
      throw new Error(`signing key ${row.kid} is encrypted: set AUTHLY_KEY_ENCRYPTION_KEY`);
    }
    const privateJson = row.privateJwkEncrypted ? this.encryption!.decrypt(row.privateJwk) : row.privateJwk;
    const alg = row.alg as SigningAlg;
    const publicJwk = publicOnly(row.publicJwk as JWK);
    return {
      kid: row.kid,
      alg,
      privateKey: (await importJWK(JSON.parse(privateJson) as JWK, alg)) as CryptoKey,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      publicJwk,
    };
  }
}
