/**
 * Authentication Method Reference values (RFC 8176 section 2) that Authly's sign-in can produce: a
 * password, a one-time code (TOTP or recovery code), a passkey bound to hardware or software, user
 * verification at the authenticator, and `mfa` once two independent factors passed.
 */
export const AUTH_METHODS = ['pwd', 'otp', 'hwk', 'swk', 'user', 'mfa'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The union of two amr lists, in AUTH_METHODS order, so stored lists compare and read the same. */
export function mergeAuthMethods(a: readonly string[], b: readonly string[]): AuthMethod[] {
  const all = new Set([...a, ...b]);
  return AUTH_METHODS.filter((method) => all.has(method));
}
