import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import type { User } from '../../repositories/users-repository.js';
import {
  createUser,
  deleteUser,
  getUser,
  inviteUser,
  listUsers,
  sendUserVerification,
  setUserPassword,
  resetUserFactors,
  unlockUserSignIn,
  updateUser,
} from '../../services/admin/user-admin-service.js';
import { audited, callerOf } from './admin-auth.js';
import { resolveUserParam } from './user-param.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../lib/password-rules.js';
import { camelKeys, httpUrl, page, pageQuery, parseInput, text, toWire } from './admin-wire.js';

// argon2 cost does not depend on length, but an upper bound keeps request bodies honest.
const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { message: `expected at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(PASSWORD_MAX_LENGTH);

// Claim names of OpenID Connect Core section 5.1; null clears a field.
const profile = {
  email: z.email({ message: 'expected an email address' }).max(320).nullable(),
  email_verified: z.boolean(),
  name: text().nullable(),
  given_name: text().nullable(),
  family_name: text().nullable(),
  middle_name: text().nullable(),
  nickname: text().nullable(),
  picture: httpUrl.nullable(),
  website: httpUrl.nullable(),
  gender: text(64).nullable(),
  birthdate: z
    .string()
    .regex(/^\d{4}(-\d{2}-\d{2})?$/, { message: 'expected YYYY-MM-DD or YYYY' })
    .nullable(),
  zoneinfo: text(64).nullable(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, { message: 'expected a BCP 47 language tag such as en-US' })
    .nullable(),
  phone_number: z
    .string()
    .regex(/^\+?[0-9][0-9 ().-]{2,31}$/, { message: 'expected a phone number, preferably E.164 such as +14155550100' })
    .nullable(),
  phone_number_verified: z.boolean(),
  address: z
    .strictObject({
      formatted: text(1000),
      street_address: text(1000),
      locality: text(),
      region: text(),
      postal_code: text(64),
      country: text(),
    })
    .partial()
    .nullable(),
  is_admin: z.boolean(),
  is_active: z.boolean(),
};

const username = z
  .string()
  .regex(/^[\p{L}\p{N}._@+-]{1,255}$/u, { message: 'expected 1 to 255 letters, digits or . _ @ + -' });

const createBody = z.strictObject({ ...z.object(profile).partial().shape, username, password: password.optional(), invite: z.boolean().optional() });
const updateBody = z.strictObject({ ...profile, username }).partial();
const passwordBody = z.strictObject({ password });
const listQuery = z.strictObject({ ...pageQuery, q: z.string().max(200).optional() });

const USER_FIELDS = [
  'id',
  'username',
  'email',
  'emailVerified',
  'name',
  'givenName',
  'familyName',
  'middleName',
  'nickname',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phoneNumber',
  'phoneNumberVerified',
  'address',
  'isAdmin',
  'isActive',
  'lastLoginAt',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof User)[];

/** The password hash never leaves the server; has_password tells whether the user can log in with one. */
export const presentUser = (user: User) => ({ ...toWire(user, USER_FIELDS), has_password: user.passwordHash !== null });

type WithId = { Params: { id: string } };

export async function usersRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:users:read' as const } };
  const write = { config: { adminScope: 'admin:users:write' as const } };
  resolveUserParam(app);

  app.get('/users', read, async (request) => {
    const { q, ...query } = parseInput(listQuery, request.query, 'query');
    return page(await listUsers(ctx, q, query), query, presentUser);
  });

  app.post('/users', write, async (request, reply) => {
    const input = camelKeys(parseInput(createBody, request.body, 'body'));
    const user = await audited(request, 'user.created', (tx) => createUser(tx, callerOf(request), input), (created) => ({ user_id: created.id }), {
      kind: 'user',
      idOf: (created) => created.id,
    });
    return reply.code(201).header('location', `${ROUTES.admin}/users/${user.id}`).send(presentUser(user));
  });

  app.get<WithId>('/users/:id', read, async (request) => presentUser(await getUser(ctx, request.params.id)));

  app.patch<WithId>('/users/:id', write, async (request) => {
    const changes = camelKeys(parseInput(updateBody, request.body, 'body'));
    const user = await audited(
      request,
      'user.updated',
      (tx) => updateUser(tx, callerOf(request), request.params.id, changes),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return presentUser(user);
  });

  app.delete<WithId>('/users/:id', write, async (request, reply) => {
    await audited(
      request,
      'user.deleted',
      (tx) => deleteUser(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });

  app.post<WithId>('/users/:id/password', write, async (request, reply) => {
    const body = parseInput(passwordBody, request.body, 'body');
    await audited(
      request,
      'user.password_set',
      (tx) => setUserPassword(tx, callerOf(request), request.params.id, body.password),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });

  // Issue 12 §2: a set-your-password link (which also confirms the address), or a confirmation link.
  app.post<WithId>('/users/:id/invite', write, async (request, reply) => {
    await audited(
      request,
      'user.invited',
      (tx) => inviteUser(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(202).send({ user_id: request.params.id, sent: 'invitation' });
  });

  app.post<WithId>('/users/:id/send-verification', write, async (request, reply) => {
    await audited(
      request,
      'user.verification_sent',
      (tx) => sendUserVerification(tx, request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(202).send({ user_id: request.params.id, sent: 'email_verification' });
  });

  // Clears the brute-force throttle's counts for this account, from every address.
  app.post<WithId>('/users/:id/unlock', write, async (request) => {
    const cleared = await audited(
      request,
      'user.unlocked',
      (tx) => unlockUserSignIn(tx, request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return { user_id: request.params.id, cleared };
  });

  // A user who lost their authenticator: TOTP and recovery codes go; the password stays.
  app.post<WithId>('/users/:id/reset-factors', write, async (request) => {
    const removed = await audited(
      request,
      'user.factors_reset',
      (tx) => resetUserFactors(tx, request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return { user_id: request.params.id, removed };
  });
}
