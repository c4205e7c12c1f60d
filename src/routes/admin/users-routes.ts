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
import { adminRoute, pageOf, timestamp } from './admin-schema.js';
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

/** What presentUser sends (USER_FIELDS in snake_case, and has_password), for the OpenAPI document. */
export const userView = z.strictObject({
  id: z.uuid(),
  username: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  name: z.string().nullable(),
  given_name: z.string().nullable(),
  family_name: z.string().nullable(),
  middle_name: z.string().nullable(),
  nickname: z.string().nullable(),
  picture: z.string().nullable(),
  website: z.string().nullable(),
  gender: z.string().nullable(),
  birthdate: z.string().nullable(),
  zoneinfo: z.string().nullable(),
  locale: z.string().nullable(),
  phone_number: z.string().nullable(),
  phone_number_verified: z.boolean(),
  address: z
    .strictObject({ formatted: z.string(), street_address: z.string(), locality: z.string(), region: z.string(), postal_code: z.string(), country: z.string() })
    .partial()
    .nullable(),
  is_admin: z.boolean(),
  is_active: z.boolean(),
  last_login_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  has_password: z.boolean(),
});

/** `:id` of every /users/:id… route (user-param.ts). */
export const userParams = z.object({ id: z.string().describe('a user id, a username or an email address') });

type WithId = { Params: { id: string } };

export async function usersRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = 'admin:users:read' as const;
  const write = 'admin:users:write' as const;
  const tags = ['users'];
  const sent = (kind: string) => z.strictObject({ user_id: z.uuid(), sent: z.literal(kind) });
  resolveUserParam(app);

  app.get('/users', adminRoute({
    scope: read, tags, summary: 'List users', description: '`q` searches username, email and name.', query: listQuery, responses: { 200: pageOf(userView) },
  }), async (request) => {
    const { q, ...query } = parseInput(listQuery, request.query, 'query');
    return page(await listUsers(ctx, q, query), query, presentUser);
  });

  app.post('/users', adminRoute({
    scope: write, tags, summary: 'Create a user', description: 'With a password, or `invite: true` to mail a set-your-password link.',
    body: createBody, errors: ['conflict'],
    responses: { 201: { body: userView, description: 'the user', headers: { Location: { description: 'the user\'s URL' } } } },
  }), async (request, reply) => {
    const input = camelKeys(parseInput(createBody, request.body, 'body'));
    const user = await audited(request, 'user.created', (tx) => createUser(tx, callerOf(request), input), (created) => ({ user_id: created.id }), {
      kind: 'user',
      idOf: (created) => created.id,
    });
    return reply.code(201).header('location', `${ROUTES.admin}/users/${user.id}`).send(presentUser(user));
  });

  app.get<WithId>('/users/:id', adminRoute({
    scope: read, tags, summary: 'Show a user', params: userParams, errors: ['not_found'], responses: { 200: userView },
  }), async (request) => presentUser(await getUser(ctx, request.params.id)));

  app.patch<WithId>('/users/:id', adminRoute({
    scope: write, tags, summary: 'Change a user', description: 'Only the fields sent change; null clears one.',
    params: userParams, body: updateBody, errors: ['not_found', 'conflict'], responses: { 200: userView },
  }), async (request) => {
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

  app.delete<WithId>('/users/:id', adminRoute({
    scope: write, tags, summary: 'Delete a user', description: 'Their sessions end first, and their clients are told (back-channel logout).',
    params: userParams, errors: ['not_found'], responses: { 204: null },
  }), async (request, reply) => {
    await audited(
      request,
      'user.deleted',
      (tx) => deleteUser(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(204).send();
  });

  app.post<WithId>('/users/:id/password', adminRoute({
    scope: write, tags, summary: 'Set a user\'s password', params: userParams, body: passwordBody, errors: ['not_found'], responses: { 204: null },
  }), async (request, reply) => {
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
  app.post<WithId>('/users/:id/invite', adminRoute({
    scope: write, tags, summary: 'Mail an invitation', description: 'A set-your-password link that also confirms the address.',
    params: userParams, errors: ['not_found', 'conflict'], responses: { 202: sent('invitation') },
  }), async (request, reply) => {
    await audited(
      request,
      'user.invited',
      (tx) => inviteUser(tx, callerOf(request), request.params.id),
      { user_id: request.params.id },
      { kind: 'user', id: request.params.id },
    );
    return reply.code(202).send({ user_id: request.params.id, sent: 'invitation' });
  });

  app.post<WithId>('/users/:id/send-verification', adminRoute({
    scope: write, tags, summary: 'Mail an address confirmation link', params: userParams, errors: ['not_found', 'conflict'],
    responses: { 202: sent('email_verification') },
  }), async (request, reply) => {
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
  app.post<WithId>('/users/:id/unlock', adminRoute({
    scope: write, tags, summary: 'Clear a user\'s failed sign-in throttle', params: userParams, errors: ['not_found'],
    responses: { 200: z.strictObject({ user_id: z.uuid(), cleared: z.number().int().min(0) }) },
  }), async (request) => {
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
  app.post<WithId>('/users/:id/reset-factors', adminRoute({
    scope: write, tags, summary: 'Remove a user\'s second factors', description: 'TOTP and recovery codes go; the password stays.',
    params: userParams, errors: ['not_found'], responses: { 200: z.strictObject({ user_id: z.uuid(), removed: z.number().int().min(0) }) },
  }), async (request) => {
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
