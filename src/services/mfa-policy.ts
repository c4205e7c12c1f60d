import type { Config } from '../config/config.js';
import { AUTH_METHODS, type AuthMethod } from '../lib/auth-methods.js';
import type { Client } from '../repositories/clients-repository.js';
import { hasSecondFactor } from '../repositories/mfa-repository.js';
import type { Session } from '../repositories/sessions-repository.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { ServiceContext } from './context.js';

/**
 * Authentication Context Class References Authly issues (OIDC Core section 2, `acr`). Authly's own two
 * values say whether the sign-in used one factor or two; the OpenID PAPE multi-factor policy URI is
 * accepted as a synonym of the second, for clients written against it. A request whose `acr_values`
 * (OIDC Core section 3.1.2.1) names a multi-factor value gets MFA whatever the policy says; other values
 * are voluntary and ignored when unknown.
 */
export const ACR_SINGLE_FACTOR = 'urn:authly:acr:sf';
export const ACR_MFA = 'urn:authly:acr:mfa';
export const ACR_PAPE_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
export const ACR_VALUES_SUPPORTED = [ACR_SINGLE_FACTOR, ACR_MFA, ACR_PAPE_MFA] as const;
const MFA_ACRS: ReadonlySet<string> = new Set([ACR_MFA, ACR_PAPE_MFA]);

export const MFA_POLICIES = ['off', 'optional', 'required'] as const;
export type MfaPolicy = (typeof MFA_POLICIES)[number];

/** True when the request's acr_values ask for a multi-factor sign-in. */
export function acrAsksForMfa(request: Pick<AuthorizationRequest, 'acrValues'>): boolean {
  return (request.acrValues ?? []).some((v) => MFA_ACRS.has(v));
}

/** acr_values asking for MFA, else the client's policy, else MFA_POLICY. */
export function effectiveMfaPolicy(config: Readonly<Config>, client: Pick<Client, 'mfaPolicy'>, request: Pick<AuthorizationRequest, 'acrValues'>): MfaPolicy {
  if (acrAsksForMfa(request)) return 'required';
  return client.mfaPolicy ?? config.mfaPolicy;
}

const POSSESSION: ReadonlySet<string> = new Set(['otp', 'hwk', 'swk']);

/**
 * RFC 8176 section 2 `mfa`: added when two independent factors passed, a password (knowledge) and a
 * one-time code or a key (possession). A passkey with user verification is multi-factor by itself; the
 * passkeys sign-in says so with its own `mfa`, which is kept.
 */
export function completeAmr(amr: readonly string[]): AuthMethod[] {
  const all = new Set(amr);
  if (all.has('pwd') && [...all].some((m) => POSSESSION.has(m))) all.add('mfa');
  return AUTH_METHODS.filter((m) => all.has(m));
}

/** The acr of a sign-in with these methods, for a request asking for `acrValues` (the first it satisfies). */
export function acrFor(amr: readonly string[], acrValues: readonly string[] | undefined): string {
  if (!amr.includes('mfa')) return ACR_SINGLE_FACTOR;
  return (acrValues ?? []).find((v) => MFA_ACRS.has(v)) ?? ACR_MFA;
}

export type SignInStep = 'done' | 'second_factor' | 'enrol';

/**
 * What the sign-in needs after the factors in `amr` passed: nothing more, a second factor the user has,
 * or (policy required, none set up) setting up TOTP inside the sign-in. A sign-in that already passed a
 * one-time code is done even without `mfa` (a passkey without user verification, then a code: both
 * possession factors), since there is nothing else to ask.
 */
export async function nextSignInStep(
  ctx: ServiceContext,
  request: AuthorizationRequest,
  client: Client,
  userId: string,
  amr: readonly string[],
): Promise<SignInStep> {
  if (amr.includes('mfa') || amr.includes('otp')) return 'done';
  const policy = effectiveMfaPolicy(ctx.config, client, request);
  if (policy === 'off') return 'done';
  const has = await hasSecondFactor(ctx.db, userId);
  if (has) return 'second_factor';
  return policy === 'required' ? 'enrol' : 'done';
}

/**
 * Whether an existing session may answer this request without a new sign-in (single sign-on): a client
 * that requires MFA (by policy or acr_values) needs a session whose sign-in had it. A new sign-in re-runs
 * every factor the policy asks for (continueSignIn). `optional` accepts any session: the factor is asked
 * at sign-in, not forced on sessions started before the user set it up.
 */
export function sessionSatisfiesMfaPolicy(
  config: Readonly<Config>,
  client: Pick<Client, 'mfaPolicy'>,
  request: Pick<AuthorizationRequest, 'acrValues'>,
  session: Pick<Session, 'amr'>,
): boolean {
  return effectiveMfaPolicy(config, client, request) !== 'required' || session.amr.includes('mfa');
}
