import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { decryptAesGcm, encryptAesGcm, hmacSha256Base64url } from '../lib/crypto.js';
import type { Locale } from '../lib/locales.js';
import {
  consumeRecoveryCode,
  consumeTotpStep,
  countUnusedRecoveryCodes,
  deleteAllSecondFactors,
  deleteRecoveryCodes,
  deleteTotp,
  findTotp,
  replaceRecoveryCodes,
  upsertPendingTotp,
} from '../repositories/mfa-repository.js';
import type { User } from '../repositories/users-repository.js';
import type { ServiceContext } from './context.js';
import { enqueueMail } from './mail/mail-outbox.js';
import { otpThrottle } from './throttle-service.js';

/**
 * TOTP (RFC 6238) with the parameters every authenticator app understands: HMAC-SHA-1, 6 digits, 30 s
 * (RFC 6238 section 4 and the Key Uri Format of Google Authenticator; apps ignore other values or get
 * them wrong). The secret has 160 bits (RFC 4226 section 4 recommends it). A code is accepted for the
 * current step and one step either side (RFC 6238 section 5.2 allows one for network delay and clock
 * drift), and a step is accepted once: the last accepted step is stored and compared atomically.
 */
const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const TOTP_WINDOW = 1;
const SECRET_BYTES = 20;

export const RECOVERY_CODE_COUNT = 10;
/** Crockford-like base32 without look-alikes (0/o, 1/l/i): 10 characters = 50 bits per code. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** A recovery code as typed, once spaces and dashes are gone and letters lower-cased. */
const RECOVERY_CODE = /^[a-z0-9]{10}$/;
const TOTP_CODE = /^\d{6}$/;

export type MfaChange = 'totp_enabled' | 'totp_disabled' | 'recovery_codes_regenerated' | 'factors_reset';

/** The secret is bound to its user: an envelope copied to another user's row does not decrypt. */
function aad(userId: string): string {
  return `totp:${userId}`;
}

function totpFor(ctx: ServiceContext, secretBase32: string, label = ''): TOTP {
  return new TOTP({ ...TOTP_PARAMS, issuer: ctx.config.issuer.replace(/^https?:\/\//, ''), label, secret: Secret.fromBase32(secretBase32) });
}

/** What an enrolment page shows: the secret for manual entry, and the otpauth URI as a QR code (SVG). */
export interface TotpEnrolment {
  secret: string;
  uri: string;
  qrSvg: string;
}

/**
 * The pending enrolment of a user (started now if none is pending); undefined when TOTP is already on.
 * Reloading the page shows the same secret until it is confirmed.
 */
export async function pendingTotpEnrolment(ctx: ServiceContext, user: User, issuerName: string): Promise<TotpEnrolment | undefined> {
  const existing = await findTotp(ctx.db, user.id);
  if (existing?.confirmedAt) return undefined;
  let secret: string | undefined;
  if (existing) {
    try {
      secret = decryptAesGcm(ctx.totpKey, existing.secretCiphertext, aad(user.id));
    } catch {
      // Written under another server secret: a new pending secret replaces it.
    }
  }
  if (secret === undefined) {
    secret = new Secret({ size: SECRET_BYTES }).base32;
    if (!(await upsertPendingTotp(ctx.db, user.id, encryptAesGcm(ctx.totpKey, secret, aad(user.id))))) return undefined;
  }
  const totp = totpFor(ctx, secret, user.username);
  totp.issuer = issuerName;
  const uri = totp.toString();
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, uri, qrSvg };
}

/**
 * Checks a TOTP code and, when it is right, uses its step up atomically. `confirm`: the first code of a
 * pending enrolment (which it confirms). Not throttled here: callers go through verifyOneTimeCode or
 * throttle themselves.
 */
async function checkTotp(ctx: ServiceContext, userId: string, code: string, confirm: boolean): Promise<boolean> {
  if (!TOTP_CODE.test(code)) return false;
  const record = await findTotp(ctx.db, userId);
  if (!record || Boolean(record.confirmedAt) === confirm) return false;
  let secret: string;
  try {
    secret = decryptAesGcm(ctx.totpKey, record.secretCiphertext, aad(userId));
  } catch {
    // A changed server secret makes the authenticator unusable; recovery codes or an admin reset help.
    return false;
  }
  const timestamp = ctx.now();
  const delta = TOTP.validate({ ...TOTP_PARAMS, token: code, secret: Secret.fromBase32(secret), timestamp, window: TOTP_WINDOW });
  if (delta === null) return false;
  const step = TOTP.counter({ period: TOTP_PARAMS.period, timestamp }) + delta;
  return consumeTotpStep(ctx.db, userId, step, confirm);
}

function normaliseRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]/g, '');
}

