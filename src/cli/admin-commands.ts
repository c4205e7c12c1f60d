/**
 * Every `authly admin` command in one table: its HTTP method and path, and how its options become the
 * JSON body or query. The runner (admin-cli.ts) is generic; adding a command is adding a row.
 */

/**
 * `flag`: present or absent, no value (`--emergency`); it sends `value` (true unless given).
 * `words`: one value of space-separated words sent as a list (`--scope "a b"` → ["a", "b"]).
 * `integer`: a whole number; '' sends null.
 */
export type OptionKind = 'string' | 'list' | 'words' | 'integer' | 'boolean' | 'json' | 'flag';

/** A CLI option that sets one field of the request body or query. */
export interface FieldOption {
  flag: string;
  field: string;
  kind: OptionKind;
  help: string;
  /** What a `flag` sends. */
  value?: unknown;
}

export interface Command {
  /** `status`, `client create`, … */
  name: string;
  summary: string;
  /** Positional arguments, in order, filled into the path. */
  args: readonly string[];
  /** What a positional argument may be, for --help. */
  argHelp?: Readonly<Record<string, string>>;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: (args: Record<string, string>) => string;
  body?: readonly FieldOption[];
  query?: readonly FieldOption[];
  /** Query parameters every call of this command sends (`format=jsonl` for an export). */
  fixedQuery?: Readonly<Record<string, string>>;
  /** Positional arguments that also go into the body under the same name. */
  bodyArgs?: readonly string[];
  /** Positional arguments that go into the query string under the same name (not the path). */
  queryArgs?: readonly string[];
  /** Accepts --password / --password-stdin into body.password; `required` for set-password. */
  password?: 'optional' | 'required';
  /** What a success prints: one record, a table with these columns, or a line for an empty response. */
  output:
    | { kind: 'record'; secretNote?: boolean }
    | { kind: 'table'; columns: readonly string[] }
    | { kind: 'done'; message: (args: Record<string, string>, body: unknown) => string }
    /** The response body copied to stdout as it arrives (JSON lines, or one JSON document), never held whole. */
    | { kind: 'stream' };
}

const str = (flag: string, field: string, help: string): FieldOption => ({ flag, field, kind: 'string', help });
const list = (flag: string, field: string, help: string): FieldOption => ({ flag, field, kind: 'list', help });
const bool = (flag: string, field: string, help: string): FieldOption => ({ flag, field, kind: 'boolean', help });
const words = (flag: string, field: string, help: string): FieldOption => ({ flag, field, kind: 'words', help });
const int = (flag: string, field: string, help: string): FieldOption => ({ flag, field, kind: 'integer', help });

const PAGE = [str('limit', 'limit', 'page size (default 50, at most 200)'), str('cursor', 'cursor', 'where the page starts: the cursor printed after the page before')];

const AUDIT_FILTERS = [
  str('event', 'event', 'an event name (admin.client.updated), or a prefix ending in * (admin.client.*)'),
  str('actor', 'actor', 'who acted: a user id, or a client id'),
  str('subject', 'subject', 'what the event is about: a user id, client id, scope, resource, key id'),
  str('client', 'client_id', 'the client the actor used'),
  str('request-id', 'request_id', 'one request (its x-request-id)'),
  str('since', 'since', 'from this RFC 3339 time on, e.g. 2026-12-01T00:00:00Z'),
  str('until', 'until', 'before this RFC 3339 time'),
];

