/**
 * `authly admin login` signs an operator in as a person through the device authorization grant (RFC 8628)
 * with this built-in public client, instead of sharing the admin client's secret. It can be granted
 * `authly:admin`, but only to a user with is_admin: a user grants only what they may
 * (grantableScopes in src/services/authorization-service.ts), and every factor, lockout and MFA rule of the
 * sign-in applies. Like `authly-account` it is created at start, its whole definition restored at every
 * start, and through the admin API only authly:admin may change it (src/services/admin/privilege-rules.ts).
 */
export const CLI_CLIENT_ID = 'authly-cli';

/** The scope `authly admin login` asks for: the admin API, an ID token naming who signed in, and a refresh token. */
export const CLI_LOGIN_SCOPE = 'openid offline_access authly:admin';
