import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES } from '../../config/routes.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { formBody, singleParams } from '../../http/params.js';
import { recordInteractionFactors } from '../../repositories/interactions-repository.js';
import { hasConfirmedTotp, hasSecondFactor } from '../../repositories/mfa-repository.js';
import { countCredentialsOfUser } from '../../repositories/webauthn-repository.js';
import { findUserById, type User } from '../../repositories/users-repository.js';
import { checkCsrfToken, csrfTokenFor } from '../../services/interaction-service.js';
import { nextSignInStep } from '../../services/mfa-policy.js';
import { confirmTotpEnrolment, pendingTotpEnrolment, verifyOneTimeCode } from '../../services/mfa-service.js';
import { mfaCodePage, mfaEnrolPage, mfaRecoveryCodesPage } from '../../views/mfa-pages.js';
import { sendPage } from '../../views/page.js';
import { interactionPageContext, interactionPageSecurity, loadInteraction, sendSignInProblem, type Loaded } from './interaction-context.js';
import { continueSignIn } from './sign-in.js';
import { passkeySignInOption } from './passkey-route.js';

type WithUid = { Params: { uid: string } };

/**
 * The second step of a sign-in. continueSignIn sends the user here once a first factor passed and the MFA
 * policy wants another; the interaction holds who (pending_user_id) and what passed so far (amr), and is
 * bound to this browser by its cookie (loadInteraction). With an authenticator app the user types a code
 * (or a recovery code); without one, under a policy that requires a factor, the user sets one up here,
 * sees the recovery codes once, and continues.
 */
