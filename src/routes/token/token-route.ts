import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { OAuthError, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../errors/oauth-errors.js';
import { storageFault } from '../../errors/storage-errors.js';
import { GRANTS } from '../../grants/grant-registry.js';
import { formBody, singleParams } from '../../http/params.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { authenticateClientThrottled } from '../../services/client-authentication.js';
import { noteClientUse } from '../../services/client-usage.js';

/** RFC 6749 section 3.2: authenticate the client, then dispatch to the handler of its grant_type. */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  app.post(ROUTES.token, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    let grantLabel = 'invalid';
    try {
      const params = singleParams(formBody(request.body, request.headers['content-type']));
      const grantType = params.grant_type;
      if (!grantType) throw new InvalidRequest('grant_type is required');
      const handler = GRANTS.get(grantType);
      if (handler) grantLabel = grantType;
      const client = await authenticateClientThrottled(
        ctx,
        { authorization: request.headers.authorization, clientId: params.client_id, clientSecret: params.client_secret },
        request.ip,
      );
      if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
      if (!client.grantTypes.includes(grantType)) {
        throw new UnauthorizedClient(`this client may not use the ${grantType} grant`);
      }
      // Services record audit events (reuse detection) with this request's ip and id.
      const issued = await handler.handle({ ...ctx, audit: request.audit }, client, params);
      ctx.metrics.tokenRequests.inc({ grant_type: grantLabel, status: 'success' });
      void noteClientUse(ctx, client);
      request.audit.record('token.issued', {
        actor: client.clientId,
        actor_type: 'client',
        client_id: client.clientId,
        subject: issued.subject,
        grant_type: grantType,
        jti: issued.jti,
        scope: issued.response.scope,
      });
      return issued.response;
    } catch (err) {
      // A database fault is counted apart from bugs: the error handler answers it 503 (or 400 for input).
      const fault = err instanceof OAuthError || err instanceof TooManyAttempts ? undefined : storageFault(err);
      const status =
        err instanceof OAuthError
          ? err.error
          : err instanceof TooManyAttempts
            ? 'rate_limited'
            : fault
              ? fault.kind === 'invalid_input'
                ? 'invalid_request'
                : 'temporarily_unavailable'
              : 'server_error';
      ctx.metrics.tokenRequests.inc({ grant_type: grantLabel, status });
      throw err;
    }
  });
}
