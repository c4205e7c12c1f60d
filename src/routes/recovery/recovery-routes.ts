import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { pathFor, ROUTES } from '../../config/routes.js';
import { withTimeFloor } from '../../lib/equal-time.js';
import { formBody, singleParams, type SingleParams } from '../../http/params.js';
import { pageContext } from '../../http/page-context.js';
import {
  checkLinkCsrfToken,
  isLinkToken,
  linkCsrfToken,
  peekLink,
  PURPOSES_OF,
  requestPasswordReset,
  requestVerificationResend,
  setPasswordByLink,
  signUp,
  verifyEmailByLink,
} from '../../services/account-links-service.js';
import type { PageContext } from '../../views/page-context.js';
import { sendPage } from '../../views/page.js';
import { confirmLinkPage, loginRequestPage, messagePage, setPasswordPage, signUpPage, type Link } from '../../views/recovery-pages.js';
import { checkFormCsrfToken, formCsrfToken } from './form-csrf.js';

/**
 * The pages around mailed single-use links (issue 12 §2): "Forgot password?", the new-password page of a
 * reset or invitation link, the confirmation of an email address, a new confirmation link, and sign-up.
 * A GET of a link only shows a page with a button (mail scanners fetch links); the POST uses the link up.
 * Where an answer could tell whether an account exists, it is the same text, status and time.
 */

/** How long the no-enumeration answers take at least (src/lib/equal-time.ts); well above their work. */
export const EQUAL_ANSWER_MS = 250;
/** Sign-up hashes a password on both paths; its floor leaves room for argon2 on a busy host. */
export const SIGN_UP_ANSWER_MS = 600;

// The rules of the admin API (src/routes/admin/users-routes.ts): 8 to 1024 characters; usernames of
// letters, digits and . _ @ + -.
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 1024;
const USERNAME = /^[\p{L}\p{N}._@+-]{1,255}$/u;
const EMAIL = z.email().max(320);
/** An interaction id to return to after sign-up (the sign-in page's link carries it). */
const INTERACTION_ID = /^[A-Za-z0-9_-]{1,100}$/;

const SELF = { formAction: ["'self'"] };
const NONE = { formAction: ["'none'"] };

function form(request: FastifyRequest): SingleParams {
  return singleParams(formBody(request.body, request.headers['content-type']));
}