export async function mfaRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;

  /** The interaction and its pending user, or an error page already sent. */
  async function loadPending(request: FastifyRequest<WithUid>, reply: FastifyReply): Promise<{ loaded: Loaded; user: User } | undefined> {
    const loaded = await loadInteraction(ctx, request, reply);
    if (!loaded) return undefined;
    const pendingUserId = loaded.interaction.pendingUserId;
    const user = pendingUserId ? await findUserById(ctx.db, pendingUserId) : undefined;
    if (!user?.isActive || loaded.interaction.userId) {
      sendSignInProblem(request, reply, 400, interactionPageContext(request, loaded).t('mfa.no_pending'));
      return undefined;
    }
    return { loaded, user };
  }

  /** The page of the step this sign-in is at: the code form, or the set-up of an authenticator app. */
  async function renderStep(reply: FastifyReply, loaded: Loaded, user: User, status: number, error?: string): Promise<FastifyReply> {
    const pc = interactionPageContext(reply.request, loaded);
    const { uid } = loaded.interaction;
    const action = pathFor('interactionMfa', { uid });
    const csrfToken = csrfTokenFor(ctx, uid);
    const security = interactionPageSecurity(loaded);
    if (await hasSecondFactor(ctx.db, user.id)) {
      // A code form for an authenticator app, a passkey button for passkeys: whichever the user has.
      const codeForm = await hasConfirmedTotp(ctx.db, user.id);
      const passkey = (await countCredentialsOfUser(ctx.db, user.id)) > 0 ? passkeySignInOption(ctx, reply.request, loaded) : undefined;
      const page = mfaCodePage(pc, { action, csrfToken, error, codeForm, otherWays: passkey?.html });
      return sendPage(reply, status, page, { ...security, ...passkey?.security });
    }
    const step = await nextSignInStep(ctx, loaded.interaction.params, loaded.client, user.id, loaded.interaction.amr);
    const setup = step === 'enrol' ? await pendingTotpEnrolment(ctx, user, pc.brand.productName) : undefined;
    if (!setup) return sendSignInProblem(reply.request, reply, 400, pc.t('mfa.no_pending'));
    return sendPage(reply, status, mfaEnrolPage(pc, { clientName: loaded.client.clientName, setup, action, csrfToken, error }), security);
  }

  app.get<WithUid>(ROUTES.interactionMfa, async (request, reply) => {
    const pending = await loadPending(request, reply);
    if (!pending) return reply;
    return renderStep(reply, pending.loaded, pending.user, 200);
  });

  app.post<WithUid>(ROUTES.interactionMfa, async (request, reply) => {
    const pending = await loadPending(request, reply);
    if (!pending) return reply;
    const { loaded, user } = pending;
    const pc = interactionPageContext(request, loaded);
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return sendSignInProblem(request, reply, 403, pc.t('mfa.form_expired'));
    }
    const code = form.code ?? '';
    try {
      if (await hasSecondFactor(ctx.db, user.id)) {
        // Without an authenticator app there is no code to check (recovery codes come with the app).
        const kind = (await hasConfirmedTotp(ctx.db, user.id)) ? await verifyOneTimeCode(ctx, user.id, code, request.ip) : undefined;
        if (!kind) {
          request.audit.record('mfa.failed', { actor: user.id, actor_type: 'user', client_id: loaded.client.clientId });
          return renderStep(reply, loaded, user, 200, pc.t('mfa.invalid_code'));
        }
        if (kind === 'recovery_code') request.audit.record('mfa.recovery_code_used', { actor: user.id, actor_type: 'user', client_id: loaded.client.clientId });
        // RFC 8176 `otp` for both: a recovery code is a one-time password the user holds (there is no
        // value of its own); together with the password the sign-in gets `mfa`.
        return continueSignIn(ctx, request, reply, loaded, user, ['otp']);
      }
      // Setting up inside the sign-in: only when the policy requires a factor and the user has none.
      if ((await nextSignInStep(ctx, loaded.interaction.params, loaded.client, user.id, loaded.interaction.amr)) !== 'enrol') {
        return sendSignInProblem(request, reply, 400, pc.t('mfa.no_pending'));
      }
      const codes = await confirmTotpEnrolment(ctx, user, code, request.ip, pc.locale);
      if (!codes) return renderStep(reply, loaded, user, 200, pc.t('mfa.invalid_code'));
      request.audit.record('mfa.totp_enabled', { actor: user.id, actor_type: 'user', client_id: loaded.client.clientId });
      // The code passed: remember it on the interaction, show the recovery codes once, then continue.
      await recordInteractionFactors(ctx.db, loaded.interaction.uid, user.id, [...loaded.interaction.amr, 'otp']);
      const page = mfaRecoveryCodesPage(pc, {
        codes,
        action: pathFor('interactionMfaContinue', { uid: loaded.interaction.uid }),
        csrfToken: csrfTokenFor(ctx, loaded.interaction.uid),
      });
      return sendPage(reply, 200, page, interactionPageSecurity(loaded));
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      request.audit.record('login.locked', { actor: user.id, actor_type: 'user', client_id: loaded.client.clientId, reason: 'otp' });
      reply.header('retry-after', String(err.retryAfterSeconds));
      return renderStep(reply, loaded, user, 429, pc.t('mfa.too_many', { seconds: err.retryAfterSeconds }));
    }
  });

  // After the recovery codes of a set-up inside the sign-in: the code already passed (amr has otp).
  app.post<WithUid>(ROUTES.interactionMfaContinue, async (request, reply) => {
    const pending = await loadPending(request, reply);
    if (!pending) return reply;
    const { loaded, user } = pending;
    const pc = interactionPageContext(request, loaded);
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkCsrfToken(ctx, loaded.interaction.uid, form.csrf_token)) {
      return sendSignInProblem(request, reply, 403, pc.t('mfa.form_expired'));
    }
    if (!loaded.interaction.amr.includes('otp')) return sendSignInProblem(request, reply, 400, pc.t('mfa.no_pending'));
    return continueSignIn(ctx, request, reply, loaded, user, []);
  });

  // A GET on the form URL (a reload, a bookmark): back to the step's page.
  app.get<WithUid>(ROUTES.interactionMfaContinue, async (request, reply) =>
    reply.redirect(pathFor('interactionMfa', { uid: request.params.uid }), 303),
  );
}
