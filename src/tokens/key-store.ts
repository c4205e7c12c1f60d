import { hkdfSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Db, Queryable } from '../db/db.js';
import { decryptAesGcm, encryptAesGcm } from '../lib/crypto.js';
import {
  activateSigningKey,
  deactivateSigningKey,
  insertSigningKey,
  listPublishedSigningKeys,
  listSigningKeys,
  lockSigningKeys,
  retireSigningKey,
  revokeSigningKey,
  updateSigningKeyPrivateJwk,
  type NewSigningKey,
  type SigningKeyRow,
} from '../repositories/signing-keys-repository.js';
import { planBootstrap, signingKeyOf, type KeyAction, type KeyAlg, type KeyState } from './key-lifecycle.js';

export type SigningAlg = KeyAlg;

export interface SigningKey extends KeyState {
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

/**
 * AES-256-GCM envelope for private keys at rest, keyed by HKDF(AUTHLY_KEY_ENCRYPTION_KEY). v2 binds the
 * ciphertext to its key id (associated data = kid), so a row's private key cannot be swapped onto another
 * kid; v1 (no associated data) is still read, and init() rewrites such rows as v2.
 */
class KeyEncryption {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'authly', 'signing-key-encryption', 32));
  }
  encrypt(kid: string, plain: string): string {
    return encryptAesGcm(this.key, plain, kid, 'v2');
  }
  decrypt(kid: string, envelope: string): string {
    if (envelope.startsWith('v1.')) return decryptAesGcm(this.key, envelope, undefined, 'v1');
    return decryptAesGcm(this.key, envelope, kid, 'v2');
  }
  isCurrent(envelope: string): boolean {
    return envelope.startsWith('v2.');
  }
}

export interface KeyStoreOptions {
  /** AUTHLY_KEY_ENCRYPTION_KEY: private keys are stored encrypted when set. */
  encryptionSecret?: string | undefined;
  /** Called after this process changed the key set, to tell the other replicas (the cache hub). */
  onChange?: () => Promise<void>;
}

/** A state change applied by transition(), with the key's state before it. */
export interface AppliedKeyAction {
  action: KeyAction;
  before: KeyState | undefined;
  /** The kid of a created key. */
  kid: string;
}

const toState = (row: SigningKeyRow): KeyState => ({
  kid: row.kid,
  alg: row.alg as SigningAlg,
  status: row.status,
  createdAt: row.createdAt,
  activatedAt: row.activatedAt,
  deactivatedAt: row.deactivatedAt,
});

/**
 * Signing keys live in the database so every replica and every restart signs and verifies with the same
 * keys; this store caches the published ones (next, active, retiring) in memory. It reloads when another
 * replica announces a change (onChange, through the cache hub), at least every KEY_RELOAD_INTERVAL_SECONDS,
 * and when it meets a kid it does not know.
 */
