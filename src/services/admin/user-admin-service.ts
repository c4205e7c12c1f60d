import { Conflict, NotFound } from '../../errors/admin-errors.js';
import { isUniqueViolation } from '../../errors/storage-errors.js';
import {
  deleteUser as deleteUserRow,
  findUserById,
  insertUser,
  searchUsers,
  updateUser as updateUserRow,
  type User,
  type UserFields,
} from '../../repositories/users-repository.js';
import type { ServiceContext } from '../context.js';
import { hashPassword } from '../password-hasher.js';
import { unlockUser } from '../throttle-service.js';
import type { Page, PageRequest } from './pagination.js';

type Ctx = Pick<ServiceContext, 'db'>;

/** Profile and account fields an administrator may set; the password goes through its own functions. */
export type UserProfile = Omit<UserFields, 'passwordHash'>;
export type NewUserInput = Partial<UserProfile> & { username: string; password?: string };

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

export async function createUser(ctx: Ctx, input: NewUserInput): Promise<User> {
  const { password, ...profile } = input;
  const passwordHash = password === undefined ? undefined : await hashPassword(password);
  return translateConflicts(insertUser(ctx.db, { ...profile, passwordHash }));
}

export function listUsers(ctx: Ctx, query: string | undefined, page: PageRequest): Promise<Page<User>> {
  return searchUsers(ctx.db, query, page.limit, page.offset);
}

export async function getUser(ctx: Ctx, id: string): Promise<User> {
  const user = UUID.test(id) ? await findUserById(ctx.db, id) : undefined;
  if (!user) throw new NotFound('user');
  return user;
}

export async function updateUser(ctx: Ctx, id: string, changes: Partial<UserProfile>): Promise<User> {
  const user = UUID.test(id) ? await translateConflicts(updateUserRow(ctx.db, id, changes)) : undefined;
  if (!user) throw new NotFound('user');
  return user;
}

export async function setUserPassword(ctx: Ctx, id: string, password: string): Promise<void> {
  if (!UUID.test(id)) throw new NotFound('user');
  const user = await updateUserRow(ctx.db, id, { passwordHash: await hashPassword(password) });
  if (!user) throw new NotFound('user');
}

export async function deleteUser(ctx: Ctx, id: string): Promise<void> {
  if (!UUID.test(id) || !(await deleteUserRow(ctx.db, id))) throw new NotFound('user');
}

/** Clears the user's failed sign-in counts from every address (the brute-force throttle); 404 if unknown. */
export async function unlockUserSignIn(ctx: Pick<ServiceContext, 'db' | 'throttleKey'>, id: string): Promise<number> {
  const user = await getUser(ctx, id);
  return unlockUser(ctx, user.id);
}