const CLIENT_FIELDS: readonly FieldOption[] = [
  str('name', 'client_name', 'display name shown on the consent page'),
  list('redirect-uri', 'redirect_uris', 'redirect URI (repeatable)'),
  list('post-logout-redirect-uri', 'post_logout_redirect_uris', 'post-logout redirect URI (repeatable)'),
  list('grant-type', 'grant_types', 'authorization_code, refresh_token, client_credentials or urn:ietf:params:oauth:grant-type:device_code (repeatable)'),
  list('response-type', 'response_types', 'code (repeatable; follows the grant types by default)'),
  str('auth-method', 'token_endpoint_auth_method', 'client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt (with --jwks or --jwks-uri), or none for a public client'),
  str('auth-signing-alg', 'token_endpoint_auth_signing_alg', "the one alg of the client's assertions (RS256, PS256, ES256, EdDSA; HS256, HS384, HS512); '' for any"),
  str('scope', 'scope', 'space-separated scopes the client may request'),
  str('client-uri', 'client_uri', 'home page URL'),
  str('logo-uri', 'logo_uri', 'logo URL'),
  str('tos-uri', 'tos_uri', 'terms of service URL'),
  str('policy-uri', 'policy_uri', 'privacy policy URL'),
  list('contact', 'contacts', 'contact email (repeatable)'),
  bool('skip-consent', 'skip_consent', 'true or false: never show the consent page'),
  bool('require-pkce', 'require_pkce', 'true or false (false only for confidential clients)'),
  bool('active', 'is_active', 'true or false'),
  str('id-token-alg', 'id_token_signed_response_alg', 'RS256 (default), or ES256 or EdDSA when the server has that key (JWT_ALGORITHM)'),
  str('access-token-format', 'access_token_format', "jwt or opaque; '' for the server default (ACCESS_TOKEN_FORMAT)"),
  list('allowed-resource', 'allowed_resources', "resource identifier the client may ask for (repeatable; '' for none; default: every resource)"),
  { flag: 'all-resources', field: 'allowed_resources', kind: 'flag', value: null, help: 'the client may ask for every registered resource (the default)' },
  str('mfa-policy', 'mfa_policy', "off, optional or required: a second factor at sign-in; '' for the server default (MFA_POLICY)"),
  bool('dpop-bound', 'dpop_bound_access_tokens', 'true or false: every token request must carry a DPoP proof (RFC 9449 section 5.2)'),
  str('backchannel-logout-uri', 'backchannel_logout_uri', "https URL Authly POSTs logout tokens to when a session ends; '' for none"),
  bool('backchannel-logout-session-required', 'backchannel_logout_session_required', 'true or false: the client needs sid in logout tokens'),
  bool('require-par', 'require_pushed_authorization_requests', 'true or false: authorization requests only through POST /oauth/par (RFC 9126)'),
  str('request-object-alg', 'request_object_signing_alg', "RS256, PS256, ES256, EdDSA, HS256/384/512 (client_secret_jwt clients) or none (unsigned): the alg of the client's request objects; '' for any"),
  bool('require-signed-request', 'require_signed_request_object', 'true or false: authorization requests only as signed request objects (RFC 9101)'),
  { flag: 'jwks', field: 'jwks', kind: 'json', help: 'the client\'s public keys as a JWK Set, e.g. {"keys":[{"kty":"EC",...}]}; null to remove' },
  str('jwks-uri', 'jwks_uri', "https URL where the client publishes its public keys (JWK Set); '' to remove"),
];

/** On update the list is replaced as a whole, which the issue found surprising: say so, and name the way to change one. */
const UPDATE_REDIRECT_URIS = list(
  'redirect-uri',
  'redirect_uris',
  "redirect URI (repeatable); replaces the whole list: use 'client redirect-uri add|remove' to change one",
);

// RFC 8707 resource servers (APIs); null format, lifetime or alg: the server default.
const RESOURCE_FIELDS: readonly FieldOption[] = [
  str('name', 'name', 'display name'),
  words('scope', 'scopes', "space-separated scopes the resource accepts (registered, not the OpenID Connect user scopes); '' for none"),
  list('acting-client', 'client_ids', "client_id of a confidential client that acts for the resource and may introspect its tokens (repeatable; '' for none)"),
  str('access-token-format', 'access_token_format', "jwt or opaque; '' for the default (the client's, else ACCESS_TOKEN_FORMAT)"),
  int('access-token-ttl', 'access_token_ttl_seconds', "access token lifetime in seconds, at most 86400; '' for ACCESS_TOKEN_EXPIRE_MINUTES"),
  str('signing-alg', 'signing_alg', "RS256, or ES256 or EdDSA when the server has that key; '' for JWT_ALGORITHM"),
];

