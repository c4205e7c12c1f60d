import type { Queryable } from '../db/db.js';

export interface Scope {
  name: string;
  description: string;
  isDefault: boolean;
  createdAt: Date;
}

const SELECT = 'SELECT name, description, is_default AS "isDefault", created_at AS "createdAt" FROM scopes';

export async function listScopes(db: Queryable): Promise<Scope[]> {
  return (await db.query<Scope>(`${SELECT} ORDER BY name`)).rows;
}

export async function listScopesPage(db: Queryable, limit: number, offset: number): Promise<{ items: Scope[]; total: number }> {
  const [{ rows }, count] = await Promise.all([
    db.query<Scope>(`${SELECT} ORDER BY name LIMIT $1 OFFSET $2`, [limit, offset]),
    db.query<{ total: number }>('SELECT count(*)::int AS total FROM scopes'),
  ]);
  return { items: rows, total: count.rows[0]?.total ?? 0 };
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
