import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ROUTES, urlFor } from '../../config/routes.js';
import { InvalidRequest } from '../../errors/oauth-errors.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { rawQuery } from '../../http/form-body.js';
import { pageContext } from '../../http/page-context.js';
import { formBody, singleParams, type SingleParams } from '../../http/params.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../lib/password-rules.js';
import {
  changePassword,
  endOtherSessions,
  endOwnSession,
  listConnectedApplications,
  listOwnSessions,
  revokeApplication,
  updateProfile,
} from '../../services/account/account-service.js';
import {
  accountReturnPath,
  ACCOUNT_SIGN_IN_TTL_SECONDS,
  DEFAULT_RETURN_TO,
  finishAccountSignIn,
  readAccountSignInCookie,
  startAccountSignIn,
} from '../../services/account/account-sign-in.js';
import { endSession } from '../../services/logout-service.js';
import { findSession, SESSION_COOKIE } from '../../services/session-service.js';
import {
  accountProblemPage,
  accountSignedOutPage,
  applicationsPage,
  profilePage,
  securityPage,
  sessionsPage,
  signOutPage,
} from '../../views/account-pages.js';
import { sendPage } from '../../views/page.js';
import type { PageContext } from '../../views/page-context.js';
import { accountCsrfToken, accountSignIn, checkAccountCsrfToken, requireAccountSignIn, type AccountSignIn } from './account-context.js';
import { hasConfirmedTotp } from '../../repositories/mfa-repository.js';
import { countCredentialsOfUser } from '../../repositories/webauthn-repository.js';

/** The sign-in cookie: only the callback reads it, and it lives as long as a sign-in may take. */
const SIGN_IN_COOKIE = 'authly_account_sign_in';

/** Account forms post to the account itself and redirect nowhere else. */
const SELF = { formAction: ["'self'"] } as const;

const PROFILE_FIELD_MAX = 255;
const profileForm = z.object({
  name: z.string().trim().max(PROFILE_FIELD_MAX).optional(),
  given_name: z.string().trim().max(PROFILE_FIELD_MAX).optional(),
  family_name: z.string().trim().max(PROFILE_FIELD_MAX).optional(),
});

/**
 * The user's own account (issue 12 §4): profile, password, sessions and connected applications, and the
 * sign-in that leads there through Authly's own authorization endpoint (src/services/account/account-sign-in.ts).
 * Every page needs the browser's session (requireAccountSignIn); every change is a POST with the account
 * CSRF token, audited; a GET on a form's URL goes back to its section.
 */
