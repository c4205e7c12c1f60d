import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ROUTES } from '../../config/routes.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { formBody, singleParams } from '../../http/params.js';
import { pageContext } from '../../http/page-context.js';
import { requestEmailChange, sendVerificationLink } from '../../services/account-links-service.js';
import { verifyPassword } from '../../services/password-hasher.js';
import { loginThrottle, type LoginSubject } from '../../services/throttle-service.js';
import { sendPage } from '../../views/page.js';
import { waitInWords } from '../../views/components.js';
import { accountEmailPage, messagePage } from '../../views/recovery-pages.js';
import { accountCsrfToken, checkAccountCsrfToken, requireAccountSignIn, type AccountSignIn } from './account-context.js';

const EMAIL = z.email().max(320);
const SELF = { formAction: ["'self'"] };

/**
 * /account/email (issue 12 §2 and §4): the address and whether it is confirmed, a new confirmation link,
 * and the email change — the new address gets a confirmation link and the old one a notice; the change
 * applies only when the link is used. The current password is asked for (a session left open on a shared
 * computer must not be enough to take the account over through its address) and counted by the sign-in
 * throttle like a sign-in attempt.
 */
export async function accountEmailRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;

  function render(request: FastifyRequest, reply: FastifyReply, signIn: AccountSignIn, status: number, extra: { notice?: string; error?: string; newEmail?: string } = {}) {
    const pc = pageContext(request);
    const { user, session } = signIn;
    const page = accountEmailPage(pc, {
      email: user.email,
      emailVerified: user.emailVerified,
      action: ROUTES.accountEmail,
      csrfToken: accountCsrfToken(ctx, session),
      ...extra,
    });
    return sendPage(reply, status, page, SELF);
  }

  app.get(ROUTES.accountEmail, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    if (!signIn) return reply;
    return render(request, reply, signIn, 200);
  });

  app.post(ROUTES.accountEmail, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const pc = pageContext(request);
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkAccountCsrfToken(ctx, signIn.session, form.csrf_token)) {
      return sendPage(reply, 403, messagePage(pc, { title: pc.t('recovery.form_expired_title'), message: pc.t('recovery.form_expired'), kind: 'error' }), { formAction: ["'none'"] });
    }
    const { user } = signIn;
    if (!ctx.config.accounts.mailAvailable) return render(request, reply, signIn, 409, { error: pc.t('recovery.unavailable') });

    if (form.action === 'resend') {
      const outcome = await sendVerificationLink(ctx, user.id, pc.locale, true);
      if (outcome === 'throttled') return render(request, reply, signIn, 429, { error: pc.t('recovery.throttled') });
      if (outcome === 'sent') request.audit.record('user.verification_sent', { actor: user.id, actor_type: 'user', user_id: user.id });
      return render(request, reply, signIn, 200, outcome === 'sent' ? { notice: pc.t('recovery.verification_sent', { email: user.email ?? '' }) } : {});
    }

    const newEmail = (form.email ?? '').trim();
    if (form.action !== 'change' || !EMAIL.safeParse(newEmail).success) {
      return render(request, reply, signIn, 400, { error: pc.t('recovery.email_invalid'), newEmail });
    }
    // The password is checked as a sign-in would be: counted per account and address first.
    const subject: LoginSubject = { account: { userId: user.id }, ip: request.ip };
    try {
      await loginThrottle.reserve(ctx, subject);
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      reply.header('retry-after', String(err.retryAfterSeconds));
      return render(request, reply, signIn, 429, { error: pc.t('recovery.too_many_attempts', { wait: waitInWords(pc.locale, err.retryAfterSeconds) }), newEmail });
    }
    const password = form.current_password ?? '';
    if (password.length > 1024 || !(await verifyPassword(user.passwordHash, password))) {
      await loginThrottle.failed(ctx, subject);
      return render(request, reply, signIn, 400, { error: pc.t('recovery.wrong_password'), newEmail });
    }
    await loginThrottle.succeeded(ctx, subject);

    const outcome = await requestEmailChange(ctx, user.id, newEmail, pc.locale);
    if (outcome === 'same_address') return render(request, reply, signIn, 400, { error: pc.t('recovery.same_address'), newEmail });
    if (outcome === 'throttled') return render(request, reply, signIn, 429, { error: pc.t('recovery.throttled'), newEmail });
    request.audit.record('user.email_change_requested', { actor: user.id, actor_type: 'user', user_id: user.id });
    return render(request, reply, signIn, 200, { notice: pc.t('recovery.change_sent', { email: newEmail }) });
  });
}
