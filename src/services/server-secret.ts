import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { randomToken } from '../lib/crypto.js';

/**
 * The server's own secret (JWT_SECRET_KEY). Development without one generates a random secret once and
 * keeps it in AUTHLY_DATA_DIR (mode 0600), so restarts keep client secrets and CSRF tokens valid.
 * Production requires the variable (enforced by config).
 */
export function resolveServerSecret(config: Pick<Config, 'jwtSecretKey' | 'dataDir'>): string {
  if (config.jwtSecretKey) return config.jwtSecretKey;
  const file = path.join(config.dataDir, 'server-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomToken(48);
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

/** A purpose-bound key derived from the server secret, so one use can never stand in for another. */
export function deriveKey(secret: string, purpose: 'client-secret' | 'csrf' | 'refresh-token-successor' | 'cache-integrity' | 'throttle' | 'totp' | 'dpop-nonce'): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'authly', purpose, 32));
}
