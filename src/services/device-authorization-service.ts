import { randomInt } from 'node:crypto';
import { isUniqueViolation } from '../errors/storage-errors.js';
import { TooManyAttempts } from '../errors/throttle-errors.js';
import { constantTimeEqual, hmacSha256Base64url } from '../lib/crypto.js';
import { secondsFromNow } from '../lib/time.js';
import type { Client } from '../repositories/clients-repository.js';
import {
  approveDeviceAuthorization,
  denyDeviceAuthorization,
  findPendingDeviceAuthorization,
  findPendingDeviceAuthorizationByUserCode,
  insertDeviceAuthorization,
  type DeviceAuthorization,
} from '../repositories/device-authorizations-repository.js';
import { insertGrant } from '../repositories/grants-repository.js';
import type { User } from '../repositories/users-repository.js';
import { newOpaqueToken } from '../tokens/opaque-token.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { grantableScopes } from './authorization-service.js';
import { lookupClient } from './client-lookup.js';
import type { ServiceContext } from './context.js';
import { acrFor } from './mfa-policy.js';
import { userCodeThrottle } from './throttle-service.js';

/**
 * RFC 8628 section 6.1: user codes a person types from a TV screen. Twenty consonants without vowels (no
 * words) and without the look-alikes 0/O, 1/I/L... kept apart: B C D F G H J K L M N P Q R S T V W X Z.
 * Eight of them, about 34.6 bits, shown as XXXX-XXXX; entry ignores case, dashes and spaces.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A new user code in normalised form (eight characters of the alphabet), drawn without modulo bias. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** XXXX-XXXX: how a user code is shown (and sent as `user_code`). */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed, normalised (upper case; dashes and white space dropped), or undefined if it cannot be a user code. */
