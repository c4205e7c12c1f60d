import type { FastifyReply, FastifyRequest } from 'fastify';
import { pageContext } from '../../http/page-context.js';
import type { Session } from '../../repositories/sessions-repository.js';
import type { User } from '../../repositories/users-repository.js';
import type { AuthorizationRequest } from '../../services/authorization-request.js';
import type { ServiceContext } from '../../services/context.js';
import { approveDeviceRequest, denyDeviceRequest } from '../../services/device-authorization-service.js';
import { deviceOutcomePage } from '../../views/device-pages.js';
import { sendPage } from '../../views/page.js';

const NO_FORMS = { formAction: ["'none'"] };

/**
 * The end of a sign-in the /device page started (src/routes/interaction finishes every sign-in here when
 * the request names a device authorization): the device's request approved, and the person told they may
 * return to their device (RFC 8628 section 3.3).
 */
export async function finishDeviceAuthorization(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  authRequest: AuthorizationRequest & { deviceAuthorizationId: string },
  user: User,
  session: Session,
  uiLocales?: string,
): Promise<FastifyReply> {
  const approved = await approveDeviceRequest(ctx, authRequest.deviceAuthorizationId, authRequest, user, session);
  if (approved) {
    request.audit.record('device_authorization.approved', { actor: user.id, actor_type: 'user', client_id: authRequest.clientId, sid: session.sid });
  }
  return sendPage(reply, approved ? 200 : 400, deviceOutcomePage(pageContext(request, uiLocales), approved ? 'approved' : 'gone'), NO_FORMS);
}

/** The person denied (on the confirmation or the consent page): the device gets access_denied (RFC 8628 section 3.5). */
export async function denyDeviceAuthorization(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  authRequest: { clientId: string; deviceAuthorizationId: string },
  actor: { userId?: string },
  uiLocales?: string,
): Promise<FastifyReply> {
  const denied = await denyDeviceRequest(ctx, authRequest.deviceAuthorizationId);
  if (denied) {
    request.audit.record('device_authorization.denied', {
      ...(actor.userId ? { actor: actor.userId, actor_type: 'user' } : {}),
      client_id: authRequest.clientId,
    });
  }
  return sendPage(reply, denied ? 200 : 400, deviceOutcomePage(pageContext(request, uiLocales), denied ? 'denied' : 'gone'), NO_FORMS);
}
