import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { ROUTES } from '../../config/routes.js';
import type { User } from '../../repositories/users-repository.js';
import type { ServiceContext } from '../../services/context.js';
import { sendPage } from '../../views/page.js';
import type { PageContext } from '../../views/page-context.js';
import { unverifiedPage, type Link } from '../../views/recovery-pages.js';
import { interactionPageContext, type Loaded } from '../interaction/interaction-context.js';
import { formCsrfToken } from './form-csrf.js';

/** The sign-in page's ways on (issue 12 §2), each only where its feature is on. */
export function signInLinks(config: Readonly<Config>, pc: PageContext, uid: string): Link[] {
  const { accounts } = config;
  const links: Link[] = [];
  if (accounts.passwordRecovery) links.push({ href: `${ROUTES.forgotPassword}?interaction=${encodeURIComponent(uid)}`, text: pc.t('recovery.forgot_link') });
  if (accounts.registrationEnabled) links.push({ href: `${ROUTES.signUp}?interaction=${encodeURIComponent(uid)}`, text: pc.t('recovery.sign_up_link') });
  if (accounts.mailAvailable && (accounts.requireEmailVerification || accounts.registrationEnabled)) {
    links.push({ href: ROUTES.resendVerification, text: pc.t('recovery.resend_link') });
  }
  return links;
}

/**
 * REQUIRE_EMAIL_VERIFICATION: a user whose address is not confirmed does not finish the sign-in. A user
 * without an address has nothing to confirm (an administrator created the account without one).
 */
export function needsEmailVerification(config: Readonly<Config>, user: User): boolean {
  return config.accounts.requireEmailVerification && user.email !== null && !user.emailVerified;
}

/** The stop page: the password was right, so its button may name the account to the resend form. */
export function sendUnverifiedPage(ctx: ServiceContext, request: FastifyRequest, reply: FastifyReply, loaded: Loaded, user: User): FastifyReply {
  const page = unverifiedPage(interactionPageContext(request, loaded), {
    action: ROUTES.resendVerification,
    fields: { csrf_token: formCsrfToken(ctx, request, reply), login: user.username },
  });
  return sendPage(reply, 403, page, { formAction: ["'self'"] });
}