const USER_FIELDS: readonly FieldOption[] = [
  str('username', 'username', 'login name'),
  str('email', 'email', 'email address'),
  bool('email-verified', 'email_verified', 'true or false'),
  str('name', 'name', 'full name'),
  str('given-name', 'given_name', 'given name'),
  str('family-name', 'family_name', 'family name'),
  str('middle-name', 'middle_name', 'middle name'),
  str('nickname', 'nickname', 'nickname'),
  str('picture', 'picture', 'picture URL'),
  str('website', 'website', 'website URL'),
  str('gender', 'gender', 'gender'),
  str('birthdate', 'birthdate', 'YYYY-MM-DD'),
  str('zoneinfo', 'zoneinfo', 'time zone such as Europe/Paris'),
  str('locale', 'locale', 'language tag such as en-US'),
  str('phone-number', 'phone_number', 'phone number, E.164 such as +14155550100'),
  bool('phone-number-verified', 'phone_number_verified', 'true or false'),
  { flag: 'address', field: 'address', kind: 'json', help: 'postal address as JSON, e.g. {"country":"FR"}' },
  bool('admin', 'is_admin', 'true or false: may use admin tokens issued to this user'),
  bool('active', 'is_active', 'true or false'),
];

/** The admin API finds a user by id, username or email address wherever it takes a user id. */
const USER_ARG = { user: 'user id, username or email' };

const id = (args: Record<string, string>, name: string) => encodeURIComponent(args[name]!);

/** A redirect-uri command's line, followed by the client's redirect URIs as they now are, one per line. */
const redirectUrisLine = (done: string, client: unknown) =>
  [done, 'Redirect URIs:', ...(client as { redirect_uris: string[] }).redirect_uris.map((uri) => `  ${uri}`)].join('\n');