function query(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

function passwordProblem(pc: PageContext, password: string | undefined, confirm: string | undefined): string | undefined {
  const length = [...(password ?? '')].length;
  if (length < PASSWORD_MIN) return pc.t('recovery.password_too_short');
  if (length > PASSWORD_MAX) return pc.t('recovery.password_too_long');
  if (password !== confirm) return pc.t('recovery.password_mismatch');
  return undefined;
}

export async function recoveryRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { accounts } = ctx.config;

  const unavailable = (request: FastifyRequest, reply: FastifyReply) => {
    const pc = pageContext(request);
    return sendPage(reply, 404, messagePage(pc, { title: pc.t('recovery.unavailable_title'), message: pc.t('recovery.unavailable'), kind: 'error' }), NONE);
  };
  const formExpired = (request: FastifyRequest, reply: FastifyReply) => {
    const pc = pageContext(request);
    return sendPage(reply, 403, messagePage(pc, { title: pc.t('recovery.form_expired_title'), message: pc.t('recovery.form_expired'), kind: 'error' }), NONE);
  };
  const invalidLink = (request: FastifyRequest, reply: FastifyReply, again: Link | undefined) => {
    const pc = pageContext(request);
    const page = messagePage(pc, { title: pc.t('recovery.link_invalid_title'), message: pc.t('recovery.link_invalid'), kind: 'error', links: again ? [again] : [] });
    return sendPage(reply, 400, page, NONE);
  };

  // The pending sign-in a page was reached from (the sign-in page's links carry its id), to lead back to.
  const validInteraction = (value: unknown): string | undefined => (typeof value === 'string' && INTERACTION_ID.test(value) ? value : undefined);
  const interactionField = (value: unknown): Record<string, string> => {
    const uid = validInteraction(value);
    return uid ? { interaction: uid } : {};
  };
  const signInLink = (pc: PageContext, interaction: unknown): Link[] => {
    const uid = validInteraction(interaction);
    return uid ? [{ href: pathFor('interaction', { uid }), text: pc.t('recovery.continue_sign_in') }] : [];
  };

  // "Forgot password?" --------------------------------------------------------------------------------
  function forgotPage(request: FastifyRequest, reply: FastifyReply, status: number, extra: { login?: string; sent?: boolean; interaction?: unknown } = {}) {
    const pc = pageContext(request);
    const page = loginRequestPage(pc, {
      title: pc.t('recovery.forgot_title'),
      intro: pc.t('recovery.forgot_intro'),
      action: ROUTES.forgotPassword,
      fields: { csrf_token: formCsrfToken(ctx, request, reply), ...interactionField(extra.interaction) },
      login: extra.login,
      sent: extra.sent ? pc.t('recovery.forgot_sent', { minutes: accounts.resetTtlSeconds / 60 }) : undefined,
    });
    return sendPage(reply, status, page, SELF);
  }

  app.get(ROUTES.forgotPassword, async (request, reply) =>
    accounts.passwordRecovery ? forgotPage(request, reply, 200, { interaction: query(request).interaction }) : unavailable(request, reply),
  );

  app.post(ROUTES.forgotPassword, async (request, reply) => {
    if (!accounts.passwordRecovery) return unavailable(request, reply);
    const params = form(request);
    if (!checkFormCsrfToken(ctx, request, params.csrf_token)) return formExpired(request, reply);
    const login = (params.login ?? '').trim();
    const interaction = validInteraction(params.interaction);
    const userId = await withTimeFloor(EQUAL_ANSWER_MS, () => requestPasswordReset(ctx, login, pageContext(request).locale, interaction));
    if (userId) request.audit.record('user.password_reset_requested', { user_id: userId });
    // The same page whatever the login named: the typed login is shown back either way.
    return forgotPage(request, reply, 200, { login, sent: true, interaction });
  });

  // The new-password page of a reset or invitation link --------------------------------------------
  const SET_PASSWORD = {
    resetPassword: {
      purpose: 'reset_password',
      title: (pc: PageContext) => pc.t('recovery.reset_title'),
      intro: (pc: PageContext, username: string) => pc.t('recovery.reset_intro', { username }),
      again: (pc: PageContext): Link | undefined => (accounts.passwordRecovery ? { href: ROUTES.forgotPassword, text: pc.t('recovery.request_new_link') } : undefined),
      doneTitle: (pc: PageContext) => pc.t('recovery.password_changed_title'),
      done: (pc: PageContext) => pc.t('recovery.password_changed'),
      event: 'user.password_reset',
    },
    acceptInvitation: {
      purpose: 'invitation',
      title: (pc: PageContext, username = '') => pc.t('recovery.invitation_title', { username }),
      intro: (pc: PageContext, username: string) => pc.t('recovery.invitation_intro', { username }),
      again: (): Link | undefined => undefined,
      doneTitle: (pc: PageContext) => pc.t('recovery.invitation_done_title'),
      done: (pc: PageContext) => pc.t('recovery.invitation_done'),
      event: 'user.invitation_accepted',
    },
  } as const;

  for (const route of ['resetPassword', 'acceptInvitation'] as const) {
    const kind = SET_PASSWORD[route];
    const render = (request: FastifyRequest, reply: FastifyReply, status: number, token: string, username: string, interaction: unknown, error?: string) => {
      const pc = pageContext(request);
      const page = setPasswordPage(pc, {
        title: route === 'acceptInvitation' ? kind.title(pc, username) : kind.title(pc),
        intro: kind.intro(pc, username),
        username,
        action: ROUTES[route],
        fields: { token, csrf_token: linkCsrfToken(ctx, token), ...interactionField(interaction) },
        error,
      });
      return sendPage(reply, status, page, SELF);
    };

    app.get(ROUTES[route], async (request, reply) => {
      const { token } = query(request);
      const link = typeof token === 'string' && isLinkToken(token) ? await peekLink(ctx, token, PURPOSES_OF[route]) : undefined;
      if (!link) return invalidLink(request, reply, kind.again(pageContext(request)));
      return render(request, reply, 200, token as string, link.user.username, query(request).interaction);
    });

    app.post(ROUTES[route], async (request, reply) => {
      const pc = pageContext(request);
      const params = form(request);
      const token = params.token;
      if (!isLinkToken(token)) return invalidLink(request, reply, kind.again(pc));
      if (!checkLinkCsrfToken(ctx, token, params.csrf_token)) return formExpired(request, reply);
      const problem = passwordProblem(pc, params.password, params.password_confirm);
      if (problem) {
        const link = await peekLink(ctx, token, PURPOSES_OF[route]);
        if (!link) return invalidLink(request, reply, kind.again(pc));
        return render(request, reply, 400, token, link.user.username, params.interaction, problem);
      }
      const user = await setPasswordByLink(ctx, token, kind.purpose, params.password!, pc.locale);
      if (!user) return invalidLink(request, reply, kind.again(pc));
      request.audit.record(kind.event, { actor: user.id, actor_type: 'user', user_id: user.id });
      const page = messagePage(pc, { title: kind.doneTitle(pc), message: kind.done(pc), kind: 'notice', links: signInLink(pc, params.interaction) });
      return sendPage(reply, 200, page, NONE);
    });
  }

  // Email confirmation (a new account's address, or the new address of an email change) -------------
  app.get(ROUTES.verifyEmail, async (request, reply) => {
    const pc = pageContext(request);
    const { token } = query(request);
    const link = typeof token === 'string' && isLinkToken(token) ? await peekLink(ctx, token, PURPOSES_OF.verifyEmail) : undefined;
    if (!link) return invalidLink(request, reply, { href: ROUTES.resendVerification, text: pc.t('recovery.request_new_link') });
    const vars = { email: link.email, username: link.user.username };
    const change = link.purpose === 'change_email';
    const page = confirmLinkPage(pc, {
      title: pc.t('recovery.verify_title'),
      intro: change ? pc.t('recovery.change_intro', vars) : pc.t('recovery.verify_intro', vars),
      button: change ? pc.t('recovery.change_button') : pc.t('recovery.verify_button'),
      action: ROUTES.verifyEmail,
      fields: { token: token as string, csrf_token: linkCsrfToken(ctx, token as string) },
    });
    return sendPage(reply, 200, page, SELF);
  });

  app.post(ROUTES.verifyEmail, async (request, reply) => {
    const pc = pageContext(request);
    const params = form(request);
    const again = { href: ROUTES.resendVerification, text: pc.t('recovery.request_new_link') };
    const token = params.token;
    if (!isLinkToken(token)) return invalidLink(request, reply, again);
    if (!checkLinkCsrfToken(ctx, token, params.csrf_token)) return formExpired(request, reply);
    const outcome = await verifyEmailByLink(ctx, token);
    if (outcome.result === 'invalid') return invalidLink(request, reply, again);
    if (outcome.result === 'address_taken') {
      return sendPage(reply, 409, messagePage(pc, { title: pc.t('recovery.link_invalid_title'), message: pc.t('recovery.address_taken'), kind: 'error' }), NONE);
    }
    const { user } = outcome;
    const email = user.email ?? '';
    if (outcome.result === 'email_changed') {
      request.audit.record('user.email_changed', { actor: user.id, actor_type: 'user', user_id: user.id });
      return sendPage(reply, 200, messagePage(pc, { title: pc.t('recovery.verified_title'), message: pc.t('recovery.changed', { email }), kind: 'notice' }), NONE);
    }
    request.audit.record('user.email_verified', { actor: user.id, actor_type: 'user', user_id: user.id });
    return sendPage(reply, 200, messagePage(pc, { title: pc.t('recovery.verified_title'), message: pc.t('recovery.verified', { email }), kind: 'notice' }), NONE);
  });

  // A new confirmation link, from the sign-in page (or the REQUIRE_EMAIL_VERIFICATION stop) -----------
  function resendPage(request: FastifyRequest, reply: FastifyReply, extra: { login?: string; sent?: boolean } = {}) {
    const pc = pageContext(request);
    const page = loginRequestPage(pc, {
      title: pc.t('recovery.resend_title'),
      intro: pc.t('recovery.resend_intro'),
      action: ROUTES.resendVerification,
      fields: { csrf_token: formCsrfToken(ctx, request, reply) },
      login: extra.login,
      sent: extra.sent ? pc.t('recovery.resend_sent') : undefined,
    });
    return sendPage(reply, 200, page, SELF);
  }

  app.get(ROUTES.resendVerification, async (request, reply) => (accounts.mailAvailable ? resendPage(request, reply) : unavailable(request, reply)));

  app.post(ROUTES.resendVerification, async (request, reply) => {
    if (!accounts.mailAvailable) return unavailable(request, reply);
    const params = form(request);
    if (!checkFormCsrfToken(ctx, request, params.csrf_token)) return formExpired(request, reply);
    const login = (params.login ?? '').trim();
    const userId = await withTimeFloor(EQUAL_ANSWER_MS, () => requestVerificationResend(ctx, login, pageContext(request).locale));
    if (userId) request.audit.record('user.verification_sent', { user_id: userId });
    return resendPage(request, reply, { login, sent: true });
  });

  // Self-registration (REGISTRATION_ENABLED) ----------------------------------------------------------

  function renderSignUp(request: FastifyRequest, reply: FastifyReply, status: number, interaction: unknown, values: { username?: string; email?: string; error?: string } = {}) {
    const pc = pageContext(request);
    const fields: Record<string, string> = { csrf_token: formCsrfToken(ctx, request, reply), ...interactionField(interaction) };
    return sendPage(reply, status, signUpPage(pc, { action: ROUTES.signUp, fields, ...values, links: signInLink(pc, interaction) }), SELF);
  }

  app.get(ROUTES.signUp, async (request, reply) =>
    accounts.registrationEnabled ? renderSignUp(request, reply, 200, query(request).interaction) : unavailable(request, reply),
  );

  app.post(ROUTES.signUp, async (request, reply) => {
    if (!accounts.registrationEnabled) return unavailable(request, reply);
    const pc = pageContext(request);
    const params = form(request);
    if (!checkFormCsrfToken(ctx, request, params.csrf_token)) return formExpired(request, reply);
    const username = (params.username ?? '').trim();
    const email = (params.email ?? '').trim();
    const values = { username, email };
    if (!USERNAME.test(username)) return renderSignUp(request, reply, 400, params.interaction, { ...values, error: pc.t('recovery.username_invalid') });
    if (!EMAIL.safeParse(email).success) return renderSignUp(request, reply, 400, params.interaction, { ...values, error: pc.t('recovery.email_invalid') });
    const problem = passwordProblem(pc, params.password, params.password_confirm);
    if (problem) return renderSignUp(request, reply, 400, params.interaction, { ...values, error: problem });

    const outcome = await withTimeFloor(SIGN_UP_ANSWER_MS, () => signUp(ctx, { username, email, password: params.password! }, pc.locale));
    if (outcome.result === 'username_taken') return renderSignUp(request, reply, 409, params.interaction, { ...values, error: pc.t('recovery.username_taken') });
    if (outcome.result === 'created') request.audit.record('user.registered', { actor: outcome.user.id, actor_type: 'user', user_id: outcome.user.id });
    // A fresh address and one already in use get the same page (its owner was mailed instead).
    const page = messagePage(pc, {
      title: pc.t('recovery.sign_up_done_title'),
      message: pc.t('recovery.sign_up_done', { email }),
      kind: 'notice',
      links: signInLink(pc, params.interaction),
    });
    return sendPage(reply, 200, page, NONE);
  });
}
