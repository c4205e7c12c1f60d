import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { insertClient, type NewClient } from '../../src/repositories/clients-repository.js';
import { insertUser, type User } from '../../src/repositories/users-repository.js';
import { CLIENT_DEFAULTS } from '../../src/services/admin/client-admin-service.js';
import { hashClientSecret } from '../../src/services/client-authentication.js';
import { hashPassword } from '../../src/services/password-hasher.js';

export const REDIRECT_URI = 'https://app.example.com/callback';

export interface TestClient {
  clientId: string;
  clientSecret?: string;
}

/** A client straight into the database (the admin API has its own tests). */
export async function createClient(app: FastifyInstance, overrides: Partial<NewClient> = {}): Promise<TestClient> {
  const isPublic = overrides.tokenEndpointAuthMethod === 'none' || overrides.clientType === 'public';
  const clientId = overrides.clientId ?? `client-${randomBytes(6).toString('hex')}`;
  const clientSecret = isPublic ? undefined : randomBytes(32).toString('base64url');
  await insertClient(app.ctx.db, {
    ...CLIENT_DEFAULTS,
    clientId,
    clientSecretHash: clientSecret ? hashClientSecret(app.ctx.clientSecretKey, clientSecret) : null,
    clientName: 'Test App',
    clientType: isPublic ? 'public' : 'confidential',
    tokenEndpointAuthMethod: isPublic ? 'none' : 'client_secret_basic',
    redirectUris: [REDIRECT_URI],
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    scope: 'openid profile email phone address offline_access',
    ...overrides,
  });
  return { clientId, ...(clientSecret ? { clientSecret } : {}) };
}

export const TEST_PASSWORD = 'correct horse battery staple';

export async function createUser(app: FastifyInstance, overrides: Partial<User> = {}): Promise<User> {
  return insertUser(app.ctx.db, {
    username: `user${randomBytes(4).toString('hex')}`,
    email: `${randomBytes(4).toString('hex')}@example.com`,
    emailVerified: true,
    name: 'Test User',
    givenName: 'Test',
    familyName: 'User',
    passwordHash: await hashPassword(TEST_PASSWORD),
    ...overrides,
  });
}

export function basicAuth(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s);
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