export const COMMANDS: readonly Command[] = [
  {
    name: 'status',
    summary: 'server version, database and counts',
    args: [],
    method: 'GET',
    path: () => '/status',
    output: { kind: 'record' },
  },
  {
    name: 'openapi',
    summary: 'the OpenAPI 3.1 document of the admin API (JSON, for API clients and code generators)',
    args: [],
    method: 'GET',
    path: () => '/openapi.json',
    output: { kind: 'stream' },
  },
  {
    name: 'client list',
    summary: 'list clients',
    args: [],
    method: 'GET',
    path: () => '/clients',
    query: [str('registration-type', 'registration_type', 'only clients registered by: admin, dynamic (RFC 7591) or metadata_document (CIMD)'), ...PAGE],
    output: { kind: 'table', columns: ['client_id', 'client_name', 'token_endpoint_auth_method', 'grant_types', 'is_active', 'registration_type'] },
  },
  {
    name: 'client show',
    summary: 'show one client',
    args: ['client_id'],
    method: 'GET',
    path: (a) => `/clients/${id(a, 'client_id')}`,
    output: { kind: 'record' },
  },
  {
    name: 'client create',
    summary: 'register a client; the secret of a confidential client is printed once',
    args: [],
    method: 'POST',
    path: () => '/clients',
    body: [str('id', 'client_id', 'client_id to use (default: generated)'), ...CLIENT_FIELDS],
    output: { kind: 'record', secretNote: true },
  },
  {
    name: 'client update',
    summary: "change a client (only the options given; --redirect-uri replaces the whole list, use 'client redirect-uri add')",
    args: ['client_id'],
    method: 'PATCH',
    path: (a) => `/clients/${id(a, 'client_id')}`,
    body: CLIENT_FIELDS.map((o) => (o.flag === 'redirect-uri' ? UPDATE_REDIRECT_URIS : o)),
    output: { kind: 'record' },
  },
  {
    name: 'client redirect-uri add',
    summary: "add one redirect URI to a client's list (already there: nothing changes)",
    args: ['client_id', 'redirect_uri'],
    method: 'POST',
    path: (a) => `/clients/${id(a, 'client_id')}/redirect-uris`,
    bodyArgs: ['redirect_uri'],
    output: { kind: 'done', message: (a, body) => redirectUrisLine(`Added ${a.redirect_uri} to client ${a.client_id}.`, body) },
  },
  {
    name: 'client redirect-uri remove',
    summary: "remove one redirect URI from a client's list",
    args: ['client_id', 'redirect_uri'],
    method: 'DELETE',
    path: (a) => `/clients/${id(a, 'client_id')}/redirect-uris`,
    queryArgs: ['redirect_uri'],
    output: { kind: 'done', message: (a, body) => redirectUrisLine(`Removed ${a.redirect_uri} from client ${a.client_id}.`, body) },
  },
  {
    name: 'client delete',
    summary: 'delete a client and everything issued to it',
    args: ['client_id'],
    method: 'DELETE',
    path: (a) => `/clients/${id(a, 'client_id')}`,
    output: { kind: 'done', message: (a) => `Deleted client ${a.client_id}.` },
  },
  {
    name: 'client rotate-secret',
    summary: 'replace the secret of a confidential client; the old one stops working at once',
    args: ['client_id'],
    method: 'POST',
    path: (a) => `/clients/${id(a, 'client_id')}/rotate-secret`,
    output: { kind: 'record', secretNote: true },
  },
  {
    name: 'client unlock',
    summary: "clear the client's failed-authentication counts (brute-force throttle) from every address",
    args: ['client_id'],
    method: 'POST',
    path: (a) => `/clients/${id(a, 'client_id')}/unlock`,
    output: { kind: 'done', message: (a) => `Unlocked client ${a.client_id}.` },
  },
  {
    name: 'client grants',
    summary: 'list the grants of a client: who signed in to it, and when',
    args: ['client_id'],
    method: 'GET',
    path: (a) => `/clients/${id(a, 'client_id')}/grants`,
    query: PAGE,
    output: { kind: 'table', columns: ['id', 'user_id', 'username', 'scope', 'created_at', 'revoked_at'] },
  },
  {
    name: 'client revoke-grant',
    summary: 'revoke one grant of a client and every token issued under it',
    args: ['client_id', 'grant_id'],
    method: 'DELETE',
    path: (a) => `/clients/${id(a, 'client_id')}/grants/${id(a, 'grant_id')}`,
    output: { kind: 'done', message: (a) => `Revoked grant ${a.grant_id} of client ${a.client_id}.` },
  },
  {
    name: 'client revoke-grants',
    summary: 'revoke every grant of a client and every token issued under them',
    args: ['client_id'],
    method: 'DELETE',
    path: (a) => `/clients/${id(a, 'client_id')}/grants`,
    output: { kind: 'done', message: (a, body) => `Revoked ${(body as { revoked: number }).revoked} grant(s) of client ${a.client_id}.` },
  },
  {
    name: 'user list',
    summary: 'list or search users',
    args: [],
    method: 'GET',
    path: () => '/users',
    query: [str('query', 'q', 'search username, email and name'), ...PAGE],
    output: { kind: 'table', columns: ['id', 'username', 'email', 'name', 'is_admin', 'is_active'] },
  },
  {
    name: 'user show',
    summary: 'show one user',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'GET',
    path: (a) => `/users/${id(a, 'user')}`,
    output: { kind: 'record' },
  },
  {
    name: 'user create',
    summary: 'create a user',
    args: [],
    method: 'POST',
    path: () => '/users',
    body: USER_FIELDS,
    password: 'optional',
    output: { kind: 'record' },
  },
  {
    name: 'user update',
    summary: 'change a user (only the options given)',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'PATCH',
    path: (a) => `/users/${id(a, 'user')}`,
    body: USER_FIELDS,
    output: { kind: 'record' },
  },
  {
    name: 'user delete',
    summary: 'delete a user and their sessions, consents and tokens',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'DELETE',
    path: (a) => `/users/${id(a, 'user')}`,
    output: { kind: 'done', message: (a) => `Deleted user ${a.user}.` },
  },
  {
    name: 'user set-password',
    summary: 'set the password of a user',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'POST',
    path: (a) => `/users/${id(a, 'user')}/password`,
    password: 'required',
    output: { kind: 'done', message: (a) => `Password set for user ${a.user}.` },
  },
  {
    name: 'user unlock',
    summary: "clear the user's failed sign-in counts (brute-force throttle) from every address",
    args: ['user'],
    argHelp: USER_ARG,
    method: 'POST',
    path: (a) => `/users/${id(a, 'user')}/unlock`,
    output: { kind: 'done', message: (a) => `Unlocked user ${a.user}.` },
  },
  {
    name: 'user invite',
    summary: 'mail the user a set-your-password link (it also confirms the address)',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'POST',
    path: (a) => `/users/${id(a, 'user')}/invite`,
    output: { kind: 'done', message: (a) => `Invitation queued for user ${a.user}.` },
  },
  {
    name: 'user send-verification',
    summary: "mail the user a link that confirms their email address",
    args: ['user'],
    argHelp: USER_ARG,
    method: 'POST',
    path: (a) => `/users/${id(a, 'user')}/send-verification`,
    output: { kind: 'done', message: (a) => `Confirmation link queued for user ${a.user}.` },
  },
  {
    name: 'user reset-factors',
    summary: "remove the user's second factors (TOTP, recovery codes); the password stays, the user is mailed",
    args: ['user'],
    argHelp: USER_ARG,
    method: 'POST',
    path: (a) => `/users/${id(a, 'user')}/reset-factors`,
    output: { kind: 'done', message: (a) => `Second factors reset for user ${a.user}.` },
  },
  {
    name: 'user sessions',
    summary: "list a user's live browser sessions",
    args: ['user'],
    argHelp: USER_ARG,
    method: 'GET',
    path: (a) => `/users/${id(a, 'user')}/sessions`,
    query: PAGE,
    output: { kind: 'table', columns: ['sid', 'auth_time', 'created_at', 'expires_at'] },
  },
  {
    name: 'user revoke-session',
    summary: 'end one session of a user (signs that browser out)',
    args: ['user', 'sid'],
    argHelp: USER_ARG,
    method: 'DELETE',
    path: (a) => `/users/${id(a, 'user')}/sessions/${id(a, 'sid')}`,
    output: { kind: 'done', message: (a) => `Revoked session ${a.sid} of user ${a.user}.` },
  },
  {
    name: 'user revoke-sessions',
    summary: 'end every session of a user',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'DELETE',
    path: (a) => `/users/${id(a, 'user')}/sessions`,
    output: { kind: 'done', message: (a) => `Revoked all sessions of user ${a.user}.` },
  },
  {
    name: 'user grants',
    summary: "list a user's grants (one per authorization of a client)",
    args: ['user'],
    argHelp: USER_ARG,
    method: 'GET',
    path: (a) => `/users/${id(a, 'user')}/grants`,
    query: PAGE,
    output: { kind: 'table', columns: ['id', 'client_id', 'scope', 'created_at', 'revoked_at'] },
  },
  {
    name: 'user revoke-grant',
    summary: 'revoke one grant of a user and every token issued under it',
    args: ['user', 'grant_id'],
    argHelp: USER_ARG,
    method: 'DELETE',
    path: (a) => `/users/${id(a, 'user')}/grants/${id(a, 'grant_id')}`,
    output: { kind: 'done', message: (a) => `Revoked grant ${a.grant_id} of user ${a.user}.` },
  },
  {
    name: 'user revoke-grants',
    summary: 'revoke every grant of a user and every token issued under them',
    args: ['user'],
    argHelp: USER_ARG,
    method: 'DELETE',
    path: (a) => `/users/${id(a, 'user')}/grants`,
    output: { kind: 'done', message: (a) => `Revoked all grants of user ${a.user}.` },
  },
  {
    name: 'scope list',
    summary: 'list scopes',
    args: [],
    method: 'GET',
    path: () => '/scopes',
    query: PAGE,
    output: { kind: 'table', columns: ['name', 'is_default', 'description'] },
  },
  {
    name: 'scope create',
    summary: 'create a scope',
    args: ['name'],
    method: 'POST',
    path: () => '/scopes',
    bodyArgs: ['name'],
    body: [str('description', 'description', 'shown on the consent page'), bool('default', 'is_default', 'true or false: granted when a client asks for no scope')],
    output: { kind: 'record' },
  },
  {
    name: 'scope delete',
    summary: 'delete a scope no client uses',
    args: ['name'],
    method: 'DELETE',
    path: (a) => `/scopes/${id(a, 'name')}`,
    output: { kind: 'done', message: (a) => `Deleted scope ${a.name}.` },
  },
  {
    name: 'resource list',
    summary: 'list resource servers (APIs)',
    args: [],
    method: 'GET',
    path: () => '/resources',
    query: PAGE,
    output: { kind: 'table', columns: ['identifier', 'name', 'scopes', 'client_ids'] },
  },
  {
    name: 'resource show',
    summary: 'show one resource server (any accepted spelling of its identifier)',
    args: ['identifier'],
    method: 'GET',
    path: (a) => `/resources/${id(a, 'identifier')}`,
    output: { kind: 'record' },
  },
  {
    name: 'resource create',
    summary: 'register a resource server: clients ask for tokens for it with resource=<identifier> (RFC 8707)',
    args: ['identifier'],
    method: 'POST',
    path: () => '/resources',
    bodyArgs: ['identifier'],
    body: RESOURCE_FIELDS,
    output: { kind: 'record' },
  },
  {
    name: 'resource update',
    summary: 'change a resource server (only the options given); its identifier never changes',
    args: ['identifier'],
    method: 'PATCH',
    path: (a) => `/resources/${id(a, 'identifier')}`,
    body: RESOURCE_FIELDS,
    output: { kind: 'record' },
  },
  {
    name: 'resource delete',
    summary: 'delete a resource server no client lists in its allowed resources',
    args: ['identifier'],
    method: 'DELETE',
    path: (a) => `/resources/${id(a, 'identifier')}`,
    output: { kind: 'done', message: (a) => `Deleted resource ${a.identifier}.` },
  },
  {
    name: 'keys list',
    summary: 'list signing keys: next (published, not signing yet), active, retiring, retired, revoked',
    args: [],
    method: 'GET',
    path: () => '/keys',
    output: { kind: 'table', columns: ['kid', 'alg', 'status', 'created_at', 'activated_at', 'signs_from', 'unpublish_after'] },
  },
  {
    name: 'keys rotate',
    summary: 'publish a next key (it signs after the JWKS cache lifetime) and advance pending rotations; --emergency revokes the signing keys at once',
    args: [],
    method: 'POST',
    path: () => '/keys/rotate',
    body: [
      {
        flag: 'emergency',
        field: 'emergency',
        kind: 'flag',
        help: 'a signing key is compromised: stop signing with it now, unpublish it and revoke its access tokens',
      },
    ],
    output: { kind: 'record' },
  },
  {
    name: 'keys retire',
    summary: 'unpublish a key that no longer signs once its tokens have expired (or withdraw a next key)',
    args: ['kid'],
    method: 'POST',
    path: (a) => `/keys/${id(a, 'kid')}/retire`,
    output: { kind: 'record' },
  },
  {
    name: 'keys revoke',
    summary: 'a compromised key: stop signing and unpublish it at once, revoke the access tokens it signed',
    args: ['kid'],
    method: 'POST',
    path: (a) => `/keys/${id(a, 'kid')}/revoke`,
    output: { kind: 'record' },
  },
  {
    name: 'registration-token create',
    summary: 'mint an initial access token for dynamic client registration (REGISTRATION_POLICY=initial-access-token); printed once',
    args: [],
    method: 'POST',
    path: () => '/registration-tokens',
    body: [
      str('description', 'description', 'what the token is for'),
      str('expires-in', 'expires_in', 'lifetime: seconds or 90m, 12h, 30d (default: never expires)'),
      str('max-uses', 'max_uses', 'registrations it allows (default: unlimited)'),
    ],
    output: { kind: 'record', secretNote: true },
  },
  {
    name: 'registration-token list',
    summary: 'list initial access tokens (never the tokens themselves)',
    args: [],
    method: 'GET',
    path: () => '/registration-tokens',
    query: PAGE,
    output: { kind: 'table', columns: ['id', 'description', 'uses', 'max_uses', 'expires_at', 'revoked_at'] },
  },
  {
    name: 'registration-token revoke',
    summary: 'revoke an initial access token: registrations with it are refused at once',
    args: ['id'],
    method: 'POST',
    path: (a) => `/registration-tokens/${id(a, 'id')}/revoke`,
    output: { kind: 'done', message: (a) => `Revoked registration token ${a.id}.` },
  },
  {
    name: 'audit list',
    summary: 'list audit events, newest first: who changed what, from where (admin:audit:read)',
    args: [],
    method: 'GET',
    path: () => '/audit-events',
    query: [...AUDIT_FILTERS, ...PAGE],
    output: { kind: 'table', columns: ['occurred_at', 'event', 'actor', 'subject', 'client_id', 'ip', 'request_id'] },
  },
  {
    name: 'audit export',
    summary: 'print every matching audit event as JSON lines (newest first), streamed',
    args: [],
    method: 'GET',
    path: () => '/audit-events',
    query: AUDIT_FILTERS,
    fixedQuery: { format: 'jsonl' },
    output: { kind: 'stream' },
  },
  {
    name: 'cleanup',
    summary: 'delete expired codes, tokens, sessions and unusable grants and consents now; prints the counts',
    args: [],
    method: 'POST',
    path: () => '/maintenance/cleanup',
    output: { kind: 'record' },
  },
];
