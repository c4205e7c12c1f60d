import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { OAuthError } from '../../errors/oauth-errors.js';
import { storageFault } from '../../errors/storage-errors.js';
import { TooManyAttempts } from '../../errors/throttle-errors.js';
import { TOKEN_STEPS, type TokenContext } from './steps/token-steps.js';
import { noteClientUse } from '../../services/client-usage.js';
import { dpopNonceForResponse } from '../../services/dpop/dpop-proof.js';

/**
 * RFC 6749 section 3.2: the named steps (parse, authenticate the client, pick its grant, the grant's own
 * parameters), then the handler of its grant_type.
 */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  app.post(ROUTES.token, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const c: TokenContext = { services: ctx, request, raw: {}, params: {} };
    // The metric's label: a supported grant_type, else "invalid" (bounded label values).
    const grantLabel = () => (c.handler ? c.grantType! : 'invalid');
    try {
      for (const step of TOKEN_STEPS) await step(c);
      const { client, grantType } = c as Required<TokenContext>;
      // Services record audit events (reuse detection) with this request's ip and id.
      const issued = await c.handler!.handle({ ...ctx, audit: request.audit }, client, c.grantRequest!);
      ctx.metrics.tokenRequests.inc({ grant_type: grantLabel(), status: 'success' });
      // RFC 9449 section 8.2: a DPoP client is handed the current nonce with every answer.
      const nonce = c.dpop && dpopNonceForResponse(ctx);
      if (nonce) reply.header('dpop-nonce', nonce);
      void noteClientUse(ctx, client);
      request.audit.record('token.issued', {
        actor: client.clientId,
        actor_type: 'client',
        client_id: client.clientId,
        subject: issued.subject,
        grant_type: grantType,
        jti: issued.jti,
        scope: issued.response.scope,
        ...(issued.audience.length > 0 ? { audience: issued.audience.join(' ') } : {}),
        ...(c.dpop ? { token_type: 'DPoP', dpop_jkt: c.dpop.jkt } : {}),
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
      ctx.metrics.tokenRequests.inc({ grant_type: grantLabel(), status });
      throw err;
    }
  });
}
