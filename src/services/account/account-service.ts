import { passwordProblem, type PasswordProblem } from '../../lib/password-rules.js';
import type { Locale } from '../../lib/locales.js';
import { findClient, type Client } from '../../repositories/clients-repository.js';
import { deleteConsent, listConsentsOfUser } from '../../repositories/consents-repository.js';
import { revokeGrantsOfUserForClient, summarizeLiveGrantsOfUser } from '../../repositories/grants-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import {
  deleteOtherSessionsOfUser,
  deleteSessionOfUser,
  listLiveSessionsOfUser,
  type Session,
} from '../../repositories/sessions-repository.js';
import { findUserByIdForUpdate, updateUser, type User } from '../../repositories/users-repository.js';
import type { ServiceContext } from '../context.js';
import { sessionEnding } from '../session-service.js';
import { enqueueMail } from '../mail/mail-outbox.js';
import { hashPassword, verifyPassword } from '../password-hasher.js';
import { loginThrottle } from '../throttle-service.js';
import { ACCOUNT_CLIENT_ID } from './account-client.js';

/**
 * What a signed-in user may do to their own account (issue 12 §4). Every function takes the user's id from
 * the session, never from the form: a session or client id in a form only ever names something of that
 * user, so another user's id is indistinguishable from an unknown one (no IDOR).
 */

/** The profile claims a user edits on the account page (OpenID Connect Core section 5.1); null clears one. */
export interface ProfileChanges {
  name: string | null;
  givenName: string | null;
  familyName: string | null;
}

export async function updateProfile(ctx: Pick<ServiceContext, 'db'>, userId: string, changes: ProfileChanges): Promise<User | undefined> {
  return updateUser(ctx.db, userId, changes);
}

export type PasswordChangeResult =
  | { outcome: 'changed'; otherSessionsEnded: number }
  | { outcome: 'wrong_password' }
  /** The account has no password: it gets its first one through the recovery mail, which proves it is the user's. */
  | { outcome: 'no_password' }
  | { outcome: 'invalid'; problem: PasswordProblem };

/**
 * Changes the password after checking the current one. The check is a password guess like a sign-in, so
 * it goes through the same throttle (per account and address; TooManyAttempts while it waits): a stolen
 * session cookie does not become an unthrottled oracle for the password. The new hash, the end of every
 * other session (someone who knew the old password is signed out) and the password_changed mail are one
 * transaction: the mail reports a change that happened.
 */
export async function changePassword(
  ctx: ServiceContext,
  input: { user: User; session: Session; currentPassword: string; newPassword: string; ip: string; locale: Locale; accountUrl: string },
): Promise<PasswordChangeResult> {
  const { user, session } = input;
  // A session alone does not set a first password: a stolen cookie would become a lasting credential.
  if (user.passwordHash === null) return { outcome: 'no_password' };
  const subject = { account: { userId: user.id }, ip: input.ip };
  await loginThrottle.reserve(ctx, subject);
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    await loginThrottle.failed(ctx, subject);
    return { outcome: 'wrong_password' };
  }
  await loginThrottle.succeeded(ctx, subject);
  const problem = passwordProblem(input.newPassword);
  if (problem) return { outcome: 'invalid', problem };
  const passwordHash = await hashPassword(input.newPassword);
  const otherSessionsEnded = await ctx.db.transaction(async (tx) => {
    const locked = await findUserByIdForUpdate(tx, user.id);
    if (!locked) return 0;
    await updateUser(tx, user.id, { passwordHash });
    const ended = await deleteOtherSessionsOfUser(tx, user.id, session.sid, sessionEnding(ctx));
    if (locked.email) {
      await enqueueMail(tx, {
        to: locked.email,
        template: 'password_changed',
        locale: input.locale,
        data: { username: locked.username, accountUrl: input.accountUrl },
      });
    }
    return ended;
  });
  return { outcome: 'changed', otherSessionsEnded };
}

