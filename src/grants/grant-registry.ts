import type { Config } from '../config/config.js';
import { authorizationCodeGrant } from './authorization-code-grant.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import { deviceCodeGrant } from './device-code-grant.js';
import type { GrantHandler } from './grant-handler.js';
import { refreshTokenGrant } from './refresh-token-grant.js';

const HANDLERS: readonly GrantHandler[] = [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, deviceCodeGrant];

export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map(HANDLERS.map((h) => [h.grantType, h]));

export const SUPPORTED_GRANT_TYPES: readonly string[] = HANDLERS.map((h) => h.grantType);

/** The handler of a grant_type this configuration offers (a grant switched off is unsupported). */
export function enabledGrant(config: Pick<Config, 'deviceGrant'>, grantType: string): GrantHandler | undefined {
  const handler = GRANTS.get(grantType);
  return handler && (handler.isEnabled?.(config) ?? true) ? handler : undefined;
}

/** grant_types_supported: the grants this configuration offers. */
export function enabledGrantTypes(config: Pick<Config, 'deviceGrant'>): string[] {
  return HANDLERS.filter((h) => h.isEnabled?.(config) ?? true).map((h) => h.grantType);
}
