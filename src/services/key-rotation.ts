import { Conflict, NotFound } from '../errors/admin-errors.js';
import type { Queryable } from '../db/db.js';
import { listSigningKeys, revokeJwtAccessTokensIssuedBetween } from '../repositories/signing-keys-repository.js';
import {
  KeyTransitionRefused,
  planEmergencyRotation,
  planMaintenance,
  planRetire,
  planRevoke,
  planRotation,
  rotationPolicy,
  type KeyAction,
  type KeyState,
  type RotationPolicy,
} from '../tokens/key-lifecycle.js';
import type { AppliedKeyAction } from '../tokens/key-store.js';
import type { ServiceContext } from './context.js';

type Ctx = Pick<ServiceContext, 'db' | 'config' | 'keys'>;

/** A key as the admin API shows it: its state and when it will move on. */
export interface KeyView extends KeyState {
  retiredAt: Date | null;
  published: boolean;
  /** next: the earliest time it may sign (after the lead time). */
  signsFrom: Date | null;
  /** retiring: the earliest time it may leave the JWKS (its last token has expired). */
  unpublishAfter: Date | null;
}

export interface KeyChange {
  kind: KeyAction['kind'];
  kid: string;
  alg: string;
}

export interface KeyChangeResult {
  changes: KeyChange[];
  /** Live JWT access tokens revoked because a key that signed them was revoked. */
  revokedAccessTokens: number;
  keys: KeyView[];
}

const plus = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);

function view(row: Awaited<ReturnType<typeof listSigningKeys>>[number], policy: RotationPolicy): KeyView {
  const published = row.status === 'next' || row.status === 'active' || row.status === 'retiring';
  return {
    kid: row.kid,
    alg: row.alg as KeyState['alg'],
    status: row.status,
    createdAt: row.createdAt,
    activatedAt: row.activatedAt,
    deactivatedAt: row.deactivatedAt,
    retiredAt: row.retiredAt,
    published,
    signsFrom: row.status === 'next' ? plus(row.createdAt, policy.publishLeadSeconds) : null,
    unpublishAfter: row.status === 'retiring' ? plus(row.deactivatedAt ?? row.createdAt, policy.retireAfterSeconds) : null,
  };
}

export async function listKeys(ctx: Ctx): Promise<KeyView[]> {
  const policy = rotationPolicy(ctx.config);
  return (await listSigningKeys(ctx.db)).map((row) => view(row, policy));
}

/**
 * Revokes, in the transaction that revoked the key, the live JWT access tokens it may have signed: those
 * issued while it was active (access tokens are signed only by JWT_ALGORITHM's key). Resource servers that
 * verify locally stop accepting them once they refetch the JWKS; Authly's own checks (introspection,
 * userinfo, the admin API) refuse them at once. Refresh tokens are opaque, not signed: they are kept, so
 * clients get new access tokens under the new key without signing their users in again.
 */
function revokeSignedTokens(ctx: Ctx, now: Date, counter: { n: number }) {
  return async (tx: Queryable, applied: AppliedKeyAction[]) => {
    for (const { action, before } of applied) {
      if (action.kind !== 'revoke' || !before?.activatedAt || before.alg !== ctx.config.jwtAlgorithm) continue;
      // created_at holds iat, whole seconds: the window starts at the second the key was activated.
      const from = new Date(Math.floor(before.activatedAt.getTime() / 1000) * 1000);
      counter.n += await revokeJwtAccessTokensIssuedBetween(tx, from, before.deactivatedAt ?? now, now);
    }
  };
}

async function change(ctx: Ctx, plan: (keys: KeyState[]) => KeyAction[], now: Date): Promise<KeyChangeResult> {
  const counter = { n: 0 };
  let applied: AppliedKeyAction[];
  try {
    applied = await ctx.keys.transition(plan, now, { extra: revokeSignedTokens(ctx, now, counter) });
  } catch (err) {
    if (err instanceof KeyTransitionRefused) {
      if (err.reason === 'unknown_key') throw new NotFound('signing key');
      throw new Conflict(err.message);
    }
    throw err;
  }
  const keys = await listKeys(ctx);
  const changes = applied.map(({ action, kid, before }) => ({
    kind: action.kind,
    kid,
    alg: action.kind === 'create' ? action.alg : (before?.alg ?? ''),
  }));
  return { changes, revokedAccessTokens: counter.n, keys };
}

/** The periodic step (cleanup job): promote, retire and, with KEY_ROTATION_DAYS, start rotations. */
export function maintainKeys(ctx: Ctx, now = new Date()): Promise<KeyChangeResult> {
  const policy = rotationPolicy(ctx.config);
  return change(ctx, (keys) => planMaintenance(keys, ctx.keys.algorithms, now, policy), now);
}

/**
 * `keys rotate`: publishes a next key for every configured algorithm (it signs after the lead time).
 * `emergency`: the signing keys are revoked at once (see revokeKey).
 */
export function rotateKeys(ctx: Ctx, options: { emergency?: boolean } = {}, now = new Date()): Promise<KeyChangeResult> {
  const policy = rotationPolicy(ctx.config);
  const algorithms = ctx.keys.algorithms;
  return change(ctx, (keys) => (options.emergency ? planEmergencyRotation(keys, algorithms) : planRotation(keys, algorithms, now, policy)), now);
}

/** `keys retire <kid>`: unpublishes a key that no longer signs and whose tokens have all expired. */
export function retireKey(ctx: Ctx, kid: string, now = new Date()): Promise<KeyChangeResult> {
  const policy = rotationPolicy(ctx.config);
  return change(ctx, (keys) => planRetire(keys, kid, now, policy), now);
}

/** `keys revoke <kid>`: a compromised key stops signing and leaves the JWKS at once; its tokens are revoked. */
export function revokeKey(ctx: Ctx, kid: string, now = new Date()): Promise<KeyChangeResult> {
  return change(ctx, (keys) => planRevoke(keys, kid), now);
}
