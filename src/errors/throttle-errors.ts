/**
 * Too many failed sign-ins or client authentications for now (src/services/throttle-service.ts). Not an
 * OAuth error: the token endpoint answers it as `rate_limited` with Retry-After, the sign-in page as the
 * page with a message (src/http/error-handler.ts, src/routes/interaction).
 */
export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed attempts');
  }
}
