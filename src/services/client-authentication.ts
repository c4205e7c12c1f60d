import { MAX_IDENTIFIER_LENGTH } from '../config/input-limits.js';
import { ClientMetadataRefused } from '../errors/client-metadata-errors.js';
import { InvalidClient, InvalidRequest } from '../errors/oauth-errors.js';
import { constantTimeEqual, hmacSha256Base64url } from '../lib/crypto.js';
import type { Client } from '../repositories/clients-repository.js';
import type { AuditLog } from './audit.js';
import { assertionClientId, JWT_BEARER_CLIENT_ASSERTION, MAX_ASSERTION_LENGTH, usesClientAssertion, verifyClientAssertion } from './client-assertion.js';
import { lookupClient } from './client-lookup.js';
import type { ServiceContext } from './context.js';
import { clientThrottle } from './throttle-service.js';

export interface ClientCredentialsInput {
  authorization: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** RFC 7521 section 4.2: client_assertion_type and client_assertion (RFC 7523 JWTs). */
  clientAssertionType?: string | undefined;
  clientAssertion?: string | undefined;
  /** The route path of the endpoint (its URL is an accepted assertion audience, RFC 9126 section 2). */
  endpointPath?: string | undefined;
  /** The request's audit log (origin-bound), for a replayed assertion. */
  audit?: AuditLog | undefined;
}

/** Checks a client assertion for a client that was found; supplied by authenticateClientThrottled. */
export type AssertionCheck = (client: Client, assertion: string) => Promise<void>;

const SECRET_HASH_PREFIX = 'hmac-sha256$';

/** Client secrets carry >= 256 bits of entropy, so a keyed fast hash suffices (see SECURITY.md). */
export function hashClientSecret(key: Buffer, secret: string): string {
  return SECRET_HASH_PREFIX + hmacSha256Base64url(key, secret);
}

export function verifyClientSecret(key: Buffer, secret: string, stored: string | null): boolean {
  const computed = hashClientSecret(key, secret);
  // Compare even when nothing is stored, so timing does not tell public from confidential clients.
  return constantTimeEqual(computed, stored ?? SECRET_HASH_PREFIX) && stored !== null;
}

/** RFC 6749 section 2.3.1: Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string): { id: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  const fail = () => {
    const err = new InvalidClient('invalid HTTP Basic authorization header');
    err.usedBasic = true;
    return err;
  };
  if (!match) throw fail();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || /[\u0000\uFFFD]/.test(decoded)) throw fail();
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const credentials = { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    if (credentials.id.includes('\u0000') || credentials.secret.includes('\u0000')) throw fail();
    // Bounded before the id becomes a lookup or lockout key, like client_id in a form (input-limits.ts).
    if (credentials.id.length > MAX_IDENTIFIER_LENGTH) throw fail();
    return credentials;
  } catch {
    throw fail();
  }
}

/**
 * RFC 7521 section 4.2 and RFC 7523 section 2.2: the assertion parameters, checked for form; returns the
 * client_id the assertion claims (iss). Exactly one method may be used (RFC 6749 section 2.3), and a
 * client_id sent beside the assertion must be the same client (RFC 7521 section 4.2).
 */
