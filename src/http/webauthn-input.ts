import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';

/**
 * The `credential` form field of the passkey forms: the PublicKeyCredential as JSON (W3C WebAuthn §5.1,
 * toJSON), checked at the edge so that the service only sees well-formed base64url members. Anything else
 * is undefined: the route answers it like any other passkey that was not accepted.
 */
const base64url = (max: number) => z.string().max(max).regex(/^[A-Za-z0-9_-]*$/);
// §5.1: a credential ID is at most 1023 bytes (1364 base64url characters).
const credentialId = base64url(1364).min(1);
const common = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

const assertionSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(4096).min(1),
    authenticatorData: base64url(4096).min(1),
    signature: base64url(1024).min(1),
    // §5.4.3: a user handle is at most 64 bytes.
    userHandle: base64url(88).min(1).optional(),
  }),
});

const attestationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(4096).min(1),
    attestationObject: base64url(24 * 1024).min(1),
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
});

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseAssertion(text: string | undefined): AuthenticationResponseJSON | undefined {
  const parsed = assertionSchema.safeParse(parseJson(text));
  return parsed.success ? (parsed.data as AuthenticationResponseJSON) : undefined;
}

export function parseAttestation(text: string | undefined): RegistrationResponseJSON | undefined {
  const parsed = attestationSchema.safeParse(parseJson(text));
  return parsed.success ? (parsed.data as RegistrationResponseJSON) : undefined;
}
