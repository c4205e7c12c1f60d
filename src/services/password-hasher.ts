import argon2 from 'argon2';

/**
 * argon2id with OWASP's recommended parameters (19 MiB, 2 iterations, 1 lane). The parameters are encoded
 * in every hash, so raising them later re-hashes each password at its next successful login.
 */
export const ARGON2_PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_PARAMS);
}

// A real hash of a random password: verifying unknown users against it keeps login timing flat
// (no user enumeration through response time).
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  dummyHash ??= hashPassword(`unused-${Math.random()}`);
  const target = hash ?? (await dummyHash);
  try {
    const ok = await argon2.verify(target, password);
    return ok && hash !== null;
  } catch {
    return false;
  }
}

export function passwordNeedsRehash(hash: string): boolean {
  return argon2.needsRehash(hash, ARGON2_PARAMS);
}
