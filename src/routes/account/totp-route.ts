import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { pageContext } from '../../http/page-context.js';
import { formBody, singleParams } from '../../http/params.js';
import { findTotp } from '../../repositories/mfa-repository.js';
import { checkCredentials } from '../../services/login-service.js';
import {
  confirmTotpEnrolment,
  disableTotp,
  mailMfaChange,
  pendingTotpEnrolment,
  regenerateRecoveryCodes,
  unusedRecoveryCodes,
  verifyOneTimeCode,
} from '../../services/mfa-service.js';
import { accountLayout } from '../../views/account-layout.js';
import { totpAccountBody } from '../../views/mfa-pages.js';
import { sendPage } from '../../views/page.js';
import type { PageContext } from '../../views/page-context.js';
import { accountCsrfToken, checkAccountCsrfToken, requireRecentSignIn, type AccountSignIn } from './account-context.js';

const SECURITY = { formAction: ["'self'"] } as const;

/**
 * /account/security/totp: set up an authenticator app (QR code and key, confirmed by a first code, then
 * recovery codes shown once), see how many recovery codes are left, create new ones, or turn it off with
 * a current code or the password. Every form is a POST with the account CSRF token; every change is
 * audited and mailed (mfa_changed).
 */
export async function accountTotpRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const actions = {
    confirm: pathFor('accountTotp'),
    disable: pathFor('accountTotpDisable'),
    regenerate: pathFor('accountRecoveryCodes'),
    back: '/account/security',
  };

  async function render(
    reply: FastifyReply,
    pc: PageContext,
    signIn: AccountSignIn,
    status: number,
    extra: { notice?: string; error?: string; newCodes?: readonly string[] } = {},
  ): Promise<FastifyReply> {
    const { user, session } = signIn;
    const totp = await findTotp(ctx.db, user.id);
    let state: Parameters<typeof totpAccountBody>[1]['state'];
    if (totp?.confirmedAt) {
      state = { on: true, recoveryCodesLeft: await unusedRecoveryCodes(ctx, user.id) };
    } else {
      const setup = await pendingTotpEnrolment(ctx, user, pc.brand.productName);
      // Confirmed meanwhile by a concurrent request: show the state as it is now.
      if (!setup) return render(reply, pc, signIn, status, extra);
      state = { on: false, setup };
    }
    const body = totpAccountBody(pc, { csrfToken: accountCsrfToken(ctx, session), state, actions, ...extra });
    return sendPage(reply, status, accountLayout(pc, { section: 'security', title: pc.t('mfa.account_title'), body, notice: extra.notice }), SECURITY);
  }

  /** The signed-in user and the checked form, or undefined after a redirect or an error page. */
  async function postedForm(request: FastifyRequest, reply: FastifyReply) {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return undefined;
    const pc = pageContext(request);
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkAccountCsrfToken(ctx, signIn.session, form.csrf_token)) {
      await render(reply, pc, signIn, 403, { error: pc.t('mfa.form_expired') });
      return undefined;
    }
    return { signIn, pc, form };
  }

  function tooMany(reply: FastifyReply, pc: PageContext, signIn: AccountSignIn, err: unknown) {
    if (!(err instanceof TooManyAttempts)) throw err;
    reply.header('retry-after', String(err.retryAfterSeconds));
    return render(reply, pc, signIn, 429, { error: pc.t('mfa.too_many', { seconds: err.retryAfterSeconds }) });
  }

  app.get(ROUTES.accountTotp, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    return render(reply, pageContext(request), signIn, 200);
  });

  // Confirms the pending enrolment with the first code from the app.
  app.post(ROUTES.accountTotp, async (request, reply) => {
    const posted = await postedForm(request, reply);
    if (!posted) return reply;
    const { signIn, pc, form } = posted;
    try {
      const codes = await confirmTotpEnrolment(ctx, signIn.user, form.code ?? '', request.ip, pc.locale);
      if (!codes) return render(reply, pc, signIn, 200, { error: pc.t('mfa.invalid_code') });
      request.audit.record('mfa.totp_enabled', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid });
      return render(reply, pc, signIn, 200, { notice: pc.t('mfa.enabled_notice'), newCodes: codes });
    } catch (err) {
      return tooMany(reply, pc, signIn, err);
    }
  });

  // Turning it off needs a current code (or a recovery code) or the password, both throttled.
  app.post(ROUTES.accountTotpDisable, async (request, reply) => {
    const posted = await postedForm(request, reply);
    if (!posted) return reply;
    const { signIn, pc, form } = posted;
    const { user } = signIn;
    try {
      const code = form.code?.trim();
      const proven = code
        ? (await verifyOneTimeCode(ctx, user.id, code, request.ip)) !== undefined
        : (await checkCredentials(ctx, user.username, form.password ?? '', request.ip))?.id === user.id;
      if (!proven) return render(reply, pc, signIn, 200, { error: pc.t('mfa.disable_failed') });
    } catch (err) {
      return tooMany(reply, pc, signIn, err);
    }
    if (await disableTotp(ctx, user, pc.locale)) {
      request.audit.record('mfa.totp_disabled', { actor: user.id, actor_type: 'user', sid: signIn.session.sid });
    }
    return render(reply, pc, signIn, 200, { notice: pc.t('mfa.disabled_notice') });
  });

  app.post(ROUTES.accountRecoveryCodes, async (request, reply) => {
    const posted = await postedForm(request, reply);
    if (!posted) return reply;
    const { signIn, pc } = posted;
    const totp = await findTotp(ctx.db, signIn.user.id);
    if (!totp?.confirmedAt) return render(reply, pc, signIn, 200);
    const codes = await regenerateRecoveryCodes(ctx, signIn.user.id);
    await mailMfaChange(ctx, signIn.user, 'recovery_codes_regenerated', pc.locale);
    request.audit.record('mfa.recovery_codes_regenerated', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid });
    return render(reply, pc, signIn, 200, { notice: pc.t('mfa.regenerated_notice'), newCodes: codes });
  });

  // A GET on a POST-only form URL (a reload after posting): the section's page.
  for (const route of [ROUTES.accountTotpDisable, ROUTES.accountRecoveryCodes]) {
    app.get(route, async (_request, reply) => reply.header('cache-control', 'no-store').redirect(pathFor('accountTotp'), 303));
  }
}
