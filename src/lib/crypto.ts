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

/** GCM tags are pinned to the full 128 bits: a shorter tag given to setAuthTag would weaken the check. */
const GCM_TAG_BYTES = 16;

/**
 * AES-256-GCM with a 96-bit random IV and a 128-bit tag. `aad` binds the ciphertext to its context (for
 * example the row it is stored on), so it cannot be moved elsewhere and still decrypt. Output:
 * <version>.iv.tag.body (base64url); `version` names the envelope format of the caller (default v1).
 */
export function encryptAesGcm(key: Buffer, plain: string, aad: string, version = 'v1'): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [version, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/**
 * The inverse of encryptAesGcm; throws when the envelope, key or aad does not match. `aad` undefined reads
 * a legacy envelope written without associated data.
 */
export function decryptAesGcm(key: Buffer, envelope: string, aad: string | undefined, version = 'v1'): string {
  const [given, iv, tag, body] = envelope.split('.');
  if (given !== version || !iv || !tag || body === undefined) throw new Error('unknown AES-GCM envelope');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (tagBytes.length !== GCM_TAG_BYTES) throw new Error('AES-GCM tag must be 128 bits');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: GCM_TAG_BYTES });
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
