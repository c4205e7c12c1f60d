import { defaultUserScopes, resolveRequestedScopes } from '../../../services/scope-policy.js';
import type { AuthorizeStep } from './authorize-context.js';

export const checkScope: AuthorizeStep = async (c) => {
  const { db } = c.services;
  c.request.scopes = await resolveRequestedScopes(db, c.client!, c.params.scope, (allowed) => defaultUserScopes(db, allowed));
};
