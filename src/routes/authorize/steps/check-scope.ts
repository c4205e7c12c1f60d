import { defaultUserScopes, resolveRequestedScopes } from '../../../services/scope-policy.js';
import type { AuthorizeStep } from './authorize-context.js';

export const checkScope: AuthorizeStep = async (c) => {
  c.request.scopes = await resolveRequestedScopes(c.services, c.client!, c.params.scope, (allowed) => defaultUserScopes(c.services, allowed));
};