export class KeyStore {
  private keys: SigningKey[] = [];
  /** The signing key per algorithm, worked out once per reload (signingKey is on every token's path). */
  private signing = new Map<SigningAlg, SigningKey>();
  private reloadsStarted = 0;
  private reloadsApplied = 0;
  private readonly encryption: KeyEncryption | undefined;
  private lastReload = 0;
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Bumped whenever the key set is reloaded: results cached against older keys are stale. */
  generation = 0;
  onChange: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Db,
    /** The configured algorithms (RS256 first, src/app.ts): each has an active key once init() ran. */
    readonly algorithms: readonly SigningAlg[],
    options: KeyStoreOptions = {},
  ) {
    this.encryption = options.encryptionSecret ? new KeyEncryption(options.encryptionSecret) : undefined;
    this.onChange = options.onChange;
  }

  /**
   * Gives every configured algorithm a signing key (once across replicas), upgrades private keys stored
   * in plain JSON or a v1 envelope to v2 when encryption is configured, then loads the published keys.
   */
  async init(): Promise<void> {
    await this.transition((keys) => planBootstrap(keys, this.algorithms), new Date(), {
      extra: async (tx) => this.upgradeEnvelopes(tx),
      quiet: true,
    });
    await this.reload();
  }

  async reload(): Promise<void> {
    // Reloads can overlap (a change signal, the timer, an unknown kid): an older read must not win.
    const ticket = ++this.reloadsStarted;
    const rows = await listPublishedSigningKeys(this.db);
    const keys = await Promise.all(rows.map((row) => this.load(row)));
    if (ticket < this.reloadsApplied) return;
    this.reloadsApplied = ticket;
    const signing = new Map<SigningAlg, SigningKey>();
    for (const key of keys) if (!signing.has(key.alg)) signing.set(key.alg, signingKeyOf(keys, key.alg)!);
    this.keys = keys;
    this.signing = new Map([...signing].filter(([, key]) => key !== undefined));
    this.lastReload = Date.now();
    this.generation++;
  }

  /** Reloads every `intervalMs` in the background (unref'd): a replica that missed a change catches up. */
  startAutoReload(intervalMs: number, onError: (err: unknown) => void): void {
    this.stopAutoReload();
    this.reloadTimer = setInterval(() => void this.reload().catch(onError), intervalMs);
    this.reloadTimer.unref();
  }

  stopAutoReload(): void {
    clearInterval(this.reloadTimer);
    this.reloadTimer = undefined;
  }

  /** The key that signs for an algorithm: the active one (never a next, retiring or revoked key). */
  signingKey(alg: SigningAlg): SigningKey {
    const key = this.signing.get(alg);
    if (!key) throw new Error(`no active signing key for ${alg}`);
    return key;
  }

  /**
   * A published key by kid; reloads from the database at most once a second when another replica
   * rotated. Retired and revoked keys are never loaded, so they verify nothing.
   */
  async verificationKey(kid: string): Promise<SigningKey | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key;
  }

  /** JWKS document: the published keys' public members plus kid, alg and use (RFC 7517 section 4). */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  /** Every key's state, newest first (the admin API lists retired and revoked keys too). */
  async states(): Promise<KeyState[]> {
    return (await listSigningKeys(this.db)).map(toState);
  }

  /**
   * This store seen from inside a caller's transaction `db` (src/services/audit-trail.ts): transitions run
   * on it, while the reload and the change signal to other replicas wait for `afterCommit`, since before
   * the commit nobody else can see the new keys. Everything else is this store's own state.
   */
  within(db: Db, afterCommit: (step: () => Promise<void>) => void): KeyStore {
    const view = Object.create(this) as KeyStore;
    Object.defineProperty(view, 'db', { value: db });
    view.reload = () => {
      afterCommit(() => this.reload());
      return Promise.resolve();
    };
    view.onChange = async () => afterCommit(async () => this.onChange?.());
    return view;
  }

  /**
   * Applies `plan` (src/tokens/key-lifecycle.ts) to the keys' current states in one transaction under
   * the key lock, so two replicas never both rotate; `extra` runs in the same transaction (revoking the
   * tokens of a revoked key). Then reloads and announces the change to the other replicas.
   */
  async transition(
    plan: (keys: KeyState[]) => KeyAction[],
    now: Date,
    options: { extra?: (tx: Queryable, applied: AppliedKeyAction[]) => Promise<void>; quiet?: boolean } = {},
  ): Promise<AppliedKeyAction[]> {
    const applied = await this.db.transaction(async (tx) => {
      await lockSigningKeys(tx);
      const keys = (await listSigningKeys(tx)).map(toState);
      const done: AppliedKeyAction[] = [];
      for (const action of plan(keys)) {
        const before = action.kind === 'create' ? undefined : keys.find((k) => k.kid === action.kid);
        done.push({ action, before, kid: await this.apply(tx, action, now) });
      }
      await options.extra?.(tx, done);
      return done;
    });
    if (applied.length > 0 && !options.quiet) {
      await this.reload();
      await this.onChange?.();
    }
    return applied;
  }

  private async apply(tx: Queryable, action: KeyAction, now: Date): Promise<string> {
    switch (action.kind) {
      case 'create': {
        const key = await this.generate(action.alg);
        await insertSigningKey(tx, key, action.status, now);
        return key.kid;
      }
      case 'activate':
        await activateSigningKey(tx, action.kid, now);
        return action.kid;
      case 'deactivate':
        await deactivateSigningKey(tx, action.kid, now);
        return action.kid;
      case 'retire':
        await retireSigningKey(tx, action.kid, now);
        return action.kid;
      case 'revoke':
        await revokeSigningKey(tx, action.kid, now);
        return action.kid;
    }
  }

  private async upgradeEnvelopes(tx: Queryable): Promise<void> {
    const encryption = this.encryption;
    if (!encryption) return;
    for (const row of await listPublishedSigningKeys(tx)) {
      if (row.privateJwkEncrypted && encryption.isCurrent(row.privateJwk)) continue;
      const plain = row.privateJwkEncrypted ? encryption.decrypt(row.kid, row.privateJwk) : row.privateJwk;
      await updateSigningKeyPrivateJwk(tx, row.kid, encryption.encrypt(row.kid, plain), true);
    }
  }

  private async generate(alg: SigningAlg): Promise<NewSigningKey> {
    const options = alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {};
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
    const publicJwk = publicOnly(await exportJWK(publicKey));
    const privateJson = JSON.stringify(await exportJWK(privateKey));
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      alg,
      publicJwk: publicJwk as Record<string, unknown>,
      privateJwk: this.encryption ? this.encryption.encrypt(kid, privateJson) : privateJson,
      privateJwkEncrypted: Boolean(this.encryption),
    };
  }

  private async load(row: SigningKeyRow): Promise<SigningKey> {
    if (row.privateJwkEncrypted && !this.encryption) {
      throw new Error(`signing key ${row.kid} is encrypted: set AUTHLY_KEY_ENCRYPTION_KEY`);
    }
    const privateJson = row.privateJwkEncrypted ? this.encryption!.decrypt(row.kid, row.privateJwk) : row.privateJwk;
    const alg = row.alg as SigningAlg;
    const publicJwk = publicOnly(row.publicJwk as JWK);
    return {
      ...toState(row),
      alg,
      privateKey: (await importJWK(JSON.parse(privateJson) as JWK, alg)) as CryptoKey,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      publicJwk,
    };
  }
}
