import { findUserByLogin, recordLogin, updateUser, type User } from '../repositories/users-repository.js';
import type { ServiceContext } from './context.js';
import { hashPassword, passwordNeedsRehash, verifyPassword } from './password-hasher.js';
import { throttle } from './throttle-service.js';

/**
 * Checks a username (or email) and password. Unknown users, wrong passwords and disabled accounts are
 * indistinguishable to the caller, and cost the same argon2 verification (no user enumeration). A login
 * name or IP with too many recent failures is refused first (TooManyAttempts), existing account or not.
 */
export async function checkCredentials(ctx: ServiceContext, login: string, password: string, ip: string): Promise<User | undefined> {
  const limiter = throttle(ctx, 'login');
  const subject = { account: login, ip };
  await limiter.check(subject);
  const user = login.length <= 255 && password.length <= 1024 ? await findUserByLogin(ctx.db, login) : undefined;
  const ok = await verifyPassword(user?.passwordHash ?? null, password);
  if (!ok || !user || !user.isActive) {
    ctx.metrics.loginAttempts.inc({ status: 'failure' });
    await limiter.failed(subject);
    return undefined;
  }
  ctx.metrics.loginAttempts.inc({ status: 'success' });
  await limiter.succeeded(subject);
  await recordLogin(ctx.db, user.id);
  // Parameters were raised since this hash was made: upgrade it while the password is at hand.
  if (user.passwordHash && passwordNeedsRehash(user.passwordHash)) {
    await updateUser(ctx.db, user.id, { passwordHash: await hashPassword(password) });
  }
  return user;
}