/** The user's live sessions, newest first (a user has few; the page shows up to 100). */
export async function listOwnSessions(ctx: Pick<ServiceContext, 'db'>, userId: string): Promise<Session[]> {
  return (await listLiveSessionsOfUser(ctx.db, userId, { limit: 100 })).items;
}

/** Ends one of the user's own sessions; false when the user has no session with that id. */
export function endOwnSession(ctx: Pick<ServiceContext, 'db' | 'config'>, userId: string, sid: string): Promise<boolean> {
  return deleteSessionOfUser(ctx.db, userId, sid, sessionEnding(ctx));
}

export function endOtherSessions(ctx: Pick<ServiceContext, 'db' | 'config'>, userId: string, currentSid: string): Promise<number> {
  return deleteOtherSessionsOfUser(ctx.db, userId, currentSid, sessionEnding(ctx));
}

/** An application the user let in: what it may do (the scopes, with their descriptions) and since when. */
export interface ConnectedApplication {
  client: Client;
  /** Sign-in (openid) first, then by name; the description when the scope registry has one. */
  scopes: { name: string; description: string | undefined }[];
  since: Date;
}

/**
 * Every client the user consented to or holds an unrevoked grant for, oldest first. The account page's own
 * client is not listed: it holds no tokens (its codes are used up at the callback) and is Authly itself.
 */
export async function listConnectedApplications(ctx: Pick<ServiceContext, 'db'>, userId: string): Promise<ConnectedApplication[]> {
  const byClient = new Map<string, { scopes: Set<string>; since: Date }>();
  const add = (clientId: string, scopes: readonly string[], since: Date) => {
    if (clientId === ACCOUNT_CLIENT_ID) return;
    const entry = byClient.get(clientId) ?? { scopes: new Set<string>(), since };
    scopes.forEach((s) => entry.scopes.add(s));
    if (since < entry.since) entry.since = since;
    byClient.set(clientId, entry);
  };
  for (const consent of await listConsentsOfUser(ctx.db, userId)) add(consent.clientId, consent.scopes, new Date(consent.createdAt));
  for (const grant of await summarizeLiveGrantsOfUser(ctx.db, userId)) add(grant.clientId, grant.scopes, grant.since);

  const applications: ConnectedApplication[] = [];
  for (const [clientId, entry] of byClient) {
    const client = await findClient(ctx.db, clientId);
    if (!client) continue;
    const names = [...entry.scopes].sort((a, b) => Number(b === 'openid') - Number(a === 'openid') || a.localeCompare(b));
    const known = new Map((await findScopes(ctx.db, names)).map((s) => [s.name, s.description]));
    // A scope the registry no longer describes is still shown, by name: the user should see all it may do.
    const scopes = names.map((name) => ({ name, description: known.get(name) || undefined }));
    applications.push({ client, scopes, since: entry.since });
  }
  return applications.sort((a, b) => a.since.getTime() - b.since.getTime() || a.client.clientId.localeCompare(b.client.clientId));
}

/**
 * "Revoke access": the consent is forgotten and every grant of this user to the client is revoked with
 * every access and refresh token issued under it, in one transaction. The client, or undefined when the
 * user had let no such client in (an unknown client and another user's look the same).
 */
export async function revokeApplication(ctx: Pick<ServiceContext, 'db'>, userId: string, clientId: string): Promise<Client | undefined> {
  if (clientId === ACCOUNT_CLIENT_ID || clientId.length > 2048 || clientId.includes('\u0000')) return undefined;
  const client = await findClient(ctx.db, clientId);
  if (!client) return undefined;
  const revoked = await ctx.db.transaction(async (tx) => {
    const consented = await deleteConsent(tx, userId, clientId);
    const grants = await revokeGrantsOfUserForClient(tx, userId, clientId);
    return consented || grants > 0;
  });
  return revoked ? client : undefined;
}
