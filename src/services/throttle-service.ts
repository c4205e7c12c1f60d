import { TooManyAttempts } from '../errors/throttle-errors.js';
import { addressGroup } from '../lib/address-group.js';
import { hmacSha256Base64url } from '../lib/crypto.js';
import {
  clearCounters,
  clearSubject,
  countAttempt,
  findLockSeconds,
  type ThrottleCounter,
} from '../repositories/auth-failures-repository.js';
import type { ServiceContext } from './context.js';

/**
 * Brute-force protection for passwords and client secrets (SECURITY.md; OWASP Authentication Cheat Sheet,
 * Keycloak's brute-force detector). Failures are counted in the database, so every replica shares them,
 * within a window of AUTHLY_LOCKOUT_DURATION_SECONDS, with N = AUTHLY_LOCKOUT_MAX_ATTEMPTS:
 *
 * - per account *and address*: N failures, then that address waits out the window for that account. An
 *   outsider locks only itself out: the owner signing in from elsewhere is not affected.
 * - per address: 10 N failures (many users may share one address), then it waits out the window.
 * - per account, from all addresses together (sign-in only): 4 N failures, then a progressive delay
 *   (1 s, doubling with each further failure, at most ACCOUNT_MAX_DELAY_SECONDS) instead of a lock, so a
 *   distributed guesser gets a handful of guesses a minute and the owner waits seconds, not a window.
 *
 * A sign-in counts its attempt against the account before the password is checked, in one statement that
 * also checks the address (countAttempt), and clears the account's counts on success: parallel guesses
 * cannot get past the count. The address is counted when the password proves wrong. The account is keyed
 * by the user's id once the login resolves, so `dave` and `dave@example.com` share one count; an unknown login is keyed by its
 * normalised spelling and costs the same work. A client authentication is only checked (one batched
 * read, the hot path) and counted when it fails; its secret has 256 bits, so the race cannot matter.
 * Keys and subjects are HMACs under a server key: no login names or addresses at rest, and a fixed length.
 */
const ADDRESS_FACTOR = 10;
const ACCOUNT_FACTOR = 4;
const ACCOUNT_MAX_DELAY_SECONDS = 60;

export interface LoginSubject {
  /** The resolved user's id, or (unknown login) the typed login, normalised here. */
  account: { userId: string } | { login: string };
  ip: string;
}

/** NFKC and a locale-free lower case: the same spelling family counts once, whatever the database folds. */
export function normaliseLogin(login: string): string {
  return login.normalize('NFKC').toLowerCase();
}

type Keyed = Pick<ServiceContext, 'throttleKey'>;

function hash(ctx: Keyed, ...parts: string[]): string {
  return hmacSha256Base64url(ctx.throttleKey, parts.join('\u0000'));
}

function accountSubject(ctx: Keyed, account: LoginSubject['account']): string {
  return 'userId' in account ? hash(ctx, 'login', 'user', account.userId) : hash(ctx, 'login', 'name', normaliseLogin(account.login));
}

function clientSubject(ctx: Keyed, clientId: string): string {
  return hash(ctx, 'client', clientId);
}

/** The window-long lock of a per-address or per-account-and-address key. */
function windowLock(ctx: ServiceContext, key: string, subject: string | null, free: number): ThrottleCounter {
  const window = ctx.config.lockoutDurationSeconds;
  return { key, subject, free, baseDelaySeconds: window, maxDelaySeconds: window };
}

function loginCounters(ctx: ServiceContext, subject: LoginSubject): ThrottleCounter[] {
  const max = ctx.config.lockoutMaxAttempts;
  const address = addressGroup(subject.ip);
  const account = accountSubject(ctx, subject.account);
  // Order: the attacker's own keys first (see countAttempt).
  return [
    windowLock(ctx, hash(ctx, 'login', 'ip', address), null, max * ADDRESS_FACTOR),
    windowLock(ctx, hash(ctx, 'login', 'pair', account, address), account, max),
    {
      key: account,
      subject: account,
      free: max * ACCOUNT_FACTOR,
      baseDelaySeconds: 1,
      maxDelaySeconds: Math.min(ACCOUNT_MAX_DELAY_SECONDS, ctx.config.lockoutDurationSeconds),
    },
  ];
}

function clientCounters(ctx: ServiceContext, clientId: string, ip: string): ThrottleCounter[] {
  const max = ctx.config.lockoutMaxAttempts;
  const address = addressGroup(ip);
  const client = clientSubject(ctx, clientId);
  return [
    windowLock(ctx, hash(ctx, 'client', 'ip', address), null, max * ADDRESS_FACTOR),
    windowLock(ctx, hash(ctx, 'client', 'pair', client, address), client, max),
  ];
}

async function refuse(ctx: ServiceContext, counters: readonly ThrottleCounter[]): Promise<never> {
  const seconds = await findLockSeconds(ctx.db, counters.map((c) => c.key));
  // The wait may have ended between the two statements; the caller retries in a second.
  throw new TooManyAttempts(Math.max(1, seconds));
}

