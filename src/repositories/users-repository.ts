import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { containing, keysetPage, type KeysetPage } from './keyset.js';

export interface Address {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

export interface User {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  passwordHash: string | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  middleName: string | null;
  nickname: string | null;
  picture: string | null;
  website: string | null;
  gender: string | null;
  birthdate: string | null;
  zoneinfo: string | null;
  locale: string | null;
  phoneNumber: string | null;
  phoneNumberVerified: boolean;
  address: Address | null;
  isAdmin: boolean;
  isActive: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type UserFields = Omit<User, 'id' | 'lastLoginAt' | 'createdAt' | 'updatedAt'>;

const COLUMNS: Record<keyof UserFields, string> = {
  username: 'username',
  email: 'email',
  emailVerified: 'email_verified',
  passwordHash: 'password_hash',
  name: 'name',
  givenName: 'given_name',
  familyName: 'family_name',
  middleName: 'middle_name',
  nickname: 'nickname',
  picture: 'picture',
  website: 'website',
  gender: 'gender',
  birthdate: 'birthdate',
  zoneinfo: 'zoneinfo',
  locale: 'locale',
  phoneNumber: 'phone_number',
  phoneNumberVerified: 'phone_number_verified',
  address: 'address',
  isAdmin: 'is_admin',
  isActive: 'is_active',
};

/**
 * The select list of a User, columns qualified by `alias`; `prefix` is put before every field name, so a
 * query that joins users can tell the user's fields from its own.
 */
export function userSelectList(alias: string, prefix = ''): string {
  const all: [string, string][] = [
    ['id', 'id'],
    ...Object.entries(COLUMNS),
    ['lastLoginAt', 'last_login_at'],
    ['createdAt', 'created_at'],
    ['updatedAt', 'updated_at'],
  ];
  return all.map(([key, column]) => `${alias}.${column} AS "${prefix}${key}"`).join(', ');
}

const SELECT = `SELECT ${userSelectList('users')} FROM users`;

/**
 * Reads the User out of a row selected with userSelectList(alias, prefix) (the user's columns beside
 * others), or undefined when the join found none. The object is one literal of fixed shape: built key
 * by key it cost about 3 µs per row more, on every userinfo request (docs/performance.md).
 */
export function prefixedUserReader(prefix: string): (row: Record<string, unknown>) => User | undefined {
  const names: (keyof User)[] = ['id', ...(Object.keys(COLUMNS) as (keyof UserFields)[]), 'lastLoginAt', 'createdAt', 'updatedAt'];
  const k = Object.fromEntries(names.map((name) => [name, `${prefix}${name}`])) as Record<keyof User, string>;
  return (row) => {
    if (row[k.id] == null) return undefined;
    // Record<keyof User, unknown>: the compiler names a field missing here or one that User does not have.
    const user: Record<keyof User, unknown> = {
      id: row[k.id],
      username: row[k.username],
      email: row[k.email],
      emailVerified: row[k.emailVerified],
      passwordHash: row[k.passwordHash],
      name: row[k.name],
      givenName: row[k.givenName],
      familyName: row[k.familyName],
      middleName: row[k.middleName],
      nickname: row[k.nickname],
      picture: row[k.picture],
      website: row[k.website],
      gender: row[k.gender],
      birthdate: row[k.birthdate],
      zoneinfo: row[k.zoneinfo],
      locale: row[k.locale],
      phoneNumber: row[k.phoneNumber],
      phoneNumberVerified: row[k.phoneNumberVerified],
      address: row[k.address],
      isAdmin: row[k.isAdmin],
      isActive: row[k.isActive],
      lastLoginAt: row[k.lastLoginAt],
      createdAt: row[k.createdAt],
      updatedAt: row[k.updatedAt],
    };
    return user as User;
  };
}

/** The admin listing's order: newest first (users_created_at_id_idx). */
const NEWEST_FIRST = { key: [{ sql: 'created_at', part: 'timestamp' }, { sql: 'id', part: 'uuid' }], order: 'desc' } as const;

const toParam = (key: keyof UserFields, value: unknown) =>
  key === 'address' && value !== null && value !== undefined ? JSON.stringify(value) : value;

export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(`${SELECT} WHERE id = $1`, [id]);
  return rows[0];
}

/** The user row locked until the transaction ends, for a change decided on what the row says. */
export async function findUserByIdForUpdate(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(`${SELECT} WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

/** Usernames are unique case-insensitively (users_username_key on lower(username)). */
export async function findUserByUsername(db: Queryable, username: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(`${SELECT} WHERE lower(username) = lower($1)`, [username]);
  return rows[0];
}

export async function countUsers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ total: number }>('SELECT count(*)::int AS total FROM users');
  return rows[0]?.total ?? 0;
}

/**
 * The one user holding this email address, compared case-insensitively (users_email_key makes it unique
 * that way; LIMIT 2 keeps "exactly one" true even if that index were ever relaxed).
 */
export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(`${SELECT} WHERE lower(email) = lower($1) LIMIT 2`, [email]);
  return rows.length === 1 ? rows[0] : undefined;
}

/** Login accepts the username or the email address, case-insensitively. */
export async function findUserByLogin(db: Queryable, login: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(
    `${SELECT} WHERE lower(username) = lower($1) OR lower(email) = lower($1) ORDER BY lower(username) = lower($1) DESC LIMIT 1`,
    [login],
  );
  return rows[0];
}

/** One page of users, newest first; `query` matches a part of the username, email address or name. */
export async function searchUsers(db: Queryable, query: string | undefined, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<User>> {
  const pattern = query ? containing(query) : undefined;
  return keysetPage<User>(
    db,
    {
      columns: userSelectList('users'),
      from: 'users',
      ...(pattern ? { where: ['username ILIKE $1 OR email ILIKE $1 OR name ILIKE $1'], params: [pattern] } : {}),
      ...NEWEST_FIRST,
    },
    page,
  );
}

export async function insertUser(db: Queryable, user: Partial<UserFields> & { username: string }): Promise<User> {
  const keys = (Object.keys(user) as (keyof UserFields)[]).filter((k) => user[k] !== undefined);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (${keys.map((k) => COLUMNS[k]).join(', ')})
     VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    keys.map((k) => toParam(k, user[k])),
  );
  return (await findUserById(db, rows[0]!.id))!;
}

export async function updateUser(db: Queryable, id: string, changes: Partial<UserFields>): Promise<User | undefined> {
  const keys = (Object.keys(changes) as (keyof UserFields)[]).filter((k) => changes[k] !== undefined);
  if (keys.length > 0) {
    const { rowCount } = await db.query(
      `UPDATE users SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`,
      [id, ...keys.map((k) => toParam(k, changes[k]))],
    );
    if (rowCount === 0) return undefined;
  }
  return findUserById(db, id);
}

export async function recordLogin(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE users SET last_login_at = now() WHERE id = $1', [id]);
}

export async function deleteUser(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM users WHERE id = $1', [id]);
  return rowCount > 0;
}
