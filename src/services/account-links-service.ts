import { ROUTES, type RouteName } from '../config/routes.js';
import type { Queryable } from '../db/db.js';
import { isUniqueViolation } from '../errors/storage-errors.js';
import { constantTimeEqual, hmacSha256Base64url } from '../lib/crypto.js';
import { DEFAULT_LOCALE, negotiateLocale, type Locale } from '../lib/locales.js';
import { revokeGrantsOfUser } from '../repositories/grants-repository.js';
import { deleteSessionsOfUser } from '../repositories/sessions-repository.js';
import {
  consumeActionToken,
  countRecentActionTokens,
  findLiveActionToken,
  insertActionToken,
  supersedeActionTokens,
  type ActionPurpose,
  type ActionToken,
} from '../repositories/user-action-tokens-repository.js';
import {
  findUserById,
  findUserByIdForUpdate,
  findUserByLogin,
  findUserByUsername,
  insertUser,
  updateUser,
  type User,
} from '../repositories/users-repository.js';
import { hashOpaqueToken, newOpaqueToken } from '../tokens/opaque-token.js';
import type { ServiceContext } from './context.js';
import { sessionEnding } from './session-service.js';
import { enqueueMail } from './mail/mail-outbox.js';
import { hashPassword } from './password-hasher.js';
import { unlockUser } from './throttle-service.js';

/**
 * Email verification, password recovery, invitations and email changes: each is a single-use link
 * mailed to the user (issue 12 §2; SECURITY.md). A link carries 256 random bits; only their SHA-256 is
 * stored; it expires (EMAIL_VERIFICATION_EXPIRE_HOURS, PASSWORD_RESET_EXPIRE_MINUTES,
 * INVITATION_EXPIRE_HOURS) and is consumed by one conditional UPDATE, so two uses cannot both succeed. A
 * new link of a purpose supersedes the user's unused ones. The mail is queued in the transaction that
 * creates the link (src/services/mail/mail-outbox.ts): both commit or neither.
 */
type Ctx = Pick<ServiceContext, 'db' | 'config' | 'csrfKey' | 'throttleKey'>;

/** Resend limits, counted from the links in the database (shared by every replica). */
export const LINK_LIMITS = {
  /** At most one link of a kind per user in this many seconds. */
  minIntervalSeconds: 60,
  windowSeconds: 3600,
  /** Links of a kind per user per window. */
  perUser: 5,
  /** Links of any kind per address per window. */
  perAddress: 10,
} as const;

/** Which page a link of each purpose opens. */
const LINK_ROUTE: Record<ActionPurpose, RouteName> = {
  verify_email: 'verifyEmail',
  change_email: 'verifyEmail',
  reset_password: 'resetPassword',
  invitation: 'acceptInvitation',
};

/** The purposes a GET of each link page accepts: an email change is confirmed on the verification page. */
export const PURPOSES_OF: Record<'verifyEmail' | 'resetPassword' | 'acceptInvitation', readonly ActionPurpose[]> = {
  verifyEmail: ['verify_email', 'change_email'],
  resetPassword: ['reset_password'],
  acceptInvitation: ['invitation'],
};

/** The mail language of a message nobody asked for in a browser (admin actions): the user's own locale claim. */
export function localeOfUser(user: Pick<User, 'locale'>): Locale {
  return user.locale ? negotiateLocale(user.locale.replace('_', '-'), undefined) : DEFAULT_LOCALE;
}

function ttlOf(ctx: Pick<Ctx, 'config'>, purpose: ActionPurpose): number {
  const { accounts } = ctx.config;
  if (purpose === 'reset_password') return accounts.resetTtlSeconds;
  if (purpose === 'invitation') return accounts.invitationTtlSeconds;
  return accounts.verificationTtlSeconds;
}

function accountUrl(ctx: Pick<Ctx, 'config'>): string {
  return ctx.config.issuer + ROUTES.account;
}

/**
 * Creates a link (superseding the user's unused ones of the same purpose) and queues its mail, in `tx`.
 * `email` is where it goes: the user's address, or the new one of an email change.
 */
