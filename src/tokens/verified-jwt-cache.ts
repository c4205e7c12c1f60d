import type { JWTPayload } from 'jose';

/**
 * Remembers access tokens whose signature already verified, so userinfo and introspection pay for an
 * ES256/EdDSA/RS256 verification once per token instead of once per request. A hit is the exact same
 * token string (a signature covers every byte), verified under the same key set (`generation`, bumped
 * when keys reload, so a withdrawn key stops vouching at once); expiry is checked on every hit, and the
 * revocation check in the database is not cached at all. Bounded: the oldest entry goes first.
 */
export class VerifiedJwtCache {
  private readonly entries = new Map<string, { payload: JWTPayload; generation: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The cached claims while still unexpired (RFC 7519 section 4.1.4: exp must be in the future). */
  get(token: string, generation: number, nowSeconds: number): JWTPayload | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.generation !== generation || typeof entry.payload.exp !== 'number' || entry.payload.exp <= nowSeconds) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.payload;
  }

  set(token: string, generation: number, payload: JWTPayload): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { payload: Object.freeze({ ...payload }), generation });
  }

  get size(): number {
    return this.entries.size;
  }
}