export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const { config } = ctx;
  const secure = config.issuer.startsWith('https:');

  const problem = (reply: FastifyReply, status: number, message: (pc: PageContext) => string, link?: { href: string; label: (pc: PageContext) => string }) => {
    const pc = pageContext(reply.request);
    const to = link ?? { href: ROUTES.account, label: (p: PageContext) => p.t('account.problem.back') };
    return sendPage(reply, status, accountProblemPage(pc, message(pc), { href: to.href, label: to.label(pc) }), SELF);
  };

  const signInAgain = (returnTo: string) => ({
    href: `${ROUTES.accountSignIn}?return_to=${encodeURIComponent(returnTo)}`,
    label: (pc: PageContext) => pc.t('account.sign_in_again'),
  });

  /** Query parameters, or undefined after a 400 page (a repeated parameter, not a query). */
  function queryOf(request: FastifyRequest, reply: FastifyReply): SingleParams | undefined {
    try {
      return singleParams(rawQuery(request.url));
    } catch (err) {
      if (!(err instanceof InvalidRequest)) throw err;
      problem(reply, 400, (pc) => pc.t('account.problem.expired'), signInAgain(DEFAULT_RETURN_TO));
      return undefined;
    }
  }

  /**
   * The signed-in user and the form of a change, once its CSRF token matched the session; otherwise a
   * page (sign-in redirect, 400 for a body that is not a form, 403 for a missing or wrong token) was sent.
   */
  async function signedInForm(request: FastifyRequest, reply: FastifyReply): Promise<{ signIn: AccountSignIn; form: SingleParams } | undefined> {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    if (!signIn) return undefined;
    let form: SingleParams;
    try {
      form = singleParams(formBody(request.body, request.headers['content-type']));
    } catch (err) {
      if (!(err instanceof InvalidRequest)) throw err;
      problem(reply, 400, (pc) => pc.t('account.problem.csrf'));
      return undefined;
    }
    if (!checkAccountCsrfToken(ctx, signIn.session, form.csrf_token)) {
      problem(reply, 403, (pc) => pc.t('account.problem.csrf'));
      return undefined;
    }
    return { signIn, form };
  }

  const clearSessionCookie = (reply: FastifyReply) => reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  const clearSignInCookie = (reply: FastifyReply) =>
    reply.clearCookie(SIGN_IN_COOKIE, { path: ROUTES.accountCallback, httpOnly: true, sameSite: 'lax', secure });

  // ---- Sign-in: an authorization of the built-in client through Authly itself, then the callback. ----

  app.get(ROUTES.accountSignIn, async (request, reply) => {
    const query = queryOf(request, reply);
    if (!query) return reply;
    const returnTo = accountReturnPath(query.return_to);
    if (!returnTo) return problem(reply, 400, (pc) => pc.t('account.problem.return_to'));
    const start = startAccountSignIn(ctx, urlFor(config.issuer, 'authorization'), returnTo, {
      uiLocales: pageContext(request).locale,
      reauthenticate: query.reauth === '1',
    });
    reply.setCookie(SIGN_IN_COOKIE, start.cookie, {
      path: ROUTES.accountCallback,
      httpOnly: true,
      sameSite: 'lax',
      secure,
      maxAge: ACCOUNT_SIGN_IN_TTL_SECONDS,
    });
    return reply.header('cache-control', 'no-store').redirect(start.authorizationUrl, 303);
  });

  app.get(ROUTES.accountCallback, async (request, reply) => {
    const query = queryOf(request, reply);
    if (!query) return reply;
    const started = readAccountSignInCookie(ctx, request.cookies[SIGN_IN_COOKIE]);
    clearSignInCookie(reply);
    const again = signInAgain(started?.returnTo ?? DEFAULT_RETURN_TO);
    if (query.code === undefined) {
      return problem(reply, 400, (pc) => pc.t(query.error !== undefined ? 'account.problem.denied' : 'account.problem.expired'), again);
    }
    const session = await findSession(ctx, request.cookies[SESSION_COOKIE]);
    const result = await finishAccountSignIn(ctx, { code: query.code, state: query.state, expectedState: started?.state, sessionSid: session?.sid });
    if (!result.ok) {
      request.log.info({ event: 'account.sign_in_refused', reason: result.reason }, 'account sign-in callback refused');
      return problem(reply, 400, (pc) => pc.t('account.problem.expired'), again);
    }
    request.audit.record('account.signed_in', { actor: result.userId, actor_type: 'user', sid: result.sid });
    return reply.header('cache-control', 'no-store').redirect(started!.returnTo, 303);
  });

  app.get(ROUTES.accountSignOut, async (request, reply) => {
    const signIn = await accountSignIn(ctx, request);
    if (!signIn) return sendPage(reply, 200, accountSignedOutPage(pageContext(request)), SELF);
    return sendPage(reply, 200, signOutPage(pageContext(request), accountCsrfToken(ctx, signIn.session)), SELF);
  });

  app.post(ROUTES.accountSignOut, async (request, reply) => {
    const signIn = await accountSignIn(ctx, request);
    if (!signIn) return sendPage(reply, 200, accountSignedOutPage(pageContext(request)), SELF);
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    await endSession(ctx, signIn.session);
    clearSessionCookie(reply);
    request.audit.record('session.ended', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid, reason: 'account_sign_out' });
    return sendPage(reply, 200, accountSignedOutPage(pageContext(request)), SELF);
  });

  // ---- Profile ----

  const renderProfile = (request: FastifyRequest, reply: FastifyReply, { user, session }: AccountSignIn, status = 200, message: { notice?: string; error?: string } = {}) =>
    sendPage(
      reply,
      status,
      profilePage(pageContext(request), {
        username: user.username,
        name: user.name,
        givenName: user.givenName,
        familyName: user.familyName,
        email: user.email,
        emailVerified: user.emailVerified,
        csrfToken: accountCsrfToken(ctx, session),
        ...message,
      }),
      SELF,
    );

  app.get(ROUTES.account, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    return signIn ? renderProfile(request, reply, signIn) : reply;
  });

  app.post(ROUTES.accountProfile, async (request, reply) => {
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    const { signIn, form } = forms;
    const parsed = profileForm.safeParse(form);
    if (!parsed.success) {
      return renderProfile(request, reply, signIn, 400, { error: pageContext(request).t('account.profile.too_long', { max: PROFILE_FIELD_MAX }) });
    }
    const value = (v: string | undefined) => (v ? v : null);
    const user = await updateProfile(ctx, signIn.user.id, {
      name: value(parsed.data.name),
      givenName: value(parsed.data.given_name),
      familyName: value(parsed.data.family_name),
    });
    request.audit.record('account.profile_updated', { actor: signIn.user.id, actor_type: 'user' });
    return renderProfile(request, reply, { ...signIn, user: user ?? signIn.user }, 200, { notice: pageContext(request).t('account.profile.saved') });
  });

  // ---- Sign-in and security: the password here; passkeys and TOTP have their own pages. ----

  const renderSecurity = async (request: FastifyRequest, reply: FastifyReply, { user, session }: AccountSignIn, status = 200, message: { notice?: string; error?: string } = {}) => {
    const factors = { passkeyCount: await countCredentialsOfUser(ctx.db, user.id), totpEnabled: await hasConfirmedTotp(ctx.db, user.id) };
    const view = { username: user.username, hasPassword: user.passwordHash !== null, csrfToken: accountCsrfToken(ctx, session), ...factors, ...message };
    return sendPage(reply, status, securityPage(pageContext(request), view), SELF);
  };

  app.get(ROUTES.accountSecurity, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    return signIn ? renderSecurity(request, reply, signIn) : reply;
  });

  app.post(ROUTES.accountPassword, async (request, reply) => {
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    const { signIn, form } = forms;
    const pc = pageContext(request);
    const refuse = (status: number, error: string, reason: string) => {
      request.audit.record('account.password_change_refused', { actor: signIn.user.id, actor_type: 'user', reason });
      return renderSecurity(request, reply, signIn, status, { error });
    };
    const newPassword = form.new_password ?? '';
    if (newPassword !== (form.confirm_password ?? '')) return refuse(400, pc.t('account.security.mismatch'), 'mismatch');
    let result;
    try {
      result = await changePassword(ctx, {
        user: signIn.user,
        session: signIn.session,
        currentPassword: form.current_password ?? '',
        newPassword,
        ip: request.ip,
        locale: pc.locale,
        accountUrl: urlFor(config.issuer, 'account'),
      });
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      reply.header('retry-after', String(err.retryAfterSeconds));
      return refuse(429, pc.t('account.security.throttled', { minutes: Math.max(1, Math.ceil(err.retryAfterSeconds / 60)) }), 'throttled');
    }
    if (result.outcome === 'no_password') return refuse(400, pc.t('account.security.no_password'), 'no_password');
    if (result.outcome === 'wrong_password') return refuse(400, pc.t('account.security.wrong_password'), 'wrong_password');
    if (result.outcome === 'invalid') {
      const error =
        result.problem === 'too_short'
          ? pc.t('account.security.too_short', { min: PASSWORD_MIN_LENGTH })
          : pc.t('account.security.too_long', { max: PASSWORD_MAX_LENGTH });
      return refuse(400, error, result.problem);
    }
    request.audit.record('account.password_changed', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid });
    return renderSecurity(request, reply, signIn, 200, {
      notice: pc.t('account.security.password_changed', { count: result.otherSessionsEnded }),
    });
  });

  // ---- Sessions ----

  async function renderSessions(request: FastifyRequest, reply: FastifyReply, { user, session }: AccountSignIn, status = 200, message: { notice?: string; error?: string } = {}) {
    const sessions = await listOwnSessions(ctx, user.id);
    return sendPage(
      reply,
      status,
      sessionsPage(pageContext(request), {
        sessions: sessions.map((s) => ({ sid: s.sid, createdAt: s.createdAt, authTime: s.authTime, expiresAt: s.expiresAt, amr: s.amr, current: s.sid === session.sid })),
        csrfToken: accountCsrfToken(ctx, session),
        ...message,
      }),
      SELF,
    );
  }

  app.get(ROUTES.accountSessions, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    return signIn ? renderSessions(request, reply, signIn) : reply;
  });

  app.post(ROUTES.accountSessionEnd, async (request, reply) => {
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    const { signIn, form } = forms;
    const pc = pageContext(request);
    const sid = form.sid ?? '';
    // This browser's own session is ended by signing out (the page offers no button for it).
    if (sid === signIn.session.sid || sid.length > 100 || !(await endOwnSession(ctx, signIn.user.id, sid))) {
      return renderSessions(request, reply, signIn, 404, { error: pc.t('account.sessions.not_found') });
    }
    request.audit.record('account.session_ended', { actor: signIn.user.id, actor_type: 'user', sid });
    return renderSessions(request, reply, signIn, 200, { notice: pc.t('account.sessions.ended') });
  });

  app.post(ROUTES.accountSessionsEndOthers, async (request, reply) => {
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    const { signIn } = forms;
    const count = await endOtherSessions(ctx, signIn.user.id, signIn.session.sid);
    request.audit.record('account.sessions_ended', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid, reason: 'others' });
    return renderSessions(request, reply, signIn, 200, { notice: pageContext(request).t('account.sessions.others_ended', { count }) });
  });

  // ---- Connected applications ----

  async function renderApplications(request: FastifyRequest, reply: FastifyReply, { user, session }: AccountSignIn, status = 200, message: { notice?: string; error?: string } = {}) {
    const applications = await listConnectedApplications(ctx, user.id);
    return sendPage(
      reply,
      status,
      applicationsPage(pageContext(request), {
        applications: applications.map((a) => ({
          clientId: a.client.clientId,
          name: a.client.clientName,
          clientUri: a.client.clientUri,
          scopes: a.scopes,
          since: a.since,
        })),
        csrfToken: accountCsrfToken(ctx, session),
        ...message,
      }),
      SELF,
    );
  }

  app.get(ROUTES.accountApplications, async (request, reply) => {
    const signIn = await requireAccountSignIn(ctx, request, reply);
    return signIn ? renderApplications(request, reply, signIn) : reply;
  });

  app.post(ROUTES.accountApplicationRevoke, async (request, reply) => {
    const forms = await signedInForm(request, reply);
    if (!forms) return reply;
    const { signIn, form } = forms;
    const pc = pageContext(request);
    const client = await revokeApplication(ctx, signIn.user.id, form.client_id ?? '');
    if (!client) {
      return renderApplications(request, reply, signIn, 404, { error: pc.t('account.applications.not_found') });
    }
    request.audit.record('account.application_revoked', { actor: signIn.user.id, actor_type: 'user', client_id: client.clientId });
    return renderApplications(request, reply, signIn, 200, { notice: pc.t('account.applications.revoked', { name: client.clientName }) });
  });

  // ---- A GET on a form's URL (a bookmark, a reload after a redirect): back to its section. ----
  const sectionOf: [string, string][] = [
    [ROUTES.accountProfile, ROUTES.account],
    [ROUTES.accountPassword, ROUTES.accountSecurity],
    [ROUTES.accountSessionEnd, ROUTES.accountSessions],
    [ROUTES.accountSessionsEndOthers, ROUTES.accountSessions],
    [ROUTES.accountApplicationRevoke, ROUTES.accountApplications],
  ];
  for (const [form, section] of sectionOf) {
    app.get(form, async (_request, reply) => reply.header('cache-control', 'no-store').redirect(section, 303));
  }
}