async function mailLink(
  ctx: Pick<Ctx, 'config'>,
  tx: Queryable,
  user: User,
  purpose: ActionPurpose,
  email: string,
  locale: Locale,
  interaction?: string,
): Promise<void> {
  const { value, hash } = newOpaqueToken();
  const ttlSeconds = ttlOf(ctx, purpose);
  await supersedeActionTokens(tx, user.id, [purpose]);
  await insertActionToken(tx, { tokenHash: hash, purpose, userId: user.id, email, ttlSeconds });
  // The pending sign-in the request came from (an id, bound to that browser's cookie): the page after the
  // reset can lead back to it.
  const back = interaction ? `&interaction=${encodeURIComponent(interaction)}` : '';
  const link = `${ctx.config.issuer}${ROUTES[LINK_ROUTE[purpose]]}?token=${value}${back}`;
  const username = user.username;
  if (purpose === 'reset_password') {
    await enqueueMail(tx, { to: email, template: 'password_reset', locale, data: { username, link, expiresMinutes: String(ttlSeconds / 60) } });
  } else if (purpose === 'invitation') {
    await enqueueMail(tx, { to: email, template: 'invitation', locale, data: { username, link, expiresHours: String(ttlSeconds / 3600) } });
  } else {
    await enqueueMail(tx, { to: email, template: 'email_verification', locale, data: { username, link, expiresMinutes: String(ttlSeconds / 60) } });
  }
}

/** Whether another link of these purposes may go to this user and address now (LINK_LIMITS). */
async function mayMail(tx: Queryable, userId: string, email: string, purposes: readonly ActionPurpose[]): Promise<boolean> {
  const recent = await countRecentActionTokens(tx, userId, email, purposes, LINK_LIMITS.windowSeconds);
  if (recent.sinceLast !== null && recent.sinceLast < LINK_LIMITS.minIntervalSeconds) return false;
  return recent.toUser < LINK_LIMITS.perUser && recent.toAddress < LINK_LIMITS.perAddress;
}

export type SendOutcome = 'sent' | 'throttled' | 'nothing_to_verify';

/**
 * A verification link to the user's current address, unless it is verified already (or there is none).
 * `limited`: the resend limits apply (a user asking); an administrator's request is not limited. The
 * user row is locked, so concurrent requests are counted one after the other.
 */
export async function sendVerificationLink(ctx: Ctx, userId: string, locale: Locale | undefined, limited: boolean): Promise<SendOutcome> {
  return ctx.db.transaction(async (tx) => {
    const user = await findUserByIdForUpdate(tx, userId);
    if (!user || !user.email || user.emailVerified) return 'nothing_to_verify';
    if (limited && !(await mayMail(tx, user.id, user.email, ['verify_email']))) return 'throttled';
    await mailLink(ctx, tx, user, 'verify_email', user.email, locale ?? localeOfUser(user));
    return 'sent';
  });
}

/** For a user just created (admin API, sign-up): the verification link in the creating transaction. */
export async function mailVerificationToNewUser(ctx: Pick<Ctx, 'config'>, tx: Queryable, user: User, locale: Locale): Promise<void> {
  if (user.email && !user.emailVerified) await mailLink(ctx, tx, user, 'verify_email', user.email, locale);
}

/** An invitation: a set-your-password link, which also verifies the address it was sent to. */
export async function sendInvitation(ctx: Ctx, userId: string): Promise<'sent' | 'no_email'> {
  return ctx.db.transaction(async (tx) => {
    const user = await findUserByIdForUpdate(tx, userId);
    if (!user?.email) return 'no_email';
    await mailLink(ctx, tx, user, 'invitation', user.email, localeOfUser(user));
    return 'sent';
  });
}

/** For a user just created with `invite: true`: the invitation in the creating transaction. */
export async function mailInvitationToNewUser(ctx: Pick<Ctx, 'config'>, tx: Queryable, user: User): Promise<void> {
  if (user.email) await mailLink(ctx, tx, user, 'invitation', user.email, localeOfUser(user));
}

/** An active user that a typed login names and that can receive mail, or undefined (same cost either way). */
async function mailableUser(ctx: Ctx, login: string): Promise<User | undefined> {
  const user = login.length > 0 && login.length <= 320 ? await findUserByLogin(ctx.db, login) : undefined;
  return user?.isActive && user.email ? user : undefined;
}

/**
 * "Forgot password?": a reset link to the account's address if the login names an active account with
 * one, within the resend limits; otherwise nothing. The caller answers the same either way (no
 * enumeration) and pads the time (src/lib/equal-time.ts). Returns the user id for the audit line only.
 */
