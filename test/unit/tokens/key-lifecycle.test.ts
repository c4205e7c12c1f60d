import { describe, expect, it } from 'vitest';
import {
  KeyTransitionRefused,
  planBootstrap,
  planEmergencyRotation,
  planMaintenance,
  planRetire,
  planRevoke,
  planRotation,
  rotationPolicy,
  signingKeyOf,
  type KeyAction,
  type KeyState,
  type RotationPolicy,
} from '../../../src/tokens/key-lifecycle.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const POLICY: RotationPolicy = { publishLeadSeconds: 660, retireAfterSeconds: 3660, rotationDays: 0 };

function key(kid: string, status: KeyState['status'], created: number, extra: Partial<KeyState> = {}): KeyState {
  return {
    kid,
    alg: 'RS256',
    status,
    createdAt: at(created),
    activatedAt: status === 'active' || status === 'retiring' ? at(created) : null,
    deactivatedAt: null,
    ...extra,
  };
}

/** Applies actions the way KeyStore does, so a sequence of steps can be followed. */
function apply(keys: KeyState[], actions: KeyAction[], now: Date): KeyState[] {
  let n = 0;
  const out = keys.map((k) => ({ ...k }));
  for (const a of actions) {
    if (a.kind === 'create') out.push({ kid: `new${n++}`, alg: a.alg, status: a.status, createdAt: now, activatedAt: a.status === 'active' ? now : null, deactivatedAt: null });
    else {
      const k = out.find((x) => x.kid === a.kid)!;
      if (a.kind === 'activate') Object.assign(k, { status: 'active', activatedAt: now });
      if (a.kind === 'deactivate') Object.assign(k, { status: 'retiring', deactivatedAt: now });
      if (a.kind === 'retire') Object.assign(k, { status: 'retired' });
      if (a.kind === 'revoke') Object.assign(k, { status: 'revoked', deactivatedAt: k.deactivatedAt ?? now });
    }
  }
  return out;
}

