import type { FastifyInstance } from 'fastify';
import { ROUTES, urlFor } from '../../config/routes.js';
import { UnauthorizedClient } from '../../errors/oauth-errors.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../grants/device-code-grant.js';
import { clientCredentialsOf } from '../../http/client-request.js';
import { formBody, multiParam, RESOURCE_PARAMS, singleParams } from '../../http/params.js';
import { authenticateClientThrottled } from '../../services/client-authentication.js';
import { noteClientUse } from '../../services/client-usage.js';
import { startDeviceAuthorization } from '../../services/device-authorization-service.js';
import { canonicalResources, requestedResources, scopesForResources } from '../../services/resource-indicators.js';
import { defaultUserScopes, resolveRequestedScopes } from '../../services/scope-policy.js';

/**
 * RFC 8628 section 3.1/3.2: the device authorization endpoint, mounted only while DEVICE_GRANT_ENABLED. The
 * client authenticates as at the token endpoint (a public client with its client_id alone); errors are the
 * token endpoint's (section 3.2 refers to RFC 6749 section 5.2).
 */
export async function deviceAuthorizationRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  if (!ctx.config.deviceGrant.enabled) return;

  app.post(ROUTES.deviceAuthorization, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    // 1. A form body, repeated parameters refused except `resource` (RFC 8707 section 2).
    const raw = formBody(request.body, request.headers['content-type']);
    const params = singleParams(raw, RESOURCE_PARAMS);
    // 2. The client, behind its throttle, before anything about its request is answered.
    const client = await authenticateClientThrottled(ctx, clientCredentialsOf(request, params), request.ip);
    // 3. Registered for the device grant (RFC 6749 section 5.2 unauthorized_client).
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
      throw new UnauthorizedClient('this client may not use the device authorization grant');
    }
    // 4. scope within the client's registration (else its default user scopes), as the code grant checks it.
    const scopes = await resolveRequestedScopes(ctx, client, params.scope, (allowed) => defaultUserScopes(ctx, allowed));
    // 5. RFC 8707: each resource registered and allowed for the client, and the named scopes accepted by one.
    const resources = canonicalResources(multiParam(raw, 'resource'));
    if (resources.length > 0) scopesForResources(scopes, await requestedResources(ctx, client, resources), params.scope !== undefined);
    // 6. The codes; only their hashes are stored.
    const started = await startDeviceAuthorization(ctx, client, { scopes, resources });
    void noteClientUse(ctx, client);
    request.audit.record('device_authorization.requested', { actor: client.clientId, actor_type: 'client', client_id: client.clientId, scope: scopes.join(' ') });
    const verificationUri = urlFor(ctx.config.issuer, 'device');
    return {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verificationUri,
      // Section 3.3.1: the code in the URI (a QR code); the page still asks the person to confirm it.
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(started.userCode)}`,
      expires_in: started.expiresIn,
      interval: started.interval,
    };
  });
}
