import type { Queryable } from '../../db/db.js';
import type { Snapshot } from '../../lib/audit-diff.js';
import { findClient } from '../../repositories/clients-repository.js';
import { findInitialAccessToken } from '../../repositories/initial-access-tokens-repository.js';
import { findResource } from '../../repositories/resources-repository.js';
import { findScopes } from '../../repositories/scopes-repository.js';
import { listSigningKeys } from '../../repositories/signing-keys-repository.js';
import { findUserById } from '../../repositories/users-repository.js';

/**
 * Before/after pictures of what an admin write changes, read in the write's own transaction
 * (src/services/audit-trail.ts diffs them with src/lib/audit-diff.ts). Each kind lists the fields that may
 * be compared (its allow-list, wire names). A secret appears here only as `client_secret` / `password`
 * holding its hash, so that a rotation or a new password shows as `{changed: true}`: audit-diff.ts never
 * stores a value under such a name.
 */
export type SnapshotKind = 'client' | 'user' | 'scope' | 'resource' | 'registration_token' | 'key';

interface SnapshotSpec {
  fields: readonly string[];
  read(db: Queryable, id: string): Promise<Snapshot | undefined>;
}

// PostgreSQL refuses a string that is not a uuid where one is expected (22P02): such an id names nothing.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The record's `fields` (camelCase) under their wire names. */
function picture<T extends object>(record: T | undefined, fields: readonly (keyof T & string)[]): Snapshot | undefined {
  if (!record) return undefined;
  return Object.fromEntries(fields.map((field) => [snake(field), record[field]]));
}

const CLIENT_FIELDS = [
  'clientName', 'clientType', 'tokenEndpointAuthMethod', 'redirectUris', 'postLogoutRedirectUris', 'grantTypes',
  'responseTypes', 'scope', 'clientUri', 'logoUri', 'tosUri', 'policyUri', 'contacts', 'skipConsent', 'requirePkce',
  'isActive', 'idTokenSignedResponseAlg', 'accessTokenFormat', 'allowedResources', 'mfaPolicy', 'dpopBoundAccessTokens',
  'backchannelLogoutUri', 'backchannelLogoutSessionRequired', 'requirePushedAuthorizationRequests',
  'requestObjectSigningAlg', 'requireSignedRequestObject', 'jwks', 'jwksUri', 'tokenEndpointAuthSigningAlg',
  'registrationType',
] as const;

const USER_FIELDS = [
  'username', 'email', 'emailVerified', 'name', 'givenName', 'familyName', 'middleName', 'nickname', 'picture',
  'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phoneNumber', 'phoneNumberVerified', 'address', 'isAdmin',
  'isActive',
] as const;

const RESOURCE_FIELDS = ['name', 'scopes', 'accessTokenFormat', 'accessTokenTtlSeconds', 'signingAlg', 'clientIds'] as const;
const TOKEN_FIELDS = ['description', 'maxUses', 'expiresAt', 'revokedAt'] as const;
const KEY_FIELDS = ['alg', 'status', 'activatedAt', 'deactivatedAt', 'retiredAt'] as const;

export const SNAPSHOTS: Record<SnapshotKind, SnapshotSpec> = {
  client: {
    fields: [...CLIENT_FIELDS.map(snake), 'client_secret'],
    async read(db, id) {
      const client = await findClient(db, id);
      const view = picture(client, CLIENT_FIELDS);
      return view && { ...view, client_secret: client!.clientSecretHash };
    },
  },
  user: {
    fields: [...USER_FIELDS.map(snake), 'password'],
    async read(db, id) {
      const user = UUID.test(id) ? await findUserById(db, id) : undefined;
      const view = picture(user, USER_FIELDS);
      return view && { ...view, password: user!.passwordHash };
    },
  },
  scope: {
    fields: ['description', 'is_default'],
    read: async (db, name) => picture((await findScopes(db, [name]))[0], ['description', 'isDefault']),
  },
  resource: {
    fields: RESOURCE_FIELDS.map(snake),
    read: async (db, identifier) => picture(await findResource(db, identifier), RESOURCE_FIELDS),
  },
  registration_token: {
    fields: TOKEN_FIELDS.map(snake),
    read: async (db, id) => picture(await findInitialAccessToken(db, id), TOKEN_FIELDS),
  },
  key: {
    fields: KEY_FIELDS.map(snake),
    read: async (db, kid) => picture((await listSigningKeys(db)).find((key) => key.kid === kid), KEY_FIELDS),
  },
};

/** Every signing key's picture by kid (a rotation's keys are known only afterwards; there are a handful). */
export async function snapshotAllKeys(db: Queryable): Promise<Map<string, Snapshot>> {
  const keys = await listSigningKeys(db);
  return new Map(keys.map((key) => [key.kid, picture(key, KEY_FIELDS)!]));
}
