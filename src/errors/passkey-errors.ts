/**
 * A passkey ceremony that did not verify (src/services/passkey-service.ts). `reason` is for the audit log
 * and the developer, never shown as is: the page says only that the passkey was not accepted.
 */
export class PasskeyRejected extends Error {
  constructor(
    readonly reason:
      | 'malformed'
      | 'challenge'
      | 'unknown_credential'
      | 'wrong_user'
      | 'verification'
      | 'user_not_verified'
      | 'counter'
      | 'inactive_user'
      | 'duplicate',
    /** The credential's owner, when the credential was known (audit only). */
    readonly userId?: string,
  ) {
    super(`passkey rejected: ${reason}`);
  }
}
