import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

// Each randomBytes() call is a trip into OpenSSL's generator (about 5 µs here, per token); drawing tokens
// from a block filled 4 KiB at a time costs a copy. Every byte is handed out once (node's randomUUID
// keeps the same kind of cache).
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A random URL-safe token; 32 bytes = 256 bits unless asked otherwise. */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function hmacSha256Base64url(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

/** Constant-time string comparison; unequal lengths compare against a dummy so timing stays flat. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/**
 * AES-256-GCM with a 96-bit random IV. `aad` binds the ciphertext to its context (for example the row
 * it is stored on), so it cannot be moved elsewhere and still decrypt. Output: v1.iv.tag.body (base64url).
 */
export function encryptAesGcm(key: Buffer, plain: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** The inverse of encryptAesGcm; throws when the envelope, key or aad does not match. */
export function decryptAesGcm(key: Buffer, envelope: string, aad: string): string {
  const [version, iv, tag, body] = envelope.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown AES-GCM envelope');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
