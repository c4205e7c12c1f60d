import { authorizationCodeGrant } from './authorization-code-grant.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import type { GrantHandler } from './grant-handler.js';
import { refreshTokenGrant } from './refresh-token-grant.js';

const HANDLERS: readonly GrantHandler[] = [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant];

export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map(HANDLERS.map((h) => [h.grantType, h]));

export const SUPPORTED_GRANT_TYPES: readonly string[] = HANDLERS.map((h) => h.grantType);