export async function requestPasswordReset(ctx: Ctx, login: string, locale: Locale, interaction?: string): Promise<string | undefined> {
  const found = await mailableUser(ctx, login);
  if (!found) return undefined;
  return ctx.db.transaction(async (tx) => {
    const user = await findUserByIdForUpdate(tx, found.id);
    if (!user?.email || !user.isActive || !(await mayMail(tx, user.id, user.email, ['reset_password']))) return undefined;
    await mailLink(ctx, tx, user, 'reset_password', user.email, locale, interaction);
    return user.id;
  });
}

/** The sign-in page's "resend the verification link": like requestPasswordReset, silent on every refusal. */
export async function requestVerificationResend(ctx: Ctx, login: string, locale: Locale): Promise<string | undefined> {
  const found = await mailableUser(ctx, login);
  if (!found || found.emailVerified) return undefined;
  return (await sendVerificationLink(ctx, found.id, locale, true)) === 'sent' ? found.id : undefined;
}

/** The CSRF token of a link's form: an HMAC of the token's hash, so only a page this server rendered for the link can post it. */
export function linkCsrfToken(ctx: Pick<Ctx, 'csrfKey'>, token: string): string {
  return hmacSha256Base64url(ctx.csrfKey, `link:${hashOpaqueToken(token)}`);
}

export function checkLinkCsrfToken(ctx: Pick<Ctx, 'csrfKey'>, token: string, csrf: string | undefined): boolean {
  return csrf !== undefined && constantTimeEqual(csrf, linkCsrfToken(ctx, token));
}