describe('key lifecycle (pure state machine)', () => {
  it('derives the lead from the JWKS max-age (twice, plus reload lag) and the overlap from the longest token lifetime', () => {
    expect(rotationPolicy({ accessTokenTtlSeconds: 900, idTokenTtlSeconds: 3600, keyRotationDays: 30 })).toEqual({
      publishLeadSeconds: 2 * 300 + 60,
      retireAfterSeconds: 3600 + 60,
      rotationDays: 30,
    });
    expect(rotationPolicy({ accessTokenTtlSeconds: 7200, idTokenTtlSeconds: 600, keyRotationDays: 0 }).retireAfterSeconds).toBe(7260);
  });

  it('bootstrap creates an active key only for an algorithm without one, or activates a waiting next key', () => {
    expect(planBootstrap([], ['RS256', 'ES256'])).toEqual([
      { kind: 'create', alg: 'RS256', status: 'active' },
      { kind: 'create', alg: 'ES256', status: 'active' },
    ]);
    expect(planBootstrap([key('a', 'active', 0)], ['RS256'])).toEqual([]);
    expect(planBootstrap([key('a', 'revoked', 0), key('n', 'next', 5)], ['RS256'])).toEqual([{ kind: 'activate', kid: 'n' }]);
  });

  it('rotate publishes a next key that does not sign until the lead time has passed, then swaps', () => {
    let keys = [key('a', 'active', 0)];
    keys = apply(keys, planRotation(keys, ['RS256'], at(100), POLICY), at(100));
    expect(keys.map((k) => [k.kid, k.status])).toEqual([
      ['a', 'active'],
      ['new0', 'next'],
    ]);
    expect(signingKeyOf(keys, 'RS256')?.kid).toBe('a');
    // A second rotate before the lead does not add another next key or promote the waiting one.
    expect(planRotation(keys, ['RS256'], at(100 + 659), POLICY)).toEqual([]);
    expect(planMaintenance(keys, ['RS256'], at(100 + 659), POLICY)).toEqual([]);
    const swap = planMaintenance(keys, ['RS256'], at(100 + 660), POLICY);
    expect(swap).toEqual([
      { kind: 'activate', kid: 'new0' },
      { kind: 'deactivate', kid: 'a' },
    ]);
    keys = apply(keys, swap, at(760));
    expect(signingKeyOf(keys, 'RS256')?.kid).toBe('new0');
    expect(keys.find((k) => k.kid === 'a')?.status).toBe('retiring');
    // The old key stays published until the last token it signed has expired.
    expect(planMaintenance(keys, ['RS256'], at(760 + 3659), POLICY)).toEqual([]);
    expect(planMaintenance(keys, ['RS256'], at(760 + 3660), POLICY)).toEqual([{ kind: 'retire', kid: 'a' }]);
  });

  it('scheduled rotation creates a next key once the active key is KEY_ROTATION_DAYS old; 0 never does', () => {
    const keys = [key('a', 'active', 0)];
    const scheduled = { ...POLICY, rotationDays: 30 };
    expect(planMaintenance(keys, ['RS256'], at(30 * 86_400 - 1), scheduled)).toEqual([]);
    expect(planMaintenance(keys, ['RS256'], at(30 * 86_400), scheduled)).toEqual([{ kind: 'create', alg: 'RS256', status: 'next' }]);
    expect(planMaintenance(keys, ['RS256'], at(300 * 86_400), POLICY)).toEqual([]);
    // Not twice: a next key is already waiting.
    expect(planMaintenance([...keys, key('n', 'next', 30 * 86_400)], ['RS256'], at(30 * 86_400 + 1), scheduled)).toEqual([]);
  });

  it('revoking the signing key activates the waiting next key at once, or creates a new active key', () => {
    const withNext = [key('a', 'active', 0), key('n', 'next', 10)];
    expect(planRevoke(withNext, 'a')).toEqual([
      { kind: 'revoke', kid: 'a' },
      { kind: 'activate', kid: 'n' },
    ]);
    expect(planRevoke([key('a', 'active', 0)], 'a')).toEqual([
      { kind: 'revoke', kid: 'a' },
      { kind: 'create', alg: 'RS256', status: 'active' },
    ]);
    // A retiring key is only unpublished.
    expect(planRevoke([key('a', 'active', 0), key('r', 'retiring', -10)], 'r')).toEqual([{ kind: 'revoke', kid: 'r' }]);
    expect(() => planRevoke([key('x', 'retired', 0)], 'x')).toThrow(KeyTransitionRefused);
    expect(() => planRevoke([], 'x')).toThrow(/no signing key x/);
  });

  it('emergency rotation revokes the signing key of every algorithm', () => {
    const keys = [key('a', 'active', 0), key('e', 'active', 0, { alg: 'ES256' })];
    const actions = planEmergencyRotation(keys, ['RS256', 'ES256']);
    const after = apply(keys, actions, at(1));
    expect(after.filter((k) => k.status === 'revoked').map((k) => k.kid).sort()).toEqual(['a', 'e']);
    expect(signingKeyOf(after, 'RS256')).toBeDefined();
    expect(signingKeyOf(after, 'ES256')).toBeDefined();
  });

  it('retire refuses the signing key and a key whose tokens may be live; withdraws a next key', () => {
    const retiring = key('r', 'retiring', 0, { deactivatedAt: at(100) });
    const keys = [key('a', 'active', 50), retiring, key('n', 'next', 200)];
    expect(() => planRetire(keys, 'a', at(200), POLICY)).toThrow(/active: rotate first/);
    expect(() => planRetire(keys, 'r', at(100 + 3659), POLICY)).toThrow(/may be live for 1 more seconds/);
    expect(planRetire(keys, 'r', at(100 + 3660), POLICY)).toEqual([{ kind: 'retire', kid: 'r' }]);
    expect(planRetire(keys, 'n', at(201), POLICY)).toEqual([{ kind: 'retire', kid: 'n' }]);
  });

  it('of two active keys of one algorithm, the most recently activated signs and the other retires', () => {
    const keys = [key('old', 'active', 0), key('new', 'active', 10)];
    expect(signingKeyOf(keys, 'RS256')?.kid).toBe('new');
    expect(planMaintenance(keys, ['RS256'], at(20), POLICY)).toEqual([{ kind: 'deactivate', kid: 'old' }]);
  });
});
