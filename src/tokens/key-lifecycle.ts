import type { SigningKeyStatus } from '../repositories/signing-keys-repository.js';

/**
 * The signing-key state machine, pure (no clock, no I/O): each function reads the keys' states and the
 * time and answers the actions to apply. KeyStore applies them in one transaction under the key lock.
 *
 *   next ──(published ≥ publishLead)──> active ──(successor active)──> retiring ──(≥ retireAfter)──> retired
 *     └──────────────────────────── revoke (compromised: unpublished at once) ─────────────────────> revoked
 *
 * Pre-publication: a verifier that cached the JWKS just before a key appeared still knows it by the time
 * it signs (RFC 7517 kid lookup; OIDC Core section 10.1.1: "signing keys [...] MUST be published before use").
 * Overlap: a key stays published until every token it signed has expired (OIDC Core 10.1.1, rotation).
 */

export type KeyAlg = 'RS256' | 'ES256' | 'EdDSA';
export type KeyStatus = SigningKeyStatus;

/** What the JWKS serves and what verifies: a retired or revoked key verifies nothing. */
export const PUBLISHED_STATUSES: readonly KeyStatus[] = ['next', 'active', 'retiring'];
export const isPublished = (status: KeyStatus): boolean => PUBLISHED_STATUSES.includes(status);

export interface KeyState {
  kid: string;
  alg: KeyAlg;
  status: KeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  deactivatedAt: Date | null;
}

export interface RotationPolicy {
  /** A new key is published this long before it may sign (the JWKS cache lifetime, see rotationPolicy). */
  publishLeadSeconds: number;
  /** A key that stopped signing stays published this long (its tokens' longest lifetime, see rotationPolicy). */
  retireAfterSeconds: number;
  /** Scheduled rotation: a next key is created once the active key is this old; 0 = off. */
  rotationDays: number;
}

export type KeyAction =
  | { kind: 'create'; alg: KeyAlg; status: 'next' | 'active' }
  | { kind: 'activate'; kid: string }
  | { kind: 'deactivate'; kid: string }
  | { kind: 'retire'; kid: string }
  | { kind: 'revoke'; kid: string };

/** The JWKS route's Cache-Control max-age (src/routes/jwks/jwks-route.ts). */
export const JWKS_MAX_AGE_SECONDS = 300;
/** Each replica reloads its keys at least this often (besides the change broadcast): its worst-case lag. */
export const KEY_RELOAD_INTERVAL_SECONDS = 60;

/**
 * The policy from the configured lifetimes. The JWKS can be held for two max-ages (a shared cache such as
 * nginx serves a copy up to max-age old, and the client then keeps it for another max-age), plus a
 * replica's reload lag. A key signs access tokens and ID tokens: it stays until the longer has expired.
 */
