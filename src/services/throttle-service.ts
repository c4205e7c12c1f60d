import { clearAuthFailures, findLockSeconds, recordAuthFailure } from '../repositories/auth-failures-repository.js';
import type { ServiceContext } from './context.js';

/**
 * Brute-force protection for passwords and client secrets (SECURITY.md): failures are counted per
 * account (or client) and per IP in the database, so every replica sees the same counts. An account
 * locks after AUTHLY_LOCKOUT_MAX_ATTEMPTS failures within AUTHLY_LOCKOUT_DURATION_SECONDS, for that long;
 * an IP gets ten times the allowance, since many users may share one address.
 */
export interface ThrottleSubject {
  /** The account or client being tried: a login name (lower-cased) or a client_id. */
  account: string;
  ip: string;
}

const IP_ALLOWANCE_FACTOR = 10;

function keys(kind: 'login' | 'client', subject: ThrottleSubject): { account: string; ip: string } {
  return { account: `${kind}:account:${subject.account.toLowerCase()}`, ip: `${kind}:ip:${subject.ip}` };
}

export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed attempts');
  }
}

export function throttle(ctx: ServiceContext, kind: 'login' | 'client') {
  const { lockoutMaxAttempts: limit, lockoutDurationSeconds: window } = ctx.config;
  return {
    /** Throws TooManyAttempts while the account or the IP is locked. */
    async check(subject: ThrottleSubject): Promise<void> {
      const k = keys(kind, subject);
      const seconds = await findLockSeconds(ctx.db, [k.account, k.ip]);
      if (seconds > 0) throw new TooManyAttempts(seconds);
    },
    async failed(subject: ThrottleSubject): Promise<void> {
      const k = keys(kind, subject);
      await recordAuthFailure(ctx.db, k.account, limit, window);
      await recordAuthFailure(ctx.db, k.ip, limit * IP_ALLOWANCE_FACTOR, window);
    },
    /** A success clears the account's count (not the IP's). */
    async succeeded(subject: ThrottleSubject): Promise<void> {
      await clearAuthFailures(ctx.db, keys(kind, subject).account);
    },
  };
}
