import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../config/config.js';
import { PasskeyRejected } from '../errors/passkey-errors.js';
import { TooManyAttempts } from '../errors/throttle-errors.js';
import type { AuthMethod } from '../lib/auth-methods.js';
import { randomToken, sha256Base64url } from '../lib/crypto.js';
import type { Locale } from '../lib/locales.js';
import { findUserById, recordLogin, type User } from '../repositories/users-repository.js';
import {
  consumeChallenge,
  deleteCredentialOfUser,
  findCredential,
  insertChallenge,
  insertCredential,
  listCredentialsOfUser,
  recordCredentialUse,
  type WebAuthnCredentialRow,
} from '../repositories/webauthn-repository.js';
import type { ServiceContext } from './context.js';
import { enqueueMail } from './mail/mail-outbox.js';
import { loginThrottle, type LoginSubject } from './throttle-service.js';

/**
 * Passkeys (W3C Web Authentication Level 3) with @simplewebauthn/server: registration from the account
 * page, and assertions in the sign-in, as the first factor (discoverable credentials, no username) or as
 * the second factor after a password.
 *
 * Choices, and why:
 * - Registration asks for a discoverable credential (residentKey "required") so the passkey can sign in
 *   without a username (passkey autofill, §5.4.4), and for user verification ("required"): a passkey is
 *   meant to be a first factor, and every passkey provider verifies the user (PIN, biometric).
 * - As a first factor the assertion must carry UV (the UV flag, §6.1): possession of the key plus a PIN
 *   or biometric checked by it are two factors; a key that only proves presence would be one factor,
 *   weaker than the password it replaces. As a second factor (after a password) UV is "preferred": the
 *   password is already the knowledge factor, so a security key without a PIN still adds possession.
 * - Attestation "none": Authly does not restrict authenticator models, so it has no use for attestation
 *   statements and does not ask for them (privacy, §14.4.1).
 * - Challenges are 256 random bits, kept server-side as hashes in PostgreSQL bound to the interaction
 *   (sign-in) or the session (registration), live CHALLENGE_TTL_SECONDS, and consumed before verifying:
 *   one challenge serves one attempt (§13.4.3), on any replica.
 */

/** How long a ceremony may take: the options' timeout and the challenge's life (§5.4.1 recommends 5 to 10 minutes). */
export const CHALLENGE_TTL_SECONDS = 5 * 60;

/** The bounds of a passkey's name (the user chooses it on the account page). */
export const PASSKEY_NAME_MAX_LENGTH = 64;

/** W3C WebAuthn §5.1: a credential ID is at most 1023 bytes, 1364 characters in base64url. */
export const MAX_CREDENTIAL_ID_LENGTH = 1364;

/**
 * The Relying Party: its ID is the issuer's host name (§5.1.2: a registrable domain suffix of the origin;
 * the host itself is the narrowest choice), and assertions are accepted only from the issuer's origin.
 */
export function relyingParty(config: Readonly<Config>): { rpId: string; origin: string } {
  const url = new URL(config.issuer);
  return { rpId: url.hostname, origin: url.origin };
}

/**
 * The user handle (§14.6.1: an opaque id of at most 64 bytes, no personal data): the user's UUID, the
 * same value that is the `sub` of its tokens. A first-factor assertion's userHandle must match it.
 */
function userHandle(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId, 'utf8'));
}

function newChallenge(): string {
  return randomToken(32);
}

