import { createHash } from 'node:crypto';
import { constantTimeEqual } from './crypto.js';

/** RFC 7636 section 4.1: 43-128 characters from the unreserved set. The challenge has the same shape. */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 section 4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** The S256 challenge of `verifier` compared in constant time (RFC 7636 section 4.6). */
export function verifyS256(verifier: string, challenge: string): boolean {
  return constantTimeEqual(s256(verifier), challenge);
}
