import { createHmac } from 'node:crypto';
import { decryptAesGcm, encryptAesGcm } from '../lib/crypto.js';

/**
 * client_secret_jwt (OIDC Core section 9) signs with the client secret itself (HMAC), while Authly stores
 * only an HMAC of secrets (SECURITY.md). For a client registered with client_secret_jwt the secret is also
 * kept AES-256-GCM encrypted, bound to its client_id (the associated data), under a key derived from the
 * client-secret key (itself derived from the server secret): written at creation and at each rotation,
 * read only to verify an assertion, never logged or returned. Every other client has none.
 */

const ENVELOPE = 'csj1';

/** A key of its own for the box, separate from the key that hashes secrets. */
function boxKey(clientSecretKey: Buffer): Buffer {
  return createHmac('sha256', clientSecretKey).update('authly client_secret_jwt box').digest();
}

export function sealClientSecret(clientSecretKey: Buffer, clientId: string, secret: string): string {
  return encryptAesGcm(boxKey(clientSecretKey), secret, clientId, ENVELOPE);
}

/** The secret, or undefined when the envelope does not open (another server secret, another client's row). */
export function openClientSecret(clientSecretKey: Buffer, clientId: string, envelope: string): string | undefined {
  try {
    return decryptAesGcm(boxKey(clientSecretKey), envelope, clientId, ENVELOPE);
  } catch {
    return undefined;
  }
}
