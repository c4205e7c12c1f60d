import type { Queryable } from '../db/db.js';
import type { PageKey } from '../lib/page-key.js';
import { keysetPage, type KeysetPage } from './keyset.js';

export interface Scope {
  name: string;
  description: string;
  isDefault: boolean;
  createdAt: Date;
}

const SELECT_LIST = 'name, description, is_default AS "isDefault", created_at AS "createdAt"';
const SELECT = `SELECT ${SELECT_LIST} FROM scopes`;

export async function listScopes(db: Queryable): Promise<Scope[]> {
  return (await db.query<Scope>(`${SELECT} ORDER BY name`)).rows;
}

/** A page of scopes by name (its primary key), as `scope` parameters are read: a short list, looked up by name. */
export async function listScopesPage(db: Queryable, page: { limit: number; cursor?: PageKey | undefined }): Promise<KeysetPage<Scope>> {
  return keysetPage<Scope>(
    db,
    { columns: SELECT_LIST, from: 'scopes', key: [{ sql: 'name', part: 'text' }], order: 'asc' },
    page,
  );
}

export async function findScopes(db: Queryable, names: readonly string[]): Promise<Scope[]> {
  if (names.length === 0) return [];
  return (await db.query<Scope>(`${SELECT} WHERE name = ANY($1::text[]) ORDER BY name`, [names])).rows;
}

export async function insertScope(db: Queryable, scope: Omit<Scope, 'createdAt'>): Promise<Scope> {
  const { rows } = await db.query<Scope>(
    `INSERT INTO scopes (name, description, is_default) VALUES ($1, $2, $3)
     RETURNING name, description, is_default AS "isDefault", created_at AS "createdAt"`,
    [scope.name, scope.description, scope.isDefault],
  );
  return rows[0]!;
}

export async function deleteScope(db: Queryable, name: string): Promise<boolean> {
  return (await db.query('DELETE FROM scopes WHERE name = $1', [name])).rowCount > 0;
}