/** The challenge the client signed, read from clientDataJSON (§5.8.1), or undefined when it is not there. */
function signedChallenge(clientDataJSON: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 256 ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/** The signature counter of authenticator data (§6.1: bytes 33–36, big-endian), or undefined when it is too short. */
function signCountOf(authenticatorData: string): number | undefined {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  return bytes.length >= 37 ? bytes.readUInt32BE(33) : undefined;
}

const TRANSPORTS: readonly AuthenticatorTransportFuture[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

function knownTransports(transports: readonly string[] | undefined): AuthenticatorTransportFuture[] {
  return (transports ?? []).filter((t): t is AuthenticatorTransportFuture => (TRANSPORTS as readonly string[]).includes(t));
}

// ---- Registration (account page) ------------------------------------------------------------------

/** Creation options for a new passkey of the signed-in user; the challenge is bound to the session `sid`. */
export async function registrationOptions(
  ctx: ServiceContext,
  input: { user: User; sid: string; rpName: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { rpId } = relyingParty(ctx.config);
  const challenge = newChallenge();
  const existing = await listCredentialsOfUser(ctx.db, input.user.id);
  const options = await generateRegistrationOptions({
    rpName: input.rpName,
    rpID: rpId,
    userName: input.user.email ?? input.user.username,
    userDisplayName: input.user.name ?? input.user.username,
    userID: userHandle(input.user.id),
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    // §5.4.3: the authenticator refuses to create a second credential for the same account.
    excludeCredentials: existing.map((c) => ({ id: c.id, transports: knownTransports(c.transports) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  await insertChallenge(ctx.db, sha256Base64url(challenge), { purpose: 'registration', sid: input.sid }, CHALLENGE_TTL_SECONDS);
  return options;
}

/**
 * Verifies an attestation (§7.1) against a challenge of this session, stores the credential and queues
 * the passkey_added mail in the same transaction. Throws PasskeyRejected.
 */
export async function finishRegistration(ctx: ServiceContext, input: RegistrationInput): Promise<WebAuthnCredentialRow> {
  try {
    const row = await register(ctx, input);
    ctx.metrics.passkeyCeremonies.inc({ ceremony: 'registration', result: 'success' });
    return row;
  } catch (err) {
    ctx.metrics.passkeyCeremonies.inc({ ceremony: 'registration', result: err instanceof PasskeyRejected ? err.reason : 'error' });
    throw err;
  }
}

export interface RegistrationInput {
  user: User;
  sid: string;
  response: RegistrationResponseJSON;
  name: string;
  mail: { locale: Locale; accountUrl: string };
}

async function register(ctx: ServiceContext, input: RegistrationInput): Promise<WebAuthnCredentialRow> {
  const challenge = signedChallenge(input.response.response.clientDataJSON);
  if (!challenge) throw new PasskeyRejected('malformed');
  if (!(await consumeChallenge(ctx.db, sha256Base64url(challenge), { purpose: 'registration', sid: input.sid }))) {
    throw new PasskeyRejected('challenge');
  }
  const { rpId, origin } = relyingParty(ctx.config);
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpId,
      requireUserVerification: true,
    });
  } catch {
    throw new PasskeyRejected('verification');
  }
  if (!verified.verified) throw new PasskeyRejected('verification');
  const info = verified.registrationInfo;
  return ctx.db.transaction(async (tx) => {
    const row = await insertCredential(tx, {
      id: info.credential.id,
      userId: input.user.id,
      publicKey: info.credential.publicKey,
      signCount: info.credential.counter,
      transports: knownTransports(input.response.response.transports),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: input.name,
    });
    // The same credential ID registered before (by this user or, absurdly, another): refused, not replaced.
    if (!row) throw new PasskeyRejected('duplicate');
    if (input.user.email) {
      await enqueueMail(tx, {
        to: input.user.email,
        template: 'passkey_added',
        locale: input.mail.locale,
        data: { username: input.user.username, passkeyName: input.name, accountUrl: input.mail.accountUrl },
      });
    }
    return row;
  });
}

// ---- Authentication (sign-in) ---------------------------------------------------------------------

/**
 * Request options for an interaction. Without a pending user (first factor) no credentials are listed:
 * the browser offers the discoverable passkeys it holds for this RP (autofill or the passkey dialog).
 * With one (second factor, after a password) only that user's credentials are allowed.
 */
export async function authenticationOptions(
  ctx: ServiceContext,
  input: { interactionUid: string; pendingUserId: string | null },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { rpId } = relyingParty(ctx.config);
  const challenge = newChallenge();
  const allow = input.pendingUserId ? await listCredentialsOfUser(ctx.db, input.pendingUserId) : [];
  const options = await generateAuthenticationOptions({
    rpID: rpId,
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    userVerification: input.pendingUserId ? 'preferred' : 'required',
    allowCredentials: allow.map((c) => ({ id: c.id, transports: knownTransports(c.transports) })),
  });
  await insertChallenge(
    ctx.db,
    sha256Base64url(challenge),
    { purpose: 'authentication', interactionUid: input.interactionUid, userId: input.pendingUserId },
    CHALLENGE_TTL_SECONDS,
  );
  return options;
}

/**
 * RFC 8176 methods of a verified passkey assertion:
 * - `hwk` for a device-bound credential (its private key cannot leave the authenticator), `swk` for a
 *   multi-device (synced, backup-eligible) one, whose key is held by software that syncs it.
 * - `user` when the authenticator verified the user (UV flag): the closest RFC 8176 value, since the RP
 *   does not learn whether a PIN or a biometric did it.
 * - `mfa` when UV passed: the key (something you have) and its PIN or biometric (something you know or
 *   are) are two independent factors, which is the definition of `mfa` in RFC 8176 section 2 (and the
 *   reason NIST SP 800-63B counts a verified multi-factor cryptographic authenticator as AAL2/3 by
 *   itself). As a second factor, `mfa` also holds without UV: the password was the first factor.
 */
export function passkeyMethods(credential: { deviceType: string }, userVerified: boolean, secondFactor: boolean): AuthMethod[] {
  const key: AuthMethod = credential.deviceType === 'multiDevice' ? 'swk' : 'hwk';
  if (userVerified) return [key, 'user', 'mfa'];
  return secondFactor ? [key, 'mfa'] : [key];
}

export interface PasskeySignIn {
  user: User;
  credential: WebAuthnCredentialRow;
  methods: AuthMethod[];
}

/**
 * Verifies an assertion (§7.2) for an interaction. The challenge is consumed first (one attempt per
 * challenge); the attempt is then counted by the login throttle like a password attempt, against the
 * credential's user when the credential is known, or against the credential ID when it is not, so guessing
 * costs the same and is throttled the same (TooManyAttempts). Every failure throws PasskeyRejected; the
 * page shows one generic message for all of them, the same as for a wrong password (no enumeration).
 */
export async function verifyPasskeySignIn(
  ctx: ServiceContext,
  input: { interactionUid: string; pendingUserId: string | null; response: AuthenticationResponseJSON; ip: string },
): Promise<PasskeySignIn> {
  const { response } = input;
  const challenge = signedChallenge(response.response.clientDataJSON);
  if (!challenge) throw new PasskeyRejected('malformed');
  const issued = await consumeChallenge(ctx.db, sha256Base64url(challenge), { purpose: 'authentication', interactionUid: input.interactionUid });
  // A challenge issued for the first factor cannot finish a second-factor step and vice versa: the user it
  // was issued for (or none) must still be the interaction's pending user.
  if (!issued || issued.userId !== input.pendingUserId) throw new PasskeyRejected('challenge');

  const credential = response.id.length <= MAX_CREDENTIAL_ID_LENGTH ? await findCredential(ctx.db, response.id) : undefined;
  const subject: LoginSubject = {
    account: credential ? { userId: credential.userId } : { login: `passkey:${response.id.slice(0, 200)}` },
    ip: input.ip,
  };
  await loginThrottle.reserve(ctx, subject);
  try {
    const result = await checkAssertion(ctx, input, challenge, credential);
    await loginThrottle.succeeded(ctx, subject);
    await recordLogin(ctx.db, result.user.id);
    ctx.metrics.passkeyCeremonies.inc({ ceremony: 'authentication', result: 'success' });
    return result;
  } catch (err) {
    if (err instanceof TooManyAttempts) throw err;
    await loginThrottle.failed(ctx, subject);
    ctx.metrics.passkeyCeremonies.inc({ ceremony: 'authentication', result: err instanceof PasskeyRejected ? err.reason : 'error' });
    throw err;
  }
}

async function checkAssertion(
  ctx: ServiceContext,
  input: { pendingUserId: string | null; response: AuthenticationResponseJSON },
  challenge: string,
  credential: WebAuthnCredentialRow | undefined,
): Promise<PasskeySignIn> {
  if (!credential) throw new PasskeyRejected('unknown_credential');
  const secondFactor = input.pendingUserId !== null;
  // The second factor must be a credential of the user whose password passed (SECURITY: the right user).
  if (secondFactor && credential.userId !== input.pendingUserId) throw new PasskeyRejected('wrong_user');
  // §7.2 step 6: a user handle returned by the authenticator must be the credential owner's.
  const handle = input.response.response.userHandle;
  if (handle !== undefined && handle !== Buffer.from(userHandle(credential.userId)).toString('base64url')) {
    throw new PasskeyRejected('wrong_user');
  }
  const signCount = signCountOf(input.response.response.authenticatorData);
  if (signCount === undefined) throw new PasskeyRejected('malformed');
  // §6.1.1: a counter that does not grow (when either is non-zero) means two copies of the key exist.
  if ((signCount > 0 || credential.signCount > 0) && signCount <= credential.signCount) {
    throw new PasskeyRejected('counter', credential.userId);
  }

  const { rpId, origin } = relyingParty(ctx.config);
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpId,
      credential: { id: credential.id, publicKey: credential.publicKey, counter: credential.signCount, transports: knownTransports(credential.transports) },
      requireUserVerification: !secondFactor,
    });
  } catch {
    throw new PasskeyRejected('verification');
  }
  if (!verified.verified) throw new PasskeyRejected('verification');
  const info = verified.authenticationInfo;
  if (!secondFactor && !info.userVerified) throw new PasskeyRejected('user_not_verified');
  // Two assertions racing with one counter value: only the first moves the counter (a removed passkey
  // has no row left to move).
  const recorded = await recordCredentialUse(ctx.db, credential.id, {
    previousCount: credential.signCount,
    signCount: info.newCounter,
    backedUp: info.credentialBackedUp,
  });
  if (!recorded) throw new PasskeyRejected('counter', credential.userId);
  const user = await findUserById(ctx.db, credential.userId);
  if (!user || !user.isActive) throw new PasskeyRejected('inactive_user');
  return { user, credential, methods: passkeyMethods(credential, info.userVerified, secondFactor) };
}

/**
 * Removes one of the user's passkeys and, in the same transaction, queues the passkey_removed mail: the
 * owner hears of a removal they did not make. False when the user has no passkey with that id.
 */
export async function removePasskey(
  ctx: ServiceContext,
  user: User,
  credentialId: string,
  mail: { locale: Locale; accountUrl: string },
): Promise<boolean> {
  if (credentialId.length > MAX_CREDENTIAL_ID_LENGTH) return false;
  return ctx.db.transaction(async (tx) => {
    const name = await deleteCredentialOfUser(tx, user.id, credentialId);
    if (name === undefined) return false;
    if (user.email) {
      await enqueueMail(tx, {
        to: user.email,
        template: 'passkey_removed',
        locale: mail.locale,
        data: { username: user.username, passkeyName: name, accountUrl: mail.accountUrl },
      });
    }
    return true;
  });
}
