import type { Queryable } from '../../db/db.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors/admin-errors.js';
import { isUniqueViolation } from '../../errors/storage-errors.js';
import {
  deleteUser as deleteUserRow,
  findUserByEmail,
  findUserById,
  findUserByIdForUpdate,
  findUserByUsername,
  insertUser,
  searchUsers,
  updateUser as updateUserRow,
  type User,
  type UserFields,
} from '../../repositories/users-repository.js';
import { localeOfUser, mailInvitationToNewUser, mailVerificationToNewUser, sendInvitation, sendVerificationLink } from '../account-links-service.js';
import type { ServiceContext } from '../context.js';
import { resetSecondFactors } from '../mfa-service.js';
import { hashPassword } from '../password-hasher.js';
import { sessionEnding } from '../session-service.js';
import { deleteSessionsOfUser } from '../../repositories/sessions-repository.js';
import { unlockUser } from '../throttle-service.js';
import type { Page, PageRequest } from './pagination.js';
import { assertMayAssignIsAdmin, assertMayChangeUser, assertMayUseUsername, type AdminCaller } from './privilege-rules.js';

type Ctx = Pick<ServiceContext, 'db' | 'config'>;

/** Profile and account fields an administrator may set; the password goes through its own functions. */
export type UserProfile = Omit<UserFields, 'passwordHash'>;
export type NewUserInput = Partial<UserProfile> & { username: string; password?: string; invite?: boolean };

// Postgres does not accept every string as a uuid (error 22P02): an id that is not one names no user.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function conflictFor(err: unknown): Conflict {
  const constraint = (err as { constraint?: string }).constraint;
  return constraint === 'users_email_key'
    ? new Conflict('a user with this email already exists', { email: 'already taken' })
    : new Conflict('a user with this username already exists', { username: 'already taken' });
}

async function translateConflicts<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflictFor(err);
    throw err;
  }
}

export async function createUser(ctx: Ctx, caller: AdminCaller, input: NewUserInput): Promise<User> {
  assertMayAssignIsAdmin(caller, input.isAdmin);
  assertMayUseUsername(caller, input.username, ctx.config.admin.username);
  const { password, invite, ...profile } = input;
  if (invite && !profile.email) throw new ValidationFailed({ invite: 'an invitation needs an email address' });
  if (invite && !ctx.config.accounts.mailAvailable) throw new Conflict(NO_MAIL);
  const passwordHash = password === undefined ? undefined : await hashPassword(password);
  // The user and its first mail commit together: an invitation (set your password, which also confirms the
  // address) or, for an address not marked verified, a confirmation link (issue 12 §2).
  return translateConflicts(
    ctx.db.transaction(async (tx) => {
      const user = await insertUser(tx, { ...profile, passwordHash });
      if (invite) await mailInvitationToNewUser(ctx, tx, user);
      else if (ctx.config.accounts.mailAvailable) await mailVerificationToNewUser(ctx, tx, user, localeOfUser(user));
      return user;
    }),
  );
}

const NO_MAIL = 'no mail server is configured (SMTP_HOST or SMTP_URL)';

/** POST /admin/users/:id/invite: a set-your-password link to the user's address. */
export async function inviteUser(ctx: Pick<ServiceContext, 'db' | 'config' | 'csrfKey' | 'throttleKey'>, caller: AdminCaller, id: string): Promise<void> {
  const user = await getUser(ctx, id);
  assertMayChangeUser(caller, user);
  if (!ctx.config.accounts.mailAvailable) throw new Conflict(NO_MAIL);
  if ((await sendInvitation(ctx, user.id)) === 'no_email') throw new Conflict('the user has no email address', { email: 'missing' });
}

/** POST /admin/users/:id/send-verification: a confirmation link to the user's unconfirmed address. */
export async function sendUserVerification(ctx: Pick<ServiceContext, 'db' | 'config' | 'csrfKey' | 'throttleKey'>, id: string): Promise<void> {
  const user = await getUser(ctx, id);
  if (!ctx.config.accounts.mailAvailable) throw new Conflict(NO_MAIL);
  if ((await sendVerificationLink(ctx, user.id, undefined, false)) === 'nothing_to_verify') {
    throw new Conflict('the user has no unverified email address', { email: user.email ? 'already verified' : 'missing' });
  }
}

export function listUsers(ctx: Ctx, query: string | undefined, page: PageRequest): Promise<Page<User>> {
  return searchUsers(ctx.db, query, page);
}

