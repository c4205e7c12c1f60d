import { findUserByLogin, recordLogin, updateUser, type User } from '../repositories/users-repository.js';
import type { ServiceContext } from './context.js';
import { hashPassword, passwordNeedsRehash, verifyPassword } from './password-hasher.js';
import { loginThrottle, type LoginSubject } from './throttle-service.js';

/**
 * Checks a username (or email) and password. Unknown users, wrong passwords and disabled accounts are
 * indistinguishable to the caller, and cost the same work: one lookup, one counted attempt, one argon2
 * verification (no user enumeration). The attempt is counted before the password is checked, against the
 * resolved account (its id, whichever spelling was typed) and the address, and refused with
 * TooManyAttempts while either waits (src/services/throttle-service.ts).
 */
export async function checkCredentials(ctx: ServiceContext, login: string, password: string, ip: string): Promise<User | undefined> {
  const found = login.length <= 255 && password.length <= 1024 ? await findUserByLogin(ctx.db, login) : undefined;
  const subject: LoginSubject = { account: found ? { userId: found.id } : { login }, ip };
  await loginThrottle.reserve(ctx, subject);
  const ok = await verifyPassword(found?.passwordHash ?? null, password);
  if (!ok || !found || !found.isActive) {
    ctx.metrics.loginAttempts.inc({ status: 'failure' });
    await loginThrottle.failed(ctx, subject);
    return undefined;
  }
  const user = found;
  ctx.metrics.loginAttempts.inc({ status: 'success' });
  await loginThrottle.succeeded(ctx, subject);
  await recordLogin(ctx.db, user.id);
  // Parameters were raised since this hash was made: upgrade it while the password is at hand.
  if (user.passwordHash && passwordNeedsRehash(user.passwordHash)) {
    await updateUser(ctx.db, user.id, { passwordHash: await hashPassword(password) });
  }
  return user;
}