function assertionCredentials(input: ClientCredentialsInput): { clientId: string; assertion: string } {
  if ((input.authorization !== undefined && /^basic\s/i.test(input.authorization)) || input.clientSecret !== undefined) {
    throw new InvalidRequest('client authentication must use only one method');
  }
  if (input.clientAssertionType === undefined) throw new InvalidRequest('client_assertion_type is required with client_assertion');
  if (input.clientAssertion === undefined) throw new InvalidRequest('client_assertion is required with client_assertion_type');
  if (input.clientAssertionType !== JWT_BEARER_CLIENT_ASSERTION) {
    throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_CLIENT_ASSERTION}`);
  }
  if (input.clientAssertion.length > MAX_ASSERTION_LENGTH) throw new InvalidClient('the client assertion is too long');
  const clientId = assertionClientId(input.clientAssertion);
  if (clientId === undefined) throw new InvalidClient('the client assertion is not a JWT naming the client in iss');
  if (input.clientId !== undefined && input.clientId !== clientId) {
    throw new InvalidRequest('client_id does not match the client assertion');
  }
  return { clientId, assertion: input.clientAssertion };
}

async function findForAuthentication(
  findClient: (clientId: string) => Promise<Client | undefined>,
  clientId: string,
  fail: (description: string) => InvalidClient,
): Promise<Client | undefined> {
  try {
    return await findClient(clientId);
  } catch (err) {
    // A client ID metadata document that cannot be used: the client is not authenticated.
    if (err instanceof ClientMetadataRefused) throw fail(err.description);
    throw err;
  }
}

/**
 * Authenticates the client at the token endpoint: client_secret_basic, client_secret_post, a client
 * assertion (private_key_jwt, client_secret_jwt: RFC 7523), or none for public clients. Exactly one method
 * may be used (RFC 6749 section 2.3). Confidential clients registered for a secret method may use either
 * secret method; a client registered for an assertion method must use it, and only it.
 */
export async function authenticateClient(
  findClient: (clientId: string) => Promise<Client | undefined>,
  key: Buffer,
  input: ClientCredentialsInput,
  checkAssertion?: AssertionCheck,
): Promise<Client> {
  if (input.clientAssertion !== undefined || input.clientAssertionType !== undefined) {
    const { clientId, assertion } = assertionCredentials(input);
    const fail = (description: string) => new InvalidClient(description);
    const client = await findForAuthentication(findClient, clientId, fail);
    if (!client || !client.isActive) throw fail('client authentication failed');
    if (client.clientType === 'public') throw fail('public clients do not authenticate with a client assertion');
    if (!checkAssertion) throw fail('client assertions are not accepted here');
    await checkAssertion(client, assertion);
    return client;
  }

  let clientId: string;
  let secret: string | undefined;
  let usedBasic = false;
  if (input.authorization !== undefined && /^basic\s/i.test(input.authorization)) {
    if (input.clientSecret !== undefined) {
      throw new InvalidRequest('client authentication must use only one method');
    }
    const basic = parseBasic(input.authorization);
    if (input.clientId !== undefined && input.clientId !== basic.id) {
      throw new InvalidRequest('client_id does not match the authenticated client');
    }
    ({ id: clientId, secret } = basic);
    usedBasic = true;
  } else if (input.clientId !== undefined) {
    clientId = input.clientId;
    secret = input.clientSecret;
  } else {
    throw new InvalidClient('client authentication is required');
  }

  const fail = (description: string) => {
    const err = new InvalidClient(description);
    err.usedBasic = usedBasic;
    return err;
  };
  const client = await findForAuthentication(findClient, clientId, fail);
  if (!client || !client.isActive) {
    if (secret !== undefined) verifyClientSecret(key, secret, null);
    throw fail('client authentication failed');
  }
  if (client.clientType === 'public') {
    if (secret !== undefined) throw fail('public clients do not authenticate with a secret');
    return client;
  }
  // The registered method is the one used (RFC 7591 section 2): a secret never stands in for an assertion.
  if (usesClientAssertion(client)) throw fail(`this client authenticates with ${client.tokenEndpointAuthMethod}`);
  if (secret === undefined || !verifyClientSecret(key, secret, client.clientSecretHash)) {
    throw fail('client authentication failed');
  }
  return client;
}

/** The client_id a request claims, from Basic credentials or the body, without verifying anything. */
function claimedClientId(input: ClientCredentialsInput): string | undefined {
  if (input.clientAssertion !== undefined) return assertionClientId(input.clientAssertion) ?? input.clientId;
  try {
    return input.authorization && /^basic\s/i.test(input.authorization) ? parseBasic(input.authorization).id : input.clientId;
  } catch {
    return input.clientId;
  }
}

/**
 * authenticateClient behind brute-force protection: a client_id from this address, or this address, with
 * too many recent failures is refused (TooManyAttempts) before its secret is checked, and every
 * invalid_client counts as a failure. Counted per client *and address*, so guessing from elsewhere never
 * locks the client out of its own address (src/services/throttle-service.ts).
 */
export async function authenticateClientThrottled(ctx: ServiceContext, input: ClientCredentialsInput, ip: string): Promise<Client> {
  const clientId = claimedClientId(input) ?? '';
  await clientThrottle.check(ctx, clientId, ip);
  try {
    return await authenticateClient((id) => lookupClient(ctx, id), ctx.clientSecretKey, input, (client, assertion) =>
      verifyClientAssertion(ctx, client, assertion, input.endpointPath, input.audit),
    );
  } catch (err) {
    if (err instanceof InvalidClient) await clientThrottle.failed(ctx, clientId, ip);
    throw err;
  }
}