/**
 * The user an admin path names (`/admin/users/{user}`): a UUID that is a user's id, else a username (whole,
 * any case: usernames are unique case-insensitively), else an email address held by exactly one user (any
 * case); else 404. In that order, so a username that looks like a UUID or an email address still works.
 */
export async function findUserByReference(ctx: Pick<ServiceContext, 'db'>, reference: string): Promise<User> {
  const user =
    (UUID.test(reference) ? await findUserById(ctx.db, reference) : undefined) ??
    (await findUserByUsername(ctx.db, reference)) ??
    (reference.includes('@') ? await findUserByEmail(ctx.db, reference) : undefined);
  if (!user) throw new NotFound('user');
  return user;
}

export async function getUser(ctx: Pick<ServiceContext, 'db'>, id: string): Promise<User> {
  const user = UUID.test(id) ? await findUserById(ctx.db, id) : undefined;
  if (!user) throw new NotFound('user');
  return user;
}

/**
 * Runs `change` on the user locked FOR UPDATE, after the privilege rules have passed on that row: a
 * concurrent promotion to administrator cannot slip in between the check and the write.
 */
async function changeUser<T>(ctx: Ctx, caller: AdminCaller, id: string, change: (tx: Queryable, user: User) => Promise<T>): Promise<T> {
  if (!UUID.test(id)) throw new NotFound('user');
  return ctx.db.transaction(async (tx) => {
    const user = await findUserByIdForUpdate(tx, id);
    if (!user) throw new NotFound('user');
    assertMayChangeUser(caller, user);
    return change(tx, user);
  });
}

export async function updateUser(ctx: Ctx, caller: AdminCaller, id: string, changes: Partial<UserProfile>): Promise<User> {
  return changeUser(ctx, caller, id, async (tx, user) => {
    assertMayAssignIsAdmin(caller, changes.isAdmin, user.id);
    assertMayUseUsername(caller, changes.username, ctx.config.admin.username, user.id);
    // A new address is not verified by the old one's confirmation: unless the admin says it is (the same
    // request sets email_verified), the user confirms it before REQUIRE_EMAIL_VERIFICATION lets them in.
    const newEmail = changes.email !== undefined && changes.email?.toLowerCase() !== user.email?.toLowerCase();
    const withVerification = newEmail && changes.emailVerified === undefined ? { ...changes, emailVerified: false } : changes;
    const updated = (await translateConflicts(updateUserRow(tx, id, withVerification)))!;
    // A disabled user's sessions end now rather than lie dormant until re-enabled, and the clients of those
    // sessions are told (OIDC Back-Channel Logout 1.0 section 2.5).
    if (user.isActive && changes.isActive === false) await deleteSessionsOfUser(tx, id, sessionEnding(ctx));
    return updated;
  });
}

export async function setUserPassword(ctx: Ctx, caller: AdminCaller, id: string, password: string): Promise<void> {
  // Hashed before the row is locked: argon2 takes a while, and the lock should not.
  const passwordHash = UUID.test(id) ? await hashPassword(password) : undefined;
  await changeUser(ctx, caller, id, (tx) => updateUserRow(tx, id, { passwordHash }));
}

export async function deleteUser(ctx: Ctx, caller: AdminCaller, id: string): Promise<void> {
  await changeUser(ctx, caller, id, async (tx) => {
    // The sessions would go with the user (ON DELETE CASCADE); ended first so that their clients are told.
    await deleteSessionsOfUser(tx, id, sessionEnding(ctx));
    return deleteUserRow(tx, id);
  });
}

/** Clears the user's failed sign-in counts from every address (the brute-force throttle); 404 if unknown. */
export async function unlockUserSignIn(ctx: Pick<ServiceContext, 'db' | 'throttleKey'>, id: string): Promise<number> {
  const user = await getUser(ctx, id);
  return unlockUser(ctx, user.id);
}

/**
 * Removes the user's second factors (TOTP and recovery codes; passkeys once merged, see
 * deleteAllSecondFactors) so a user who lost them can sign in with the password and set up new ones;
 * the user gets the mfa_changed mail. 404 if unknown. Returns how many kinds of factor were removed.
 */
export async function resetUserFactors(ctx: ServiceContext, id: string): Promise<number> {
  const user = await getUser(ctx, id);
  return resetSecondFactors(ctx, user);
}