export function rotationPolicy(config: { accessTokenTtlSeconds: number; idTokenTtlSeconds: number; keyRotationDays: number }): RotationPolicy {
  return {
    publishLeadSeconds: 2 * JWKS_MAX_AGE_SECONDS + KEY_RELOAD_INTERVAL_SECONDS,
    retireAfterSeconds: Math.max(config.accessTokenTtlSeconds, config.idTokenTtlSeconds) + KEY_RELOAD_INTERVAL_SECONDS,
    rotationDays: config.keyRotationDays,
  };
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
const newestFirst = (a: KeyState, b: KeyState) => b.createdAt.getTime() - a.createdAt.getTime();
const oldestFirst = (a: KeyState, b: KeyState) => a.createdAt.getTime() - b.createdAt.getTime();

function ofAlg(keys: readonly KeyState[], alg: KeyAlg, status: KeyStatus): KeyState[] {
  return keys.filter((k) => k.alg === alg && k.status === status);
}

/** The key that signs for `alg`: the most recently activated active key. */
export function signingKeyOf<K extends KeyState>(keys: readonly K[], alg: KeyAlg): K | undefined {
  return keys
    .filter((k) => k.alg === alg && k.status === 'active')
    .sort((a, b) => (b.activatedAt ?? b.createdAt).getTime() - (a.activatedAt ?? a.createdAt).getTime())[0];
}

/** Start-up: every configured algorithm needs a key that signs (a waiting next key is taken at once). */
export function planBootstrap(keys: readonly KeyState[], algorithms: readonly KeyAlg[]): KeyAction[] {
  const actions: KeyAction[] = [];
  for (const alg of algorithms) {
    if (signingKeyOf(keys, alg)) continue;
    const next = ofAlg(keys, alg, 'next').sort(oldestFirst)[0];
    actions.push(next ? { kind: 'activate', kid: next.kid } : { kind: 'create', alg, status: 'active' });
  }
  return actions;
}

/**
 * The periodic step (cleanup job, `keys rotate`): promotes a next key once it has been published long
 * enough (its predecessor starts retiring), retires keys whose tokens have all expired, and with scheduled
 * rotation creates a next key once the active one is old enough.
 */
export function planMaintenance(keys: readonly KeyState[], algorithms: readonly KeyAlg[], now: Date, policy: RotationPolicy): KeyAction[] {
  const actions: KeyAction[] = planBootstrap(keys, algorithms);
  const bootstrapped = new Set(actions.map((a) => (a.kind === 'create' ? a.alg : keys.find((k) => k.kid === a.kid)!.alg)));
  const algs = new Set<KeyAlg>([...algorithms, ...keys.map((k) => k.alg)]);
  for (const alg of algs) {
    const active = ofAlg(keys, alg, 'active').sort(newestFirst);
    const next = ofAlg(keys, alg, 'next').sort(oldestFirst)[0];
    if (bootstrapped.has(alg)) {
      // Handled by planBootstrap.
    } else if (next && seconds(next.createdAt, now) >= policy.publishLeadSeconds) {
      actions.push({ kind: 'activate', kid: next.kid });
      for (const key of active) actions.push({ kind: 'deactivate', kid: key.kid });
    } else {
      // Two active keys of one algorithm (an emergency bootstrap raced): the newer one signs.
      for (const key of active.slice(1)) actions.push({ kind: 'deactivate', kid: key.kid });
      const current = active[0];
      const due = current && policy.rotationDays > 0 && seconds(current.activatedAt ?? current.createdAt, now) >= policy.rotationDays * 86_400;
      if (due && !next && algorithms.includes(alg)) actions.push({ kind: 'create', alg, status: 'next' });
    }
    for (const key of ofAlg(keys, alg, 'retiring')) {
      if (seconds(key.deactivatedAt ?? key.createdAt, now) >= policy.retireAfterSeconds) actions.push({ kind: 'retire', kid: key.kid });
    }
  }
  return actions;
}

/**
 * `keys rotate`: the periodic step, and a next key for each algorithm that had none. A next key already
 * waiting is not doubled: once its lead time has passed, the periodic step (or `keys rotate` again)
 * promotes it, so rotation works without the cleanup job too.
 */
export function planRotation(keys: readonly KeyState[], algorithms: readonly KeyAlg[], now: Date, policy: RotationPolicy): KeyAction[] {
  const actions = planMaintenance(keys, algorithms, now, policy);
  for (const alg of algorithms) {
    const hadNext = ofAlg(keys, alg, 'next').length > 0;
    if (!hadNext && !actions.some((a) => a.kind === 'create' && a.alg === alg)) actions.push({ kind: 'create', alg, status: 'next' });
  }
  return actions;
}

export class KeyTransitionRefused extends Error {
  constructor(
    readonly reason: 'unknown_key' | 'not_published' | 'active' | 'tokens_live',
    message: string,
  ) {
    super(message);
  }
}

/**
 * `keys revoke <kid>` / `keys rotate --emergency`: a compromised key stops signing and leaves the JWKS at
 * once. When it was the signing key, its algorithm's next key becomes active immediately (or a new one is
 * created active): there is no pre-publication for a key that must not sign one more token.
 */
export function planRevoke(keys: readonly KeyState[], kid: string): KeyAction[] {
  const key = keys.find((k) => k.kid === kid);
  if (!key) throw new KeyTransitionRefused('unknown_key', `no signing key ${kid}`);
  if (!isPublished(key.status)) throw new KeyTransitionRefused('not_published', `signing key ${kid} is already ${key.status}`);
  const actions: KeyAction[] = [{ kind: 'revoke', kid }];
  if (key.status === 'active' && signingKeyOf(keys, key.alg)?.kid === kid) {
    const others = keys.filter((k) => k.kid !== kid && k.alg === key.alg);
    const otherActive = others.some((k) => k.status === 'active');
    if (!otherActive) {
      const next = ofAlg(others, key.alg, 'next').sort(oldestFirst)[0];
      actions.push(next ? { kind: 'activate', kid: next.kid } : { kind: 'create', alg: key.alg, status: 'active' });
    }
  }
  return actions;
}

/** `keys rotate --emergency`: revokes the signing key of each algorithm. */
export function planEmergencyRotation(keys: readonly KeyState[], algorithms: readonly KeyAlg[]): KeyAction[] {
  const actions: KeyAction[] = [];
  for (const alg of algorithms) {
    const current = signingKeyOf(keys, alg);
    if (current) actions.push(...planRevoke(keys, current.kid));
    else actions.push({ kind: 'create', alg, status: 'active' });
  }
  return actions;
}

/**
 * `keys retire <kid>`: unpublishes a key that signs nothing and whose tokens have expired (a retiring key
 * past retireAfter), or withdraws a next key that never signed. Refused for the signing key (rotate
 * instead) and for a key whose tokens may still be live (revoke it if it is compromised).
 */
export function planRetire(keys: readonly KeyState[], kid: string, now: Date, policy: RotationPolicy): KeyAction[] {
  const key = keys.find((k) => k.kid === kid);
  if (!key) throw new KeyTransitionRefused('unknown_key', `no signing key ${kid}`);
  if (key.status === 'active') throw new KeyTransitionRefused('active', `signing key ${kid} is active: rotate first`);
  if (!isPublished(key.status)) throw new KeyTransitionRefused('not_published', `signing key ${kid} is already ${key.status}`);
  if (key.status === 'retiring') {
    const remaining = policy.retireAfterSeconds - seconds(key.deactivatedAt ?? key.createdAt, now);
    if (remaining > 0) {
      throw new KeyTransitionRefused(
        'tokens_live',
        `tokens signed by ${kid} may be live for ${Math.ceil(remaining)} more seconds; revoke it instead if it is compromised`,
      );
    }
  }
  return [{ kind: 'retire', kid }];
}
