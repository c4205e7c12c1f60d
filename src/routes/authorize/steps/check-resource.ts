import { multiParam } from '../../../http/params.js';
import { canonicalResources, requestedResources, scopesForResources } from '../../../services/resource-indicators.js';
import type { AuthorizeStep } from './authorize-context.js';

/**
 * RFC 8707 section 2: each `resource` is an absolute URI without a fragment, a registered resource the client
 * may ask for, else invalid_target (redirected: client and redirect_uri are verified by now). The resources
 * travel with the request into the grant. Scopes the client named explicitly must include one that the
 * resources accept (or an OpenID Connect scope), else invalid_scope, as the token endpoint would answer.
 */
export const checkResource: AuthorizeStep = async (c) => {
  const identifiers = canonicalResources(multiParam(c.raw, 'resource'));
  if (identifiers.length === 0) return;
  const resources = await requestedResources(c.services, c.client!, identifiers);
  scopesForResources(c.request.scopes!, resources, c.params.scope !== undefined);
  c.request.resources = identifiers;
};
