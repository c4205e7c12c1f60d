import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pathFor, ROUTES, urlFor } from '../../config/routes.js';
import { PasskeyRejected } from '../../errors/passkey-errors.js';
import { pageContext } from '../../http/page-context.js';
import { formBody, singleParams } from '../../http/params.js';
import { parseAttestation } from '../../http/webauthn-input.js';
import { listCredentialsOfUser, renameCredentialOfUser } from '../../repositories/webauthn-repository.js';
import {
  finishRegistration,
  MAX_CREDENTIAL_ID_LENGTH,
  PASSKEY_NAME_MAX_LENGTH,
  registrationOptions,
  removePasskey,
} from '../../services/passkey-service.js';
import { sendPage } from '../../views/page.js';
import { passkeysPage } from '../../views/passkey-views.js';
import { accountCsrfToken, checkAccountCsrfToken, requireRecentSignIn, type AccountSignIn } from './account-context.js';

const NOTICES = { added: 'passkeys.added', renamed: 'passkeys.renamed', removed: 'passkeys.removed' } as const;

/** A passkey name as typed: trimmed, 1 to 64 characters, no control characters; undefined when not acceptable. */
function passkeyName(value: string | undefined): string | undefined {
  const name = (value ?? '').replace(/\s+/g, ' ').trim();
  if (name.length < 1 || name.length > PASSKEY_NAME_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) return undefined;
  return name;
}

/**
 * /account/security/passkeys (issue 12 §3, §4): the signed-in user's passkeys — list with names and
 * dates, add (a WebAuthn registration whose challenge is bound to this session), rename, remove. Every
 * form carries the account CSRF token and posts (POST-redirect-GET, so a reload repeats nothing); a GET
 * on a form URL goes back to the list. Every route needs a recent sign-in (requireRecentSignIn).
 */
export async function accountPasskeyRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    signIn: AccountSignIn,
    status: number,
    extra: { notice?: string; error?: string; newName?: string } = {},
  ) {
    const pc = pageContext(request);
    const scriptNonce = randomBytes(16).toString('base64');
    const passkeys = await listCredentialsOfUser(ctx.db, signIn.user.id);
    const page = passkeysPage(pc, { passkeys, csrfToken: accountCsrfToken(ctx, signIn.session), scriptNonce, ...extra });
    return sendPage(reply, status, page, { formAction: ["'self'"], scriptNonce, connectSrc: ["'self'"] });
  }

  function backToList(reply: FastifyReply, done?: keyof typeof NOTICES) {
    return reply.header('cache-control', 'no-store').redirect(`${pathFor('accountPasskeys')}${done ? `?done=${done}` : ''}`, 303);
  }

  /** The form of a POST, or undefined after answering a refused CSRF token with the page and 403. */
  async function checkedForm(request: FastifyRequest, reply: FastifyReply, signIn: AccountSignIn) {
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    if (!checkAccountCsrfToken(ctx, signIn.session, form.csrf_token)) {
      await render(request, reply, signIn, 403, { error: pageContext(request).t('passkeys.form_expired') });
      return undefined;
    }
    return form;
  }

  app.get<{ Querystring: { done?: string } }>(ROUTES.accountPasskeys, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const done = request.query.done;
    const notice = typeof done === 'string' && Object.hasOwn(NOTICES, done) ? pageContext(request).t(NOTICES[done as keyof typeof NOTICES]) : undefined;
    return render(request, reply, signIn, 200, { notice });
  });

  for (const route of [ROUTES.accountPasskeyOptions, ROUTES.accountPasskeyRename, ROUTES.accountPasskeyRemove]) {
    app.get(route, async (_request, reply) => backToList(reply));
  }

  app.post(ROUTES.accountPasskeyOptions, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const form = singleParams(formBody(request.body, request.headers['content-type']));
    reply.header('cache-control', 'no-store');
    if (!checkAccountCsrfToken(ctx, signIn.session, form.csrf_token)) return reply.code(403).send({ error: 'invalid_csrf_token' });
    const options = await registrationOptions(ctx, { user: signIn.user, sid: signIn.session.sid, rpName: pageContext(request).brand.productName });
    return reply.send(options);
  });

  app.post(ROUTES.accountPasskeys, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const form = await checkedForm(request, reply, signIn);
    if (!form) return reply;
    const pc = pageContext(request);
    const typed = form.name === undefined ? pc.t('passkeys.default_name') : passkeyName(form.name);
    if (typed === undefined) return render(request, reply, signIn, 400, { error: pc.t('passkeys.name_invalid'), newName: form.name });
    const response = parseAttestation(form.credential);
    try {
      if (!response) throw new PasskeyRejected('malformed');
      const credential = await finishRegistration(ctx, {
        user: signIn.user,
        sid: signIn.session.sid,
        response,
        name: typed,
        mail: { locale: pc.locale, accountUrl: urlFor(ctx.config.issuer, 'accountPasskeys') },
      });
      request.audit.record('passkey.added', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid, reason: credential.deviceType });
      return backToList(reply, 'added');
    } catch (err) {
      if (!(err instanceof PasskeyRejected)) throw err;
      request.log.info({ event: 'passkey.registration_refused', reason: err.reason }, 'a passkey registration did not verify');
      return render(request, reply, signIn, 400, { error: pc.t('passkeys.add_failed'), newName: form.name });
    }
  });

  app.post(ROUTES.accountPasskeyRename, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const form = await checkedForm(request, reply, signIn);
    if (!form) return reply;
    const pc = pageContext(request);
    const name = passkeyName(form.name);
    if (name === undefined) return render(request, reply, signIn, 400, { error: pc.t('passkeys.name_invalid') });
    const id = form.credential_id ?? '';
    // Only the user's own passkey: another user's id is answered as one that does not exist (no IDOR).
    if (id.length > MAX_CREDENTIAL_ID_LENGTH || !(await renameCredentialOfUser(ctx.db, signIn.user.id, id, name))) {
      return render(request, reply, signIn, 404, { error: pc.t('passkeys.not_found') });
    }
    request.audit.record('passkey.renamed', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid });
    return backToList(reply, 'renamed');
  });

  app.post(ROUTES.accountPasskeyRemove, async (request, reply) => {
    const signIn = await requireRecentSignIn(ctx, request, reply);
    if (!signIn) return reply;
    const form = await checkedForm(request, reply, signIn);
    if (!form) return reply;
    const pc = pageContext(request);
    const mail = { locale: pc.locale, accountUrl: urlFor(ctx.config.issuer, 'accountPasskeys') };
    if (!(await removePasskey(ctx, signIn.user, form.credential_id ?? '', mail))) {
      return render(request, reply, signIn, 404, { error: pc.t('passkeys.not_found') });
    }
    request.audit.record('passkey.removed', { actor: signIn.user.id, actor_type: 'user', sid: signIn.session.sid });
    return backToList(reply, 'removed');
  });
}