export const loginThrottle = {
  /**
   * Counts the attempt against the account (from this address, and in all) before the password is checked;
   * throws TooManyAttempts while the address or the account waits. The address is only checked here and
   * counted on failure, so many people signing in at once behind one NAT do not lock it.
   */
  async reserve(ctx: ServiceContext, subject: LoginSubject): Promise<void> {
    const [address, pair, account] = loginCounters(ctx, subject);
    // Every key is checked first, so an attempt refused by the account's delay does not count against the
    // caller's own address (an owner retrying during a delay would lock itself out); under a race each
    // counted row is re-checked under its lock.
    if (!(await countAttempt(ctx.db, ctx.config.lockoutDurationSeconds, [pair!, account!], [address!.key, pair!.key, account!.key]))) {
      await refuse(ctx, [address!, pair!, account!]);
    }
  },
  /** The password was wrong: the address's count too. */
  async failed(ctx: ServiceContext, subject: LoginSubject): Promise<void> {
    const [address] = loginCounters(ctx, subject);
    await countAttempt(ctx.db, ctx.config.lockoutDurationSeconds, [address!]);
  },
  /** The password was right: the account's counts start over (the attempt counted in advance included). */
  async succeeded(ctx: ServiceContext, subject: LoginSubject): Promise<void> {
    const [, pair, account] = loginCounters(ctx, subject);
    await clearCounters(ctx.db, [pair!.key, account!.key]);
  },
};

export const clientThrottle = {
  /** Throws TooManyAttempts while this client from this address, or this address, waits (one batched read). */
  async check(ctx: ServiceContext, clientId: string, ip: string): Promise<void> {
    const seconds = await findLockSeconds(ctx.db, clientCounters(ctx, clientId, ip).map((c) => c.key));
    if (seconds > 0) throw new TooManyAttempts(seconds);
  },
  async failed(ctx: ServiceContext, clientId: string, ip: string): Promise<void> {
    await countAttempt(ctx.db, ctx.config.lockoutDurationSeconds, clientCounters(ctx, clientId, ip));
  },
};

/**
 * One-time codes (TOTP, recovery codes) after the password passed: the same machinery as the password,
 * on counters of their own (an `otp` prefix), so a six-digit code cannot be guessed faster than a
 * password: N wrong codes per account and address, then that address waits out the window; 4 N from all
 * addresses, then a progressive delay. The attempt is counted before the code is checked.
 */
function otpCounters(ctx: ServiceContext, userId: string, ip: string): ThrottleCounter[] {
  const max = ctx.config.lockoutMaxAttempts;
  const address = addressGroup(ip);
  const account = hash(ctx, 'otp', 'user', userId);
  return [
    windowLock(ctx, hash(ctx, 'otp', 'pair', account, address), account, max),
    {
      key: account,
      subject: account,
      free: max * ACCOUNT_FACTOR,
      baseDelaySeconds: 1,
      maxDelaySeconds: Math.min(ACCOUNT_MAX_DELAY_SECONDS, ctx.config.lockoutDurationSeconds),
    },
  ];
}

export const otpThrottle = {
  /** Counts the attempt before the code is checked; throws TooManyAttempts while the pair or account waits. */
  async reserve(ctx: ServiceContext, userId: string, ip: string): Promise<void> {
    const counters = otpCounters(ctx, userId, ip);
    if (!(await countAttempt(ctx.db, ctx.config.lockoutDurationSeconds, counters, counters.map((c) => c.key)))) {
      await refuse(ctx, counters);
    }
  },
  /** The code was right: the counts start over. */
  async succeeded(ctx: ServiceContext, userId: string, ip: string): Promise<void> {
    await clearCounters(ctx.db, otpCounters(ctx, userId, ip).map((c) => c.key));
  },
};

/** Admin unlock (POST /admin/users/:id/unlock): every count of the account, from every address. */
export async function unlockUser(ctx: Pick<ServiceContext, 'db' | 'throttleKey'>, userId: string): Promise<number> {
  // The one-time code counters too (otpThrottle), so an unlocked user can finish the second step.
  return (await clearSubject(ctx.db, accountSubject(ctx, { userId }))) + (await clearSubject(ctx.db, hash(ctx, 'otp', 'user', userId)));
}

/** Admin unlock (POST /admin/clients/:id/unlock): every count of the client, from every address. */
export function unlockClient(ctx: Pick<ServiceContext, 'db' | 'throttleKey'>, clientId: string): Promise<number> {
  return clearSubject(ctx.db, clientSubject(ctx, clientId));
}

/**
 * User codes of the device grant (RFC 8628 section 5.1): eight characters from twenty, about 34 bits, so
 * guessing is throttled per address. Every lookup counts (the attempt is counted before the code is
 * checked, in one statement, so parallel guesses cannot pass the count): 10 N lookups per address within
 * the window, then the address waits it out. A person enters a code once or twice; a guesser, over a
 * window, reaches a vanishing share of the live codes.
 */
function userCodeCounters(ctx: ServiceContext, ip: string): ThrottleCounter[] {
  return [windowLock(ctx, hash(ctx, 'device', 'ip', addressGroup(ip)), null, ctx.config.lockoutMaxAttempts * ADDRESS_FACTOR)];
}

export const userCodeThrottle = {
  /** Counts the lookup; throws TooManyAttempts while the address waits. */
  async reserve(ctx: ServiceContext, ip: string): Promise<void> {
    const counters = userCodeCounters(ctx, ip);
    if (!(await countAttempt(ctx.db, ctx.config.lockoutDurationSeconds, counters, counters.map((c) => c.key)))) {
      await refuse(ctx, counters);
    }
  },
};