/** A well-formed link token: what newOpaqueToken makes (43 base64url characters). */
export function isLinkToken(token: string | undefined): token is string {
  return token !== undefined && /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** The live link behind a GET, without using it up (a mail scanner's GET must not consume it). */
export async function peekLink(ctx: Pick<Ctx, 'db'>, token: string, purposes: readonly ActionPurpose[]): Promise<(ActionToken & { user: User }) | undefined> {
  const found = await findLiveActionToken(ctx.db, hashOpaqueToken(token), purposes);
  const user = found ? await findUserById(ctx.db, found.userId) : undefined;
  return found && user?.isActive ? { ...found, user } : undefined;
}

/**
 * Sets a new password through a reset or invitation link. In one transaction: the link is consumed, the
 * password set, the address marked verified when the link went to the user's current address (receiving
 * the link proves it), every session ended and every grant revoked with its access and refresh tokens (a
 * reset is what a user does when someone else may know the password), the account's sign-in throttle
 * cleared, and a password_changed mail queued. Undefined: the link was not live (used, expired, unknown).
 */
export async function setPasswordByLink(
  ctx: Ctx,
  token: string,
  purpose: 'reset_password' | 'invitation',
  password: string,
  locale: Locale,
): Promise<User | undefined> {
  // Hashed before the transaction: argon2 takes a while, and row locks should not.
  const passwordHash = await hashPassword(password);
  const user = await ctx.db.transaction(async (tx) => {
    const link = await consumeActionToken(tx, hashOpaqueToken(token), [purpose]);
    if (!link) return undefined;
    const user = await findUserByIdForUpdate(tx, link.userId);
    if (!user?.isActive) return undefined;
    const verified = user.emailVerified || (user.email !== null && user.email.toLowerCase() === link.email.toLowerCase());
    const updated = (await updateUser(tx, user.id, { passwordHash, emailVerified: verified }))!;
    await supersedeActionTokens(tx, user.id, ['reset_password', 'invitation']);
    await deleteSessionsOfUser(tx, user.id, sessionEnding(ctx));
    await revokeGrantsOfUser(tx, user.id);
    if (purpose === 'reset_password' && user.email) {
      await enqueueMail(tx, { to: user.email, template: 'password_changed', locale, data: { username: user.username, accountUrl: accountUrl(ctx) } });
    }
    return updated;
  });
  // The owner proved the address: a lockout from guessing (theirs or another's) ends with the reset.
  if (user) await unlockUser(ctx, user.id);
  return user;
}

export type VerifyOutcome =
  | { result: 'verified' | 'email_changed'; user: User }
  /** The link is not live, or the account no longer has the address it was sent to. */
  | { result: 'invalid' }
  /** An email change to an address that another account took meanwhile. */
  | { result: 'address_taken' };

/**
 * Uses a verification link: the address is verified if it is still the user's; a change_email link
 * makes its address the user's (verified: the link reached it).
 */
export async function verifyEmailByLink(ctx: Ctx, token: string): Promise<VerifyOutcome> {
  const hash = hashOpaqueToken(token);
  try {
    return await ctx.db.transaction(async (tx): Promise<VerifyOutcome> => {
      const link = await consumeActionToken(tx, hash, PURPOSES_OF.verifyEmail);
      if (!link) return { result: 'invalid' };
      const user = await findUserByIdForUpdate(tx, link.userId);
      if (!user?.isActive) return { result: 'invalid' };
      if (link.purpose === 'change_email') {
        const updated = (await updateUser(tx, user.id, { email: link.email, emailVerified: true }))!;
        await supersedeActionTokens(tx, user.id, ['verify_email', 'change_email']);
        return { result: 'email_changed', user: updated };
      }
      if (user.email?.toLowerCase() !== link.email.toLowerCase()) return { result: 'invalid' };
      return { result: 'verified', user: (await updateUser(tx, user.id, { emailVerified: true }))! };
    });
  } catch (err) {
    if (isUniqueViolation(err)) return { result: 'address_taken' };
    throw err;
  }
}

export type EmailChangeOutcome = 'sent' | 'throttled' | 'same_address';

/**
 * The account page's email change: a confirmation link to the new address and an email_changed notice to
 * the old one; the change applies only when the link is used. An address that another account holds gets
 * nothing, and the answer is the same as for a free one (no enumeration through the account page).
 */
export async function requestEmailChange(ctx: Ctx, userId: string, newEmail: string, locale: Locale): Promise<EmailChangeOutcome> {
  return ctx.db.transaction(async (tx) => {
    const user = (await findUserByIdForUpdate(tx, userId))!;
    if (user.email?.toLowerCase() === newEmail.toLowerCase()) return 'same_address';
    if (!(await mayMail(tx, user.id, newEmail, ['change_email']))) return 'throttled';
    if (await emailInUse(tx, newEmail)) return 'sent';
    await mailLink(ctx, tx, user, 'change_email', newEmail, locale);
    if (user.email) {
      await enqueueMail(tx, { to: user.email, template: 'email_changed', locale, data: { username: user.username, newEmail, accountUrl: accountUrl(ctx) } });
    }
    return 'sent';
  });
}

async function emailInUse(tx: Queryable, email: string): Promise<boolean> {
  return (await findUserByLogin(tx, email))?.email?.toLowerCase() === email.toLowerCase();
}

export type SignUpOutcome = { result: 'created'; user: User } | { result: 'address_in_use' } | { result: 'username_taken' };

/**
 * Self-registration (REGISTRATION_ENABLED). A taken username is said to be taken (usernames are how people
 * sign in and are shown to applications; hiding them would only make sign-up guesswork). An address that
 * is in use gets the same answer as a free one — the owner is mailed a password reset link instead — so
 * the form does not tell who has an account here. The new user gets a verification link.
 */
export async function signUp(ctx: Ctx, input: { username: string; email: string; password: string }, locale: Locale): Promise<SignUpOutcome> {
  const passwordHash = await hashPassword(input.password);
  if (await findUserByUsername(ctx.db, input.username)) return { result: 'username_taken' };
  try {
    return await ctx.db.transaction(async (tx): Promise<SignUpOutcome> => {
      const owner = await findUserByLogin(tx, input.email);
      if (owner && owner.email?.toLowerCase() === input.email.toLowerCase()) {
        const locked = (await findUserByIdForUpdate(tx, owner.id))!;
        if (locked.isActive && locked.email && (await mayMail(tx, locked.id, locked.email, ['reset_password']))) {
          await mailLink(ctx, tx, locked, 'reset_password', locked.email, locale);
        }
        return { result: 'address_in_use' };
      }
      const user = await insertUser(tx, { username: input.username, email: input.email, emailVerified: false, passwordHash });
      await mailVerificationToNewUser(ctx, tx, user, locale);
      return { result: 'created', user };
    });
  } catch (err) {
    // A concurrent sign-up took the name or the address between the checks and the insert.
    if (isUniqueViolation(err)) {
      return (err as { constraint?: string }).constraint === 'users_email_key' ? { result: 'address_in_use' } : { result: 'username_taken' };
    }
    throw err;
  }
}