export function normaliseUserCode(input: string): string | undefined {
  const code = input.replace(/[\s\-\u2010-\u2015]/g, '').toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

/** Stored as an HMAC under a server key: 34 bits behind a plain hash would fall to a brute force of a leaked table. */
function userCodeHash(ctx: Pick<ServiceContext, 'csrfKey'>, code: string): string {
  return hmacSha256Base64url(ctx.csrfKey, `device-user-code:${code}`);
}

/** RFC 8628 section 3.2: the device authorization response (URLs are filled in by the route, which owns them). */
export interface StartedDeviceAuthorization {
  deviceCode: string;
  /** Formatted, XXXX-XXXX. */
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** A new user code that collides with a live one is drawn again (unique index); two collisions in a row mean something else is wrong. */
const INSERT_ATTEMPTS = 3;

/** RFC 8628 section 3.1/3.2: a new request of `client` for `scopes` (and resources), pending until a person decides. */
export async function startDeviceAuthorization(
  ctx: ServiceContext,
  client: Client,
  request: { scopes: readonly string[]; resources: readonly string[] },
): Promise<StartedDeviceAuthorization> {
  const { codeTtlSeconds, intervalSeconds } = ctx.config.deviceGrant;
  const deviceCode = newOpaqueToken();
  for (let attempt = 1; ; attempt++) {
    const userCode = newUserCode();
    try {
      await insertDeviceAuthorization(ctx.db, {
        deviceCodeHash: deviceCode.hash,
        userCodeHash: userCodeHash(ctx, userCode),
        clientId: client.clientId,
        scope: request.scopes.join(' '),
        resources: request.resources,
        intervalSeconds,
        expiresAt: secondsFromNow(codeTtlSeconds),
      });
      return { deviceCode: deviceCode.value, userCode: formatUserCode(userCode), expiresIn: codeTtlSeconds, interval: intervalSeconds };
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= INSERT_ATTEMPTS) throw err;
    }
  }
}

export interface DeviceRequest {
  authorization: DeviceAuthorization;
  client: Client;
}

/**
 * The pending request behind a user code typed on the /device page, or undefined (no such live code, or
 * its client is gone). Every lookup counts against the address first (RFC 8628 section 5.1: throttled
 * against guessing); throws TooManyAttempts while the address waits.
 */
export async function findDeviceRequest(ctx: ServiceContext, input: string, ip: string): Promise<DeviceRequest | undefined> {
  try {
    await userCodeThrottle.reserve(ctx, ip);
  } catch (err) {
    if (err instanceof TooManyAttempts) ctx.metrics.deviceUserCodeAttempts.inc({ result: 'throttled' });
    throw err;
  }
  const code = normaliseUserCode(input);
  const authorization = code === undefined ? undefined : await findPendingDeviceAuthorizationByUserCode(ctx.db, userCodeHash(ctx, code));
  const client = authorization ? await lookupClient(ctx, authorization.clientId) : undefined;
  if (!authorization || !client || !client.isActive) {
    ctx.metrics.deviceUserCodeAttempts.inc({ result: 'not_found' });
    return undefined;
  }
  ctx.metrics.deviceUserCodeAttempts.inc({ result: 'found' });
  return { authorization, client };
}

/**
 * The confirmation form names the request it was shown for by id, with this HMAC: only a lookup by user code
 * (throttled) hands one out, so the confirmation needs no second, counted lookup of the code.
 */
export function confirmationToken(ctx: Pick<ServiceContext, 'csrfKey'>, authorizationId: string): string {
  return hmacSha256Base64url(ctx.csrfKey, `device-confirm:${authorizationId}`);
}

/** The pending request a confirmation form names, if its token is right and the request still pending and live. */
export async function findConfirmedDeviceRequest(ctx: ServiceContext, authorizationId: string, token: string): Promise<DeviceRequest | undefined> {
  if (!constantTimeEqual(token, confirmationToken(ctx, authorizationId))) return undefined;
  const authorization = await findPendingDeviceAuthorization(ctx.db, authorizationId);
  const client = authorization ? await lookupClient(ctx, authorization.clientId) : undefined;
  return authorization && client?.isActive ? { authorization, client } : undefined;
}

/**
 * The person approved on the /device page, after signing in (and consenting): a grant, as an authorization
 * code would get, and the request moves to approved, in one transaction. False when the request was
 * decided or expired meanwhile (nothing is written then).
 */
export async function approveDeviceRequest(
  ctx: ServiceContext,
  authorizationId: string,
  request: AuthorizationRequest,
  user: User,
  login: { authTime: Date; sid: string; amr: readonly string[] },
): Promise<boolean> {
  const approved = await ctx.db
    .transaction(async (tx) => {
      const grantId = await insertGrant(tx, {
        clientId: request.clientId,
        userId: user.id,
        // Admin scopes only for administrators, as for any authorization (src/services/authorization-service.ts).
        scope: grantableScopes(request, user).join(' '),
        authTime: login.authTime,
        sid: login.sid,
        nonce: null,
        resources: request.resources ?? [],
        amr: login.amr,
        acr: acrFor(login.amr, request.acrValues),
      });
      if (!(await approveDeviceAuthorization(tx, authorizationId, grantId))) throw new DeviceRequestGone();
      return true;
    })
    .catch((err: unknown) => {
      if (err instanceof DeviceRequestGone) return false;
      throw err;
    });
  ctx.metrics.authorizations.inc({ result: approved ? 'device_approved' : 'device_gone' });
  return approved;
}

/** Rolls the approval's transaction back: the request was no longer pending. */
class DeviceRequestGone extends Error {}

/** The person denied: the device gets access_denied at its next poll (RFC 8628 section 3.5). */
export async function denyDeviceRequest(ctx: ServiceContext, authorizationId: string): Promise<boolean> {
  const denied = await denyDeviceAuthorization(ctx.db, authorizationId);
  if (denied) ctx.metrics.authorizations.inc({ result: 'access_denied' });
  return denied;
}
