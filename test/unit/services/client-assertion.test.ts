import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import type { Db } from '../../../src/db/db.js';
import { InvalidClient } from '../../../src/errors/oauth-errors.js';
import type { Client } from '../../../src/repositories/clients-repository.js';
import { CLIENT_DEFAULTS } from '../../../src/services/admin/client-admin-service.js';
import { acceptedAudiences, assertionClientId, verifyClientAssertion } from '../../../src/services/client-assertion.js';
import { ClientKeySets } from '../../../src/services/client-keys.js';
import { sealClientSecret } from '../../../src/services/client-secret-box.js';
import { Metrics } from '../../../src/services/metrics.js';
import { OutboundFetcher } from '../../../src/services/outbound-fetch.js';
import { clientSigningKey, signAssertion, type ClientSigningKey } from '../../helpers/client-assertion.js';

const ISSUER = 'https://auth.example.com';
const SECRET_KEY = Buffer.alloc(32, 7);

/** The checks of src/services/client-assertion.ts on their own: a fake replay store, no server. */
describe('verifyClientAssertion', () => {
  let key: ClientSigningKey;
  const used = new Set<string>();
  const audited: unknown[] = [];
  const ctx = {
    config: { issuer: ISSUER, clientAssertionMaxLifetimeSeconds: 300, redisKeyPrefix: 'x:' } as unknown as Config,
    metrics: new Metrics({} as Db),
    clientKeySets: new ClientKeySets(new OutboundFetcher({ maxPerHost: 1 })),
    clientSecretKey: SECRET_KEY,
    db: {} as Db,
    redis: {
      isUp: true,
      client: { set: async (k: string) => (used.has(k) ? null : (used.add(k), 'OK')) },
    } as never,
    audit: { record: (...args: unknown[]) => audited.push(args) } as never,
  };
  const client = (overrides: Partial<Client>): Client =>
    ({
      ...CLIENT_DEFAULTS,
      clientId: 'c1',
      clientSecretHash: 'x',
      clientSecretEncrypted: null,
      clientName: 'C',
      clientType: 'confidential',
      responseTypes: [],
      registrationType: 'admin',
      lastUsedAt: null,
      metadataExpiresAt: null,
      createdAt: new Date(),
      updatedAt: new Date(),
      ...overrides,
    }) as Client;
  let pkj: Client;
  let csj: Client;

  beforeAll(async () => {
    key = await clientSigningKey('ES256');
    pkj = client({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk as Record<string, unknown>] } });
    csj = client({ tokenEndpointAuthMethod: 'client_secret_jwt', clientSecretEncrypted: sealClientSecret(SECRET_KEY, 'c1', 's'.repeat(43)) });
  });

  const now = () => Math.floor(Date.now() / 1000);
  async function outcome(c: Client, assertion: string, path?: string): Promise<string> {
    try {
      await verifyClientAssertion(ctx, c, assertion, path);
      return 'ok';
    } catch (err) {
      if (err instanceof InvalidClient) return err.description;
      throw err;
    }
  }
  const sign = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => signAssertion(key, { clientId: 'c1', audience: ISSUER, claims, header });

  it.each<[string, () => Promise<string>, string, Client?]>([
    ['a valid assertion', () => sign(), 'ok'],
    ['aud the token endpoint', () => sign({ aud: `${ISSUER}/oauth/token` }), 'ok'],
    ['aud another server', () => sign({ aud: 'https://evil.example.com' }), 'the client assertion aud must be the issuer identifier of this server'],
    ['iss another client', () => sign({ iss: 'c2' }), 'the client assertion iss and sub must both be the client_id'],
    ['exp missing', () => sign({ exp: undefined }), 'the client assertion must have a numeric exp'],
    ['exp a string', () => sign({ exp: 'soon' }), 'the client assertion must have a numeric exp'],
    ['expired beyond the skew', () => sign({ exp: now() - 31, iat: now() - 60 }), 'the client assertion has expired'],
    ['exp just past, within the skew', () => sign({ exp: now() - 5, iat: now() - 60 }), 'ok'],
    ['exp at the maximum lifetime', () => sign({ exp: now() + 300 }), 'ok'],
    ['exp beyond the maximum lifetime', () => sign({ exp: now() + 400 }), 'the client assertion exp is too far in the future (at most 300 seconds)'],
    ['nbf ahead', () => sign({ nbf: now() + 60 }), 'the client assertion is not valid yet (nbf)'],
    ['iat ahead', () => sign({ iat: now() + 60 }), 'the client assertion iat is in the future'],
    ['jti missing', () => sign({ jti: undefined }), 'the client assertion must have a jti'],
    ['jti too long', () => sign({ jti: 'j'.repeat(257) }), 'the client assertion jti must be a string of 1 to 256 characters'],
    ['typ at+jwt', () => sign({}, { typ: 'at+jwt' }), 'the client assertion typ must be JWT or client-authentication+jwt'],
    ['typ application/client-authentication+jwt', () => sign({}, { typ: 'application/client-authentication+jwt' }), 'ok'],
    ['HS256 with the secret', () => signAssertion({ alg: 'HS256', secret: 's'.repeat(43) }, { clientId: 'c1', audience: ISSUER }), 'ok', undefined],
    ['a client without an assertion method', () => sign(), 'the client is registered for client_secret_basic, not for a client assertion', undefined],
  ])('%s', async (name, make, expected) => {
    const c = name.startsWith('HS256') ? csj : name.startsWith('a client without') ? client({}) : pkj;
    expect(await outcome(c, await make())).toBe(expected);
  });

  it('a jti once per client, and audits the replay', async () => {
    const assertion = await sign({ jti: 'once' });
    expect(await outcome(pkj, assertion)).toBe('ok');
    expect(await outcome(pkj, assertion)).toBe('the client assertion was already used (jti)');
    expect(audited).toContainEqual(['client.assertion_replayed', { client_id: 'c1', jti: 'once' }]);
  });

  it('an invalid signature does not spend the jti', async () => {
    const forged = await new SignJWT({ iss: 'c1', sub: 'c1', aud: ISSUER, exp: now() + 60, jti: 'spared' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign((await clientSigningKey('ES256')).privateKey);
    expect(await outcome(pkj, forged)).toBe('the client assertion signature is not valid');
    expect(await outcome(pkj, await sign({ jti: 'spared' }))).toBe('ok');
  });

  it('acceptedAudiences and assertionClientId', () => {
    expect(acceptedAudiences(ISSUER, '/oauth/par')).toEqual([ISSUER, `${ISSUER}/oauth/token`, `${ISSUER}/oauth/par`]);
    expect(acceptedAudiences(ISSUER, undefined)).toEqual([ISSUER, `${ISSUER}/oauth/token`]);
    expect(assertionClientId('a.b.c')).toBeUndefined();
    expect(assertionClientId(`x.${Buffer.from('{"iss":"c9"}').toString('base64url')}.y`)).toBe('c9');
  });
});