function recoveryCodeHash(ctx: ServiceContext, userId: string, code: string): string {
  // 50 random bits per code, keyed by a server key and bound to the user: a copy of the table alone
  // cannot be searched offline.
  return hmacSha256Base64url(ctx.totpKey, `recovery:${userId}:${normaliseRecoveryCode(code)}`);
}

function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

export async function regenerateRecoveryCodes(ctx: ServiceContext, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await ctx.db.transaction((tx) => replaceRecoveryCodes(tx, userId, codes.map((c) => recoveryCodeHash(ctx, userId, c))));
  return codes;
}

export function unusedRecoveryCodes(ctx: ServiceContext, userId: string): Promise<number> {
  return countUnusedRecoveryCodes(ctx.db, userId);
}

/** What the account's security overview (/account/security) shows of one-time codes. */
export async function totpStatus(ctx: ServiceContext, userId: string): Promise<{ enabled: boolean; recoveryCodesLeft: number }> {
  const record = await findTotp(ctx.db, userId);
  const enabled = Boolean(record?.confirmedAt);
  return { enabled, recoveryCodesLeft: enabled ? await countUnusedRecoveryCodes(ctx.db, userId) : 0 };
}

/** Which kind of code passed. Both give amr `otp` (RFC 8176 has no value for a recovery code). */
export type OneTimeCodeKind = 'totp' | 'recovery_code';

/**
 * The second step of a sign-in (or a confirmation on the account page): a TOTP code or a recovery code.
 * Throttled per account and address before anything is checked (throws TooManyAttempts); undefined when
 * the code is wrong or used.
 */
export async function verifyOneTimeCode(ctx: ServiceContext, userId: string, code: string, ip: string): Promise<OneTimeCodeKind | undefined> {
  const input = code.trim().slice(0, 64);
  await otpThrottle.reserve(ctx, userId, ip);
  let kind: OneTimeCodeKind | undefined;
  if (TOTP_CODE.test(input)) {
    if (await checkTotp(ctx, userId, input, false)) kind = 'totp';
  } else if (RECOVERY_CODE.test(normaliseRecoveryCode(input))) {
    if (await consumeRecoveryCode(ctx.db, userId, recoveryCodeHash(ctx, userId, input))) kind = 'recovery_code';
  }
  ctx.metrics.mfaVerifications.inc({ result: kind ?? 'failure' });
  if (kind) await otpThrottle.succeeded(ctx, userId, ip);
  return kind;
}

/**
 * Confirms a pending enrolment with its first code (throttled like any code): TOTP is on from then,
 * and the user gets new recovery codes, returned once to be shown once.
 */
export async function confirmTotpEnrolment(
  ctx: ServiceContext,
  user: User,
  code: string,
  ip: string,
  locale: Locale,
): Promise<string[] | undefined> {
  await otpThrottle.reserve(ctx, user.id, ip);
  if (!(await checkTotp(ctx, user.id, code.trim(), true))) {
    ctx.metrics.mfaVerifications.inc({ result: 'failure' });
    return undefined;
  }
  await otpThrottle.succeeded(ctx, user.id, ip);
  const codes = await regenerateRecoveryCodes(ctx, user.id);
  await mailMfaChange(ctx, user, 'totp_enabled', locale);
  return codes;
}

/** Turns TOTP off and removes the recovery codes (they belong to it). */
export async function disableTotp(ctx: ServiceContext, user: User, locale: Locale): Promise<boolean> {
  const removed = await ctx.db.transaction(async (tx) => {
    const had = await deleteTotp(tx, user.id);
    await deleteRecoveryCodes(tx, user.id);
    return had;
  });
  if (removed) await mailMfaChange(ctx, user, 'totp_disabled', locale);
  return removed;
}

/** Admin reset: every second factor of the user goes (see deleteAllSecondFactors); the user is told. */
export async function resetSecondFactors(ctx: ServiceContext, user: User, locale: Locale = 'en'): Promise<number> {
  const removed = await ctx.db.transaction((tx) => deleteAllSecondFactors(tx, user.id));
  await mailMfaChange(ctx, user, 'factors_reset', locale);
  return removed;
}

/** The mfa_changed mail (data keys fixed by the mail part): only to a user who has an address. */
export async function mailMfaChange(ctx: ServiceContext, user: User, change: MfaChange, locale: Locale): Promise<void> {
  if (!user.email) return;
  await enqueueMail(ctx.db, {
    to: user.email,
    template: 'mfa_changed',
    locale,
    data: { username: user.username, change, accountUrl: `${ctx.config.issuer}/account/security` },
  });
}
