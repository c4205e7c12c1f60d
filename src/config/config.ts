import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { canonicalResourceIdentifier } from '../lib/resource-identifier.js';
import { BrandConfigError, loadBrand, type BrandConfig } from './brand.js';

/**
 * Every environment variable Authly reads, with its description and default. `.env.example` is
 * tested against this table (test/unit/config/env-example.test.ts), so the two cannot drift.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `expected at least ${min}` }).max(max, { message: `expected at most ${max}` }));

/**
 * The asymmetric JWS algorithms a DPoP proof may use (RFC 9449 section 4.2: never none or a MAC). Ed25519 is
 * the fully-specified name of EdDSA over Ed25519 (RFC 9864), which jose and oauth4webapi clients send.
 */
export const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;
export type DpopAlg = (typeof DPOP_ALGS)[number];

interface VarSpec {
  schema: z.ZodType;
  description: string;
  /** The default as written in .env.example; undefined means "unset by default". */
  default?: string;
  secret?: boolean;
}

export const ENV_VARS = {
  ENVIRONMENT: {
    schema: z.enum(['development', 'production']),
    default: 'development',
    description: 'development or production. Production refuses insecure settings at start-up.',
  },
  HOST: { schema: z.string().min(1), default: '0.0.0.0', description: 'Interface to listen on.' },
  PORT: { schema: int(0, 65535), default: '8000', description: 'TCP port to listen on.' },
  DEFAULT_ISSUER_URL: {
    schema: z.url({ message: 'expected an absolute http(s) URL' }),
    description: 'The issuer identifier and public base URL (default http://localhost:PORT).',
  },
  // Branding (issue 12 §5): what every page and mail shows of the operator. Checked at start-up.
  BRAND_PRODUCT_NAME: {
    schema: z.string().trim().min(1).max(60, { message: 'expected at most 60 characters' }),
    default: 'Authly',
    description: 'Product name on every page title, the sign-out page and the mail "from" name.',
  },
  BRAND_LOGO_URL: {
    schema: z.url({ message: 'expected an absolute http(s) URL' }),
    description: 'Logo shown above every page (https; its origin is added to the pages\' CSP img-src). Or BRAND_LOGO_FILE.',
  },
  BRAND_LOGO_FILE: {
    schema: z.string().min(1),
    description: 'Logo file (.svg, .png, .jpg, .webp, at most 256 KiB) served by Authly under /assets/. Or BRAND_LOGO_URL.',
  },
  BRAND_PRIMARY_COLOR: {
    schema: z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, { message: 'expected a hex colour like #2f66d8' }),
    default: '#2f66d8',
    description: 'Primary colour (buttons, links, focus). Text colours are derived so that contrast stays readable.',
  },
  BRAND_SUPPORT_URL: {
    schema: z.url({ message: 'expected an absolute http(s) URL' }),
    description: 'Help page linked in every page footer and on error pages.',
  },
  BRAND_SUPPORT_EMAIL: {
    schema: z.email({ message: 'expected an email address' }),
    description: 'Support address shown in every page footer and on error pages.',
  },
  BRAND_TEMPLATES_DIR: {
    schema: z.string().min(1),
    description: 'Optional folder of overrides: header.html, footer.html (HTML fragments, no script or style) and extra.css.',
  },
  DATABASE_URL: {
    schema: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// URL' }),
    secret: true,
    description: 'PostgreSQL connection URL. Unset: embedded PGlite stored in AUTHLY_DATA_DIR.',
  },
  DATABASE_POOL_MAX: { schema: int(1, 1000), default: '10', description: 'Maximum PostgreSQL pool connections.' },
  AUTHLY_DATA_DIR: {
    schema: z.string().min(1),
    default: './data',
    description: 'Directory for the embedded database and the development admin credentials.',
  },
  AUTOMIGRATE: { schema: bool, default: 'true', description: 'Apply pending migrations at start-up.' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'pino log level.',
  },
  DEBUG: { schema: bool, default: 'false', description: 'true: log at debug level, unless LOG_LEVEL is set.' },
  METRICS_ENABLED: {
    schema: bool,
    default: 'true',
    description: 'Serve Prometheus metrics at /metrics. false: /metrics is not served (404).',
  },
  ACCESS_TOKEN_EXPIRE_MINUTES: { schema: int(1, 1440), default: '15', description: 'Access token lifetime.' },
  REFRESH_TOKEN_EXPIRE_DAYS: { schema: int(1, 365), default: '7', description: 'Refresh token lifetime.' },
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: {
    schema: int(0, 60),
    default: '5',
    description:
      'Seconds after a rotation in which repeating the same refresh returns the same successor instead of revoking the family; 0 disables.',
  },
  AUTHORIZATION_CODE_EXPIRE_MINUTES: {
    schema: int(1, 10),
    default: '10',
    description: 'Authorization code lifetime (RFC 6749 section 4.1.2 recommends at most 10).',
  },
  PAR_ENABLED: {
    schema: bool,
    default: 'true',
    description: 'Pushed authorization requests (RFC 9126): POST /oauth/par, and its request_uri at the authorization endpoint.',
  },
  REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: {
    schema: bool,
    default: 'false',
    description:
      'true: every authorization request must come through POST /oauth/par (RFC 9126 section 5); a client\'s require_pushed_authorization_requests asks it of that client alone.',
  },
  PAR_EXPIRE_SECONDS: {
    schema: int(5, 600),
    default: '60',
    description: 'Lifetime of a pushed authorization request\'s request_uri (single use; RFC 9126 section 2.2 suggests a short one).',
  },
  REQUEST_OBJECTS_ENABLED: {
    schema: bool,
    default: 'true',
    description:
      'Signed request objects (RFC 9101): the request parameter at the authorization endpoint and in pushed requests, verified against the client\'s jwks or jwks_uri. false: request_not_supported.',
  },
  // RFC 8628: the device authorization grant (POST /oauth/device_authorization and the /device page).
  DEVICE_GRANT_ENABLED: {
    schema: bool,
    default: 'true',
    description:
      'Device authorization grant (RFC 8628): POST /oauth/device_authorization, the /device page and `authly admin login`. In discovery only while enabled.',
  },
  DEVICE_CODE_EXPIRE_MINUTES: {
    schema: int(1, 60),
    default: '10',
    description: 'Lifetime of a device code and its user code (RFC 8628 section 3.2 expires_in).',
  },
  DEVICE_CODE_INTERVAL_SECONDS: {
    schema: int(1, 60),
    default: '5',
    description: 'Seconds a device waits between polls of the token endpoint (RFC 8628 section 3.2 interval); slow_down adds 5.',
  },
  ID_TOKEN_EXPIRE_MINUTES: { schema: int(1, 1440), default: '60', description: 'ID token lifetime.' },
  // Issue 13 §1: DPoP (RFC 9449), src/services/dpop/.
  DPOP_ENABLED: {
    schema: bool,
    default: 'true',
    description:
      'DPoP (RFC 9449): sender-constrained access tokens (and public clients\' refresh tokens) for clients that send a DPoP proof. false: DPoP headers are ignored and discovery does not advertise it.',
  },
  DPOP_SIGNING_ALGS: {
    schema: z
      .string()
      .transform((raw) => raw.split(/[\s,]+/).filter(Boolean))
      .pipe(z.array(z.enum(DPOP_ALGS, { message: `expected a comma-separated list of ${DPOP_ALGS.join(', ')}` })).min(1, { message: 'expected at least one algorithm' })),
    default: 'ES256,EdDSA,Ed25519,PS256,RS256',
    description: `Comma-separated JWS algorithms accepted for DPoP proofs (dpop_signing_alg_values_supported); asymmetric only: ${DPOP_ALGS.join(', ')}.`,
  },
  DPOP_PROOF_MAX_AGE_SECONDS: {
    schema: int(5, 3600),
    default: '60',
    description: 'Seconds after its iat a DPoP proof is accepted; its jti is remembered (single use) for as long.',
  },
  DPOP_CLOCK_SKEW_SECONDS: {
    schema: int(0, 300),
    default: '5',
    description: 'Clock difference allowed with DPoP clients: a proof may be this many seconds ahead of (or older than) the window.',
  },
  DPOP_REQUIRE_NONCE: {
    schema: bool,
    default: 'false',
    description:
      'Every DPoP proof must carry a server nonce (RFC 9449 section 8): a proof without a current one gets use_dpop_nonce and a DPoP-Nonce header. Nonces are stateless (HMAC of a time slot), so replicas agree.',
  },
  DPOP_NONCE_LIFETIME_SECONDS: {
    schema: int(10, 3600),
    default: '300',
    description: 'Seconds a DPoP nonce slot lasts; the current and the previous slot\'s nonces are accepted (rotation).',
  },
  SESSION_EXPIRE_HOURS: { schema: int(1, 8760), default: '24', description: 'Browser session (single sign-on) lifetime.' },
  MFA_POLICY: {
    schema: z.enum(['off', 'optional', 'required']),
    default: 'optional',
    description:
      'Second factor at sign-in: off (never asked), optional (asked of users who set one up) or required (everyone; users without one set up TOTP during sign-in). A client\'s mfa_policy overrides it; acr_values asking for MFA always require it.',
  },
  CLEANUP_INTERVAL_MINUTES: {
    schema: int(0, 10080),
    default: '60',
    description:
      'Minutes between background deletions of expired codes, tokens, sessions and grants (plus up to 10% jitter); 0 disables the job.',
  },
  REQUIRE_USER_CONSENT: {
    schema: bool,
    default: 'true',
    description: 'Show the consent page (clients marked skip_consent never see it).',
  },
  // Accounts (issue 12 §2): recovery, verification, self-registration. Links are mailed (see SMTP_*).
  PASSWORD_RECOVERY_ENABLED: {
    schema: bool,
    description:
      '"Forgot password?" on the sign-in page: a single-use reset link by mail. Unset: on in development (mail goes to AUTHLY_DATA_DIR/mail) and in production when SMTP_HOST or SMTP_URL is set; true in production without SMTP refuses to start.',
  },
  REGISTRATION_ENABLED: {
    schema: bool,
    default: 'false',
    description:
      'Self-registration of users: a sign-up page linked from the sign-in page. Not REGISTRATION_POLICY, which is about RFC 7591 dynamic registration of clients. Production needs SMTP.',
  },
  REQUIRE_EMAIL_VERIFICATION: {
    schema: bool,
    default: 'false',
    description:
      'A user with an unverified email address cannot finish a sign-in; the page offers a new verification link. Users without an email address are not affected. Production needs SMTP.',
  },
  EMAIL_VERIFICATION_EXPIRE_HOURS: { schema: int(1, 168), default: '24', description: 'Lifetime of an email verification link.' },
  PASSWORD_RESET_EXPIRE_MINUTES: { schema: int(5, 1440), default: '30', description: 'Lifetime of a password reset link.' },
  INVITATION_EXPIRE_HOURS: { schema: int(1, 720), default: '72', description: 'Lifetime of an invitation (set-your-password) link.' },
  ACCOUNT_REAUTH_MINUTES: {
    schema: int(1, 1440),
    default: '10',
    description:
      'Account page: passkeys, the authenticator app and recovery codes can be changed only this many minutes after signing in; later the user signs in again first (every factor), so a stolen session cookie cannot add a factor.',
  },
  AUTHLY_LOCKOUT_MAX_ATTEMPTS: {
    schema: int(1, 1000),
    default: '5',
    description:
      'Failed sign-ins per account (or client authentications per client) from one address before that address waits out the window; an address gets ten times as many, an account from all addresses four times as many, then a progressive delay.',
  },
  AUTHLY_LOCKOUT_DURATION_SECONDS: {
    schema: int(1, 86400),
    default: '900',
    description: 'The window in which failures are counted, and how long an address waits once its allowance is spent.',
  },
  JWT_SECRET_KEY: {
    schema: z.string().min(32, { message: 'expected at least 32 characters' }),
    secret: true,
    description:
      "Keys the server's own HMACs (CSRF, client secret hashes). Required in production; " +
      'development generates one into AUTHLY_DATA_DIR.',
  },
  JWT_ALGORITHM: {
    schema: z.enum(['RS256', 'ES256', 'EdDSA', 'HS256']),
    default: 'RS256',
    description: 'Algorithm of access-token signing keys: RS256, ES256 or EdDSA. ID tokens always offer RS256.',
  },
  ACCESS_TOKEN_FORMAT: {
    schema: z.enum(['jwt', 'opaque']),
    default: 'jwt',
    description:
      'Access tokens: jwt (RFC 9068, verifiable by resource servers with the JWKS) or opaque (random, checked ' +
      'through introspection). Clients may override it (access_token_format).',
  },
  DEFAULT_RESOURCE: {
    schema: z.string().min(1),
    description:
      'Resource identifier (RFC 8707) for token requests that name none: their access tokens get it as aud and ' +
      'only the scopes it accepts. It must be a registered resource; until it is, tokens keep the issuer as aud ' +
      '(a warning is logged). Requests for admin scopes keep the issuer. Unset: aud is the issuer.',
  },
  AUTHLY_KEY_ENCRYPTION_KEY: {
    schema: z.string().min(32, { message: 'expected at least 32 characters' }),
    secret: true,
    description:
      'Private signing keys are stored AES-256-GCM encrypted with a key derived from it. Required in production; ' +
      'development without it stores them in plain JSON.',
  },
  KEY_ROTATION_DAYS: {
    schema: int(0, 3650),
    default: '0',
    description:
      'Days between scheduled signing-key rotations, run by the cleanup job (CLEANUP_INTERVAL_MINUTES) on one ' +
      'replica at a time; the next key is published before it signs. 0 disables (rotate with authly admin keys rotate).',
  },
  REDIS_URL: {
    schema: z.string().regex(/^rediss?:\/\//, { message: 'expected a redis:// or rediss:// URL' }),
    secret: true,
    description:
      'Redis URL. When set, Redis holds the rate-limit counters shared by all replicas and caches hot reads. ' +
      'Unset: in-memory (one instance).',
  },
  AUTHLY_REDIS_CACHE: {
    schema: bool,
    default: 'true',
    description: 'With REDIS_URL: share the client cache through Redis, invalidated on admin writes across replicas.',
  },
  AUTHLY_REDIS_RATE_LIMIT: {
    schema: bool,
    default: 'true',
    description: 'With REDIS_URL: keep rate-limit counters in Redis so that the limit is shared by all replicas.',
  },
  AUTHLY_REDIS_KEY_PREFIX: {
    schema: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, { message: 'expected 1 to 64 letters, digits, ":", "_", "." or "-"' }),
    default: 'authly:',
    description: 'Prefix of every Redis key and channel Authly uses, so that several deployments can share one Redis.',
  },
  RATE_LIMIT_ENABLED: { schema: bool, default: 'true', description: 'Rate-limit requests per client IP (429 with Retry-After).' },
  RATE_LIMIT_MAX_REQUESTS: {
    schema: int(1, 1_000_000),
    default: '1000',
    description: 'General policy: requests per IP per window, for every endpoint without a policy of its own (login, token, admin).',
  },
  RATE_LIMIT_REQUESTS_PER_MINUTE: {
    schema: int(1, 1_000_000),
    description: 'Alias of RATE_LIMIT_MAX_REQUESTS with a 60-second window (the name some deployment guides use).',
  },
  RATE_LIMIT_WINDOW_SECONDS: { schema: int(1, 86400), default: '60', description: 'Rate-limit window in seconds.' },
  RATE_LIMIT_LOGIN_PER_MINUTE: {
    schema: int(0, 1_000_000),
    default: '100',
    description: 'Sign-in form posts per IP per minute (each costs an argon2id hash); 0 turns this policy off.',
  },
  RATE_LIMIT_TOKEN_PER_MINUTE: {
    schema: int(0, 1_000_000),
    default: '6000',
    description:
      'Token endpoint requests per IP per minute (one cluster egress address may carry many services); 0 turns this policy off.',
  },
  RATE_LIMIT_ADMIN_PER_MINUTE: {
    schema: int(0, 1_000_000),
    default: '600',
    description: 'Admin API requests per IP per minute, counted before the token is checked; 0 turns this policy off.',
  },
  RATE_LIMIT_REGISTRATION_PER_MINUTE: {
    schema: int(0, 1_000_000),
    default: '20',
    description:
      'Dynamic client registrations (POST /oauth/register) per IP per minute; 0 turns this policy off (the general one then applies).',
  },
  REGISTRATION_POLICY: {
    schema: z.enum(['closed', 'initial-access-token', 'open']),
    description:
      'Dynamic client registration (RFC 7591): closed (no registration endpoint), initial-access-token (a token from ' +
      '`authly admin registration-token create` is required) or open (anyone, rate-limited). Default: closed in production, open in development.',
  },
  DYNAMIC_CLIENT_IDLE_DAYS: {
    schema: int(0, 3650),
    default: '90',
    description:
      'The cleanup job deletes dynamically registered and metadata-document clients unused for this many days (never used: since creation); 0 keeps them.',
  },
  AUDIT_RETENTION_DAYS: {
    schema: int(0, 36500),
    default: '365',
    description:
      'Days the audit trail (the audit_events table, GET /admin/audit-events) keeps an event; older ones are deleted by the cleanup job. 0 keeps everything.',
  },
  AUDIT_STORE_TOKEN_EVENTS: {
    schema: bool,
    default: 'false',
    description:
      'Also store token.issued in the audit trail (one row per issued token; it is always in the audit log lines). Off: the token endpoint writes nothing more.',
  },
  CORS_ORIGINS: {
    schema: z.string().min(1),
    description:
      'Comma-separated origins (https://app.example.com) allowed to call the token, userinfo, revocation, JWKS, registration and ' +
      'discovery endpoints from a browser. Unset: no cross-origin access.',
  },
  ALLOWED_HOSTS: {
    schema: z.string().min(1),
    description: 'Comma-separated host names accepted in the Host header (others get 400). Unset: any host.',
  },
  TRUST_PROXY: {
    schema: z.string().min(1),
    default: 'false',
    description:
      'Trust X-Forwarded-For/-Proto/-Host from: false, a hop count (true = 1: the address the nearest proxy saw), or comma-separated proxy IPs/CIDRs.',
  },
  WORKERS: { schema: int(1, 64), default: '1', description: 'Worker processes (node:cluster) sharing the port.' },
  SHUTDOWN_TIMEOUT_SECONDS: {
    schema: int(1, 600),
    default: '25',
    description: 'On SIGTERM: readiness turns 503, in-flight requests finish; forced exit after this many seconds.',
  },
  HTTP_REQUEST_TIMEOUT_SECONDS: {
    schema: int(1, 600),
    default: '10',
    description:
      'Time a client has to send a whole request (headers and body); a slower one gets 408 and its connection is closed, so a trickled body cannot hold a socket or delay a shutdown.',
  },
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: {
    schema: int(1, 600),
    default: '72',
    description: 'Idle keep-alive connections are closed after this many seconds (keep it above the load balancer idle timeout).',
  },
  AUTHLY_MAX_INFLIGHT_EXPENSIVE: {
    schema: int(0, 100_000),
    default: '64',
    description:
      'Admission control: token and login requests in flight per process beyond which new ones get 503 with Retry-After at once (health probes and metrics stay fast); 0 disables.',
  },
  CIMD_ENABLED: {
    schema: bool,
    default: 'true',
    description:
      'Client ID Metadata Documents: an https URL used as client_id is fetched as the client\'s metadata (draft-ietf-oauth-client-id-metadata-document), for MCP clients. false: such client_ids are unknown.',
  },
  CIMD_ALLOW_LOOPBACK: {
    schema: bool,
    default: 'false',
    description:
      'Development and tests only (refused in production): also accept http://127.0.0.1, http://[::1] and http://localhost client_id URLs, fetched from the loopback interface.',
  },
  OUTBOUND_ALLOW_LOOPBACK: {
    schema: bool,
    default: 'false',
    description:
      'Development and tests only (refused in production): let the URLs clients register for Authly to call (jwks_uri, backchannel_logout_uri) be on the loopback interface.',
  },
  BACKCHANNEL_LOGOUT_ENABLED: {
    schema: bool,
    default: 'true',
    description:
      'OpenID Connect Back-Channel Logout 1.0: when a session ends, each client of the session with a backchannel_logout_uri gets a logout token, from a durable outbox with retries. false: none are queued and discovery does not advertise it.',
  },
  BACKCHANNEL_LOGOUT_WORKER_ENABLED: {
    schema: bool,
    default: 'true',
    description: 'Run the back-channel logout worker in this process (it delivers queued logout tokens); false: another replica delivers them.',
  },
  BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: {
    schema: int(1, 100),
    default: '10',
    description: "Delivery attempts of a logout token before it is marked failed (the client's endpoint down, answering 400 or 5xx, or too slow).",
  },
  BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: {
    schema: int(1, 3600),
    default: '10',
    description: 'Wait before the first retry of a logout token; doubled after each failed attempt, at most one hour.',
  },
  BACKCHANNEL_LOGOUT_TIMEOUT_MS: {
    schema: int(100, 60_000),
    default: '5000',
    description: "Time allowed for one delivery: connecting to the client's backchannel_logout_uri, sending and its answer together.",
  },
  CIMD_ALLOWED_DOMAINS: {
    schema: z.string().min(1),
    description:
      'Comma-separated domains whose client_id URLs are accepted (example.com also covers sub.example.com, on whole labels). Unset: any public domain.',
  },
  CIMD_DENIED_DOMAINS: {
    schema: z.string().min(1),
    description: 'Comma-separated domains whose client_id URLs are refused (matched like CIMD_ALLOWED_DOMAINS; wins over it).',
  },
  CIMD_CACHE_MIN_SECONDS: {
    schema: int(0, 86400),
    default: '300',
    description: 'Shortest time a fetched metadata document is used without fetching it again, whatever its Cache-Control or Expires says.',
  },
  CIMD_CACHE_MAX_SECONDS: {
    schema: int(1, 31_536_000),
    default: '86400',
    description: 'Longest time a fetched metadata document is used without fetching it again (a document without cache headers: CIMD_CACHE_MIN_SECONDS).',
  },
  CIMD_FETCH_TIMEOUT_MS: {
    schema: int(100, 60_000),
    default: '5000',
    description: 'Time allowed to fetch a metadata document: connecting, waiting and reading together.',
  },
  CIMD_MAX_FETCHES_PER_HOST: {
    schema: int(1, 100),
    default: '4',
    description: 'Metadata document fetches in flight to one host per process; more wait their turn (within the timeout).',
  },
  CLIENT_ASSERTION_MAX_LIFETIME_SECONDS: {
    schema: int(10, 3600),
    default: '300',
    description:
      'private_key_jwt / client_secret_jwt: how far in the future a client assertion exp may be; its jti is remembered (single use) until then.',
  },
  CLIENT_JWKS_CACHE_MIN_SECONDS: {
    schema: int(0, 86400),
    default: '60',
    description: "Shortest time a client's JWK Set fetched from its jwks_uri is used without fetching it again, whatever its Cache-Control says.",
  },
  CLIENT_JWKS_CACHE_MAX_SECONDS: {
    schema: int(1, 604_800),
    default: '3600',
    description: "Longest time a client's JWK Set fetched from its jwks_uri is used without fetching it again (no cache headers: CLIENT_JWKS_CACHE_MIN_SECONDS).",
  },
  CLIENT_JWKS_REFETCH_INTERVAL_SECONDS: {
    schema: int(1, 86400),
    default: '60',
    description: "A JWS naming a key its client's jwks_uri set lacks fetches the set again (key rotation), at most once per this many seconds per jwks_uri and process.",
  },
  CLIENT_JWKS_FETCH_TIMEOUT_MS: {
    schema: int(100, 60_000),
    default: '5000',
    description: "Time allowed to fetch a client's jwks_uri: connecting, waiting and reading together.",
  },
  SMTP_URL: {
    schema: z.string().regex(/^smtps?:\/\/[^/?#]+\/?$/, { message: 'expected smtp://[user:password@]host[:port] or smtps://…' }),
    secret: true,
    description: 'SMTP server as one URL (smtps:// is implicit TLS), instead of SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD and SMTP_SECURE.',
  },
  SMTP_HOST: {
    schema: z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, { message: 'expected a host name or IP address' }),
    description: 'SMTP server host. Unset (and no SMTP_URL): development writes each message to MAIL_DEV_DIR; production refuses features that send mail.',
  },
  SMTP_PORT: { schema: int(1, 65535), description: 'SMTP server port (default 465 with SMTP_SECURE, else 587).' },
  SMTP_USERNAME: { schema: z.string().min(1).max(255), description: 'SMTP user name (AUTH); unset: no authentication.' },
  SMTP_PASSWORD: { schema: z.string().min(1).max(1024), secret: true, description: 'SMTP password (goes with SMTP_USERNAME).' },
  SMTP_SECURE: { schema: bool, default: 'false', description: 'true: implicit TLS from the first byte (usually port 465).' },
  SMTP_STARTTLS: {
    schema: z.enum(['required', 'opportunistic', 'off']),
    description:
      'Without SMTP_SECURE: required (refuse to send unless the server upgrades with STARTTLS), opportunistic (upgrade when offered) or off. Default: required in production, opportunistic in development.',
  },
  SMTP_FROM_EMAIL: {
    schema: z.email({ message: 'expected an email address' }),
    description: 'Sender address of every message (default no-reply@ the issuer host).',
  },
  SMTP_FROM_NAME: { schema: z.string().min(1).max(100), description: "Sender display name (default: the brand's product name)." },
  MAIL_DEV_DIR: {
    schema: z.string().min(1),
    description: 'Development without SMTP: where each message is written as a .eml file (default AUTHLY_DATA_DIR/mail).',
  },
  MAIL_WORKER_ENABLED: {
    schema: bool,
    default: 'true',
    description: 'Run the mail worker in this process (it sends queued mail); false: another replica sends it.',
  },
  MAIL_MAX_ATTEMPTS: {
    schema: int(1, 100),
    default: '12',
    description: 'Delivery attempts of a message before it is marked failed (a permanent 5xx refusal fails at once).',
  },
  MAIL_RETRY_BASE_SECONDS: {
    schema: int(1, 3600),
    default: '30',
    description: 'Wait before the first retry; doubled after each temporary failure, at most one hour.',
  },
  MAIL_SEND_TIMEOUT_SECONDS: {
    schema: int(1, 600),
    default: '30',
    description: 'Time allowed to connect to the SMTP server, and for each of its replies.',
  },
  AUTHLY_ADMIN_CLIENT_ID: { schema: z.string().min(1).max(255), description: 'Bootstrap admin client id.' },
  AUTHLY_ADMIN_CLIENT_SECRET: {
    schema: z.string().min(16, { message: 'expected at least 16 characters' }),
    secret: true,
    description: 'Bootstrap admin client secret.',
  },
  AUTHLY_ADMIN_USERNAME: { schema: z.string().min(1).max(255), description: 'Bootstrap admin user name.' },
  AUTHLY_ADMIN_EMAIL: { schema: z.email({ message: 'expected an email address' }), description: 'Bootstrap admin email.' },
  AUTHLY_ADMIN_PASSWORD: {
    schema: z.string().min(8, { message: 'expected at least 8 characters' }),
    secret: true,
    description: 'Bootstrap admin password.',
  },
  AUTHLY_BOOTSTRAP_DEV_MODE: {
    schema: bool,
    default: 'true',
    description:
      'Development only: generate admin client credentials on first start into AUTHLY_DATA_DIR. Refused in production.',
  },
} satisfies Record<string, VarSpec>;

export type EnvName = keyof typeof ENV_VARS;

export type RegistrationPolicy = 'closed' | 'initial-access-token' | 'open';

export interface Config {
  environment: 'development' | 'production';
  host: string;
  port: number;
  issuer: string;
  /** Branding (BRAND_*): files are read and checked at start-up (src/config/brand.ts). */
  brand: BrandConfig;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  dataDir: string;
  autoMigrate: boolean;
  logLevel: string;
  metricsEnabled: boolean;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshTokenReuseGraceSeconds: number;
  authorizationCodeTtlSeconds: number;
  /** Pushed authorization requests (RFC 9126; src/services/pushed-authorization-service.ts). */
  par: { enabled: boolean; required: boolean; ttlSeconds: number };
  /** Signed request objects (RFC 9101; src/services/request-object-service.ts). */
  requestObjects: { enabled: boolean };
  /** RFC 8628 (DEVICE_GRANT_*): whether the grant is offered, and its codes' lifetime and polling interval. */
  deviceGrant: { enabled: boolean; codeTtlSeconds: number; intervalSeconds: number };
  idTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  /** MFA_POLICY: the default second-factor policy of clients that set none (src/services/mfa-policy.ts). */
  mfaPolicy: 'off' | 'optional' | 'required';
  cleanupIntervalMinutes: number;
  requireUserConsent: boolean;
  /** Single-use links by mail (src/services/account-links-service.ts). */
  accounts: {
    /** Mail can be delivered: development (to files) or SMTP configured. Links are mailed only then. */
    mailAvailable: boolean;
    passwordRecovery: boolean;
    registrationEnabled: boolean;
    requireEmailVerification: boolean;
    verificationTtlSeconds: number;
    resetTtlSeconds: number;
    invitationTtlSeconds: number;
    /** ACCOUNT_REAUTH_MINUTES: how recent a sign-in must be to change the account's factors. */
    reauthSeconds: number;
  };
  lockoutMaxAttempts: number;
  lockoutDurationSeconds: number;
  jwtSecretKey: string | undefined;
  jwtAlgorithm: 'RS256' | 'ES256' | 'EdDSA';
  accessTokenFormat: 'jwt' | 'opaque';
  /** Canonical resource identifier for requests that name none (RFC 8707); undefined: the issuer. */
  defaultResource: string | undefined;
  keyEncryptionKey: string | undefined;
  keyRotationDays: number;
  redisUrl: string | undefined;
  redisCache: boolean;
  redisRateLimit: boolean;
  redisKeyPrefix: string;
  /** Per-minute limits of the named policies; 0 = off (the request then counts against the general one). */
  rateLimit: {
    enabled: boolean;
    max: number;
    windowSeconds: number;
    loginPerMinute: number;
    tokenPerMinute: number;
    adminPerMinute: number;
    registrationPerMinute: number;
  };
  /** RFC 7591 dynamic client registration: who may register (src/services/registration/registration-policy.ts). */
  registrationPolicy: RegistrationPolicy;
  /** Dynamic and metadata-document clients idle longer than this are deleted by the cleanup job; 0 keeps them. */
  dynamicClientIdleDays: number;
  /** The audit trail: days an event is kept (0: forever), and whether token.issued is stored. */
  audit: { retentionDays: number; storeTokenEvents: boolean };
  /** Exact origins allowed for CORS, or ['*'] for any origin (never with credentials). */
  corsOrigins: string[];
  /** Lower-case host names (no port); empty means any. */
  allowedHosts: string[];
  /** Fastify's trustProxy: false, a hop count, or proxy addresses/CIDRs (TRUST_PROXY=true is one hop). */
  trustProxy: false | number | string[];
  workers: number;
  shutdownTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  /** Admission control: expensive requests (token, login) in flight per process; 0 means no cap. */
  maxInflightExpensive: number;
  /** Development and tests: client-registered URLs Authly calls (jwks_uri, back-channel logout) may be loopback. */
  outboundAllowLoopback: boolean;
  /** DPoP (RFC 9449): src/services/dpop/. */
  dpop: {
    enabled: boolean;
    signingAlgs: DpopAlg[];
    proofMaxAgeSeconds: number;
    clockSkewSeconds: number;
    requireNonce: boolean;
    nonceLifetimeSeconds: number;
  };
  /** OpenID Connect Back-Channel Logout 1.0 (src/services/backchannel-logout/). */
  backchannelLogout: {
    enabled: boolean;
    workerEnabled: boolean;
    maxAttempts: number;
    retryBaseSeconds: number;
    timeoutMs: number;
  };
  /** Client ID Metadata Documents (src/services/metadata-document-client.ts). */
  cimd: {
    enabled: boolean;
    allowLoopback: boolean;
    /** Lower-case domains; empty: any. */
    allowedDomains: string[];
    deniedDomains: string[];
    cacheMinSeconds: number;
    cacheMaxSeconds: number;
    fetchTimeoutMs: number;
    maxFetchesPerHost: number;
  };
  /** RFC 7523 client assertions: the longest accepted lifetime (src/services/client-assertion.ts). */
  clientAssertionMaxLifetimeSeconds: number;
  /** Client keys fetched from a jwks_uri (src/services/client-keys.ts). */
  clientJwks: {
    cacheMinSeconds: number;
    cacheMaxSeconds: number;
    refetchIntervalSeconds: number;
    fetchTimeoutMs: number;
  };
  /** Outgoing mail (src/services/mail/): the SMTP server, or development's .eml files. */
  mail: MailConfig;
  admin: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    username: string | undefined;
    email: string | undefined;
    password: string | undefined;
    bootstrapDevMode: boolean;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** How Authly reaches its SMTP server (from SMTP_URL or SMTP_HOST and the rest). */
const SMTP_SERVER = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** Implicit TLS (SMTPS, RFC 8314 section 3.3). */
  secure: z.boolean(),
  /** STARTTLS (RFC 3207) when not `secure`: required, used when offered, or never. */
  startTls: z.enum(['required', 'opportunistic', 'off']),
  username: z.string().optional(),
  password: z.string().optional(),
});

const MAIL_CONFIG = z.object({
  /** Undefined: no SMTP server (development writes .eml files; production refuses features that mail). */
  smtp: SMTP_SERVER.optional(),
  /** SMTP_FROM_EMAIL (validated as an address), or no-reply@ the issuer host (also localhost, an address literal). */
  fromEmail: z.string().includes('@'),
  /** Undefined: the brand's product name. */
  fromName: z.string().optional(),
  devDir: z.string().min(1),
  workerEnabled: z.boolean(),
  maxAttempts: z.number().int().min(1),
  retryBaseSeconds: z.number().int().min(1),
  sendTimeoutSeconds: z.number().int().min(1),
});

export type SmtpServerConfig = z.infer<typeof SMTP_SERVER>;
export type MailConfig = z.infer<typeof MAIL_CONFIG>;

export type MailDelivery = 'smtp' | 'dev-files' | 'none';

/**
 * How mail leaves this deployment: an SMTP server; in development without one, .eml files in MAIL_DEV_DIR;
 * in production without one, not at all (queued mail waits for SMTP to be configured: production never
 * writes single-use links to disk, and refuses to start the features that depend on mail).
 */
export function mailDelivery(config: Pick<Config, 'mail' | 'environment'>): MailDelivery {
  if (config.mail.smtp) return 'smtp';
  return config.environment === 'production' ? 'none' : 'dev-files';
}

/**
 * For loadConfig's checks of features that send mail (password recovery, REGISTRATION_ENABLED,
 * REQUIRE_EMAIL_VERIFICATION, …): in production, such a feature without an SMTP server would accept
 * requests whose mail nobody ever receives, so the process refuses to start, naming the feature's variable.
 */
export function requireMailFor(config: Pick<Config, 'environment' | 'mail'>, variable: string): void {
  if (config.environment === 'production' && mailDelivery(config) !== 'smtp') {
    throw new ConfigError(`${variable}: needs SMTP_HOST or SMTP_URL to send mail`);
  }
}

type Env = Record<string, string | undefined>;

/** NAME_FILE wins over NAME so Docker and Kubernetes secrets can be mounted as files. */
function readRaw(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const value = env[name];
  return value === '' ? undefined : value;
}

function parseVar(env: Env, name: EnvName): unknown {
  const spec: VarSpec = ENV_VARS[name];
  const raw = readRaw(env, name) ?? spec.default;
  if (raw === undefined) return undefined;
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const shown = spec.secret ? '' : ` (got "${raw}")`;
    throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'}${shown}`);
  }
  return result.data;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function parseOrigins(raw: string | undefined): string[] {
  const origins = list(raw);
  if (origins.includes('*')) {
    if (origins.length > 1) throw new ConfigError('CORS_ORIGINS: "*" cannot be combined with other origins');
    return origins;
  }
  return origins.map((origin) => {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    // An origin is scheme://host[:port] and nothing else (RFC 6454); a trailing path would never match.
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com`);
    }
    return origin;
  });
}

function parseHosts(raw: string | undefined): string[] {
  return list(raw).map((host) => {
    if (!/^(\*\.)?[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i.test(host)) {
      throw new ConfigError(`ALLOWED_HOSTS: "${host}" is not a host name (no scheme or port)`);
    }
    return host.toLowerCase();
  });
}

function parseDomains(name: string, raw: string | undefined): string[] {
  return list(raw).map((domain) => {
    const plain = domain.toLowerCase().replace(/^\*?\./, '');
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(plain)) throw new ConfigError(`${name}: "${domain}" is not a domain name (no scheme, port or path)`);
    return plain;
  });
}

function parseTrustProxy(raw: string): Config['trustProxy'] {
  if (raw === 'false' || raw === '0') return false;
  // Not Fastify's `true` (believe the leftmost X-Forwarded-For entry, which the client writes itself, so an
  // appending proxy would let every caller choose its address): one hop, the address the proxy saw.
  if (raw === 'true') return 1;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = list(raw);
  for (const entry of entries) {
    if (!/^[0-9a-f:.]+(\/\d{1,3})?$/i.test(entry) && !['loopback', 'linklocal', 'uniquelocal'].includes(entry)) {
      throw new ConfigError(`TRUST_PROXY: "${entry}" is not true, false, a hop count, an IP address or a CIDR`);
    }
  }
  return entries;
}

/** RATE_LIMIT_REQUESTS_PER_MINUTE is RATE_LIMIT_MAX_REQUESTS per 60 s; set both, they must agree. */
function generalRateLimit(env: Env, perMinute: number | undefined, max: number, windowSeconds: number): { max: number; windowSeconds: number } {
  if (perMinute === undefined) return { max, windowSeconds };
  if (readRaw(env, 'RATE_LIMIT_MAX_REQUESTS') !== undefined && max !== perMinute) {
    throw new ConfigError('RATE_LIMIT_REQUESTS_PER_MINUTE: contradicts RATE_LIMIT_MAX_REQUESTS (set one of them)');
  }
  if (windowSeconds !== 60) {
    throw new ConfigError('RATE_LIMIT_REQUESTS_PER_MINUTE: counts per minute, but RATE_LIMIT_WINDOW_SECONDS is not 60');
  }
  return { max: perMinute, windowSeconds };
}

/** DEFAULT_RESOURCE in canonical form, compared as the resource parameter is (src/lib/resource-identifier.ts). */
function parseDefaultResource(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const canonical = canonicalResourceIdentifier(raw);
  if (!canonical.ok) throw new ConfigError(`DEFAULT_RESOURCE: ${canonical.reason} (expected an absolute URI like https://api.example.com)`);
  return canonical.identifier;
}

/** The SMTP server from SMTP_URL, or from SMTP_HOST and its companions; undefined when neither is set. */
function parseSmtpServer(env: Env, environment: Config['environment']): SmtpServerConfig | undefined {
  const v = <T>(name: EnvName) => parseVar(env, name) as T;
  const url = v<string | undefined>('SMTP_URL');
  const host = v<string | undefined>('SMTP_HOST');
  // Development talks to a local catcher (Mailpit) that offers no TLS; production does not send in clear unless told.
  const startTls = v<SmtpServerConfig['startTls'] | undefined>('SMTP_STARTTLS') ?? (environment === 'production' ? 'required' : 'opportunistic');
  if (url !== undefined) {
    for (const other of ['SMTP_HOST', 'SMTP_PORT', 'SMTP_USERNAME', 'SMTP_PASSWORD', 'SMTP_SECURE'] as const) {
      if (readRaw(env, other) !== undefined) throw new ConfigError(`SMTP_URL: set either SMTP_URL or ${other}, not both`);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://…');
    }
    if (!parsed.hostname) throw new ConfigError('SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://…');
    const secure = parsed.protocol === 'smtps:';
    let username: string | undefined;
    let password: string | undefined;
    try {
      username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
      password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    } catch {
      throw new ConfigError('SMTP_URL: the user name or password is not valid percent-encoding');
    }
    if (Boolean(username) !== Boolean(password)) throw new ConfigError('SMTP_URL: a user name goes with a password');
    return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : secure ? 465 : 587, secure, startTls, username, password };
  }
  const username = v<string | undefined>('SMTP_USERNAME');
  const password = v<string | undefined>('SMTP_PASSWORD');
  if (host === undefined) {
    for (const other of ['SMTP_PORT', 'SMTP_USERNAME', 'SMTP_PASSWORD'] as const) {
      if (readRaw(env, other) !== undefined) throw new ConfigError(`${other}: set SMTP_HOST (or SMTP_URL) too`);
    }
    return undefined;
  }
  if (Boolean(username) !== Boolean(password)) throw new ConfigError('SMTP_USERNAME: SMTP_USERNAME and SMTP_PASSWORD go together');
  const secure = v<boolean>('SMTP_SECURE');
  return { host, port: v<number | undefined>('SMTP_PORT') ?? (secure ? 465 : 587), secure, startTls, username, password };
}

/** The issuer host as the domain of an address: IP addresses as RFC 5321 section 4.1.3 address literals. */
function mailDomain(hostname: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) return `[${hostname}]`;
  if (hostname.startsWith('[')) return `[IPv6:${hostname.slice(1, -1)}]`;
  return hostname;
}

function parseMail(env: Env, environment: Config['environment'], issuerUrl: URL, dataDir: string): MailConfig {
  const v = <T>(name: EnvName) => parseVar(env, name) as T;
  const smtp = parseSmtpServer(env, environment);
  if (environment === 'production' && smtp && smtp.password && !smtp.secure && smtp.startTls === 'off' && !isLoopback(smtp.host)) {
    throw new ConfigError('SMTP_STARTTLS: off would send SMTP_PASSWORD in clear text; use required, or SMTP_SECURE=true');
  }
  const fromEmail = v<string | undefined>('SMTP_FROM_EMAIL') ?? `no-reply@${mailDomain(issuerUrl.hostname)}`;
  const parsed = MAIL_CONFIG.safeParse({
    smtp,
    fromEmail,
    fromName: v<string | undefined>('SMTP_FROM_NAME'),
    devDir: path.resolve(v<string | undefined>('MAIL_DEV_DIR') ?? path.join(dataDir, 'mail')),
    workerEnabled: v<boolean>('MAIL_WORKER_ENABLED'),
    maxAttempts: v<number>('MAIL_MAX_ATTEMPTS'),
    retryBaseSeconds: v<number>('MAIL_RETRY_BASE_SECONDS'),
    sendTimeoutSeconds: v<number>('MAIL_SEND_TIMEOUT_SECONDS'),
  });
  if (!parsed.success) throw new ConfigError(`MAIL: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Whether a mail server is configured: the defaults of the features that mail a link follow it. */
function smtpConfigured(env: Env): boolean {
  return readRaw(env, 'SMTP_HOST') !== undefined || readRaw(env, 'SMTP_URL') !== undefined;
}

function brandOrConfigError(raw: Parameters<typeof loadBrand>[0]): BrandConfig {
  try {
    return loadBrand(raw);
  } catch (err) {
    if (err instanceof BrandConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Values from examples and templates (`change-me…`, `dev-…`): refused in production. */
const PLACEHOLDER = /not-for-production|change-?me|^dev[-_]|^your[-_]|^example/i;

/** Parse and validate the whole environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const v = <T>(name: EnvName) => parseVar(env, name) as T;
  const environment = v<Config['environment']>('ENVIRONMENT');
  const port = v<number>('PORT');
  const issuerRaw = v<string | undefined>('DEFAULT_ISSUER_URL') ?? `http://localhost:${port}`;
  const issuerUrl = new URL(issuerRaw);
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new ConfigError('DEFAULT_ISSUER_URL: expected an http(s) URL');
  }
  // Checked on the string: URL drops an empty "?" or "#", which would still make the issuer differ.
  if (issuerRaw.includes('?') || issuerRaw.includes('#')) {
    throw new ConfigError('DEFAULT_ISSUER_URL: must not contain a query or fragment (RFC 8414 section 2)');
  }
  const issuer = issuerRaw.replace(/\/+$/, '');

  const algorithm = v<string>('JWT_ALGORITHM');
  if (algorithm === 'HS256') {
    throw new ConfigError(
      'JWT_ALGORITHM: HS256 is refused: a shared-secret signature cannot be published in the JWKS, so every ' +
        'resource server would need the secret. Use RS256 (default), ES256 or EdDSA.',
    );
  }

  const config: Config = {
    environment,
    host: v('HOST'),
    port,
    issuer,
    brand: brandOrConfigError({
      productName: v('BRAND_PRODUCT_NAME'),
      logoUrl: v('BRAND_LOGO_URL'),
      logoFile: v('BRAND_LOGO_FILE'),
      primaryColor: v('BRAND_PRIMARY_COLOR'),
      supportUrl: v('BRAND_SUPPORT_URL'),
      supportEmail: v('BRAND_SUPPORT_EMAIL'),
      templatesDir: v('BRAND_TEMPLATES_DIR'),
      environment,
    }),
    databaseUrl: v('DATABASE_URL'),
    databasePoolMax: v('DATABASE_POOL_MAX'),
    dataDir: path.resolve(v<string>('AUTHLY_DATA_DIR')),
    autoMigrate: v('AUTOMIGRATE'),
    // The deployment guides' DEBUG=true means debug logs; an explicit LOG_LEVEL wins.
    logLevel: v<boolean>('DEBUG') && !readRaw(env, 'LOG_LEVEL') ? 'debug' : v('LOG_LEVEL'),
    metricsEnabled: v('METRICS_ENABLED'),
    accessTokenTtlSeconds: v<number>('ACCESS_TOKEN_EXPIRE_MINUTES') * 60,
    refreshTokenTtlSeconds: v<number>('REFRESH_TOKEN_EXPIRE_DAYS') * 86400,
    refreshTokenReuseGraceSeconds: v('REFRESH_TOKEN_REUSE_GRACE_SECONDS'),
    authorizationCodeTtlSeconds: v<number>('AUTHORIZATION_CODE_EXPIRE_MINUTES') * 60,
    par: { enabled: v('PAR_ENABLED'), required: v('REQUIRE_PUSHED_AUTHORIZATION_REQUESTS'), ttlSeconds: v('PAR_EXPIRE_SECONDS') },
    requestObjects: { enabled: v('REQUEST_OBJECTS_ENABLED') },
    deviceGrant: {
      enabled: v('DEVICE_GRANT_ENABLED'),
      codeTtlSeconds: v<number>('DEVICE_CODE_EXPIRE_MINUTES') * 60,
      intervalSeconds: v('DEVICE_CODE_INTERVAL_SECONDS'),
    },
    idTokenTtlSeconds: v<number>('ID_TOKEN_EXPIRE_MINUTES') * 60,
    sessionTtlSeconds: v<number>('SESSION_EXPIRE_HOURS') * 3600,
    mfaPolicy: v('MFA_POLICY'),
    cleanupIntervalMinutes: v('CLEANUP_INTERVAL_MINUTES'),
    requireUserConsent: v('REQUIRE_USER_CONSENT'),
    accounts: {
      mailAvailable: environment !== 'production' || smtpConfigured(env),
      passwordRecovery: v<boolean | undefined>('PASSWORD_RECOVERY_ENABLED') ?? (environment !== 'production' || smtpConfigured(env)),
      registrationEnabled: v('REGISTRATION_ENABLED'),
      requireEmailVerification: v('REQUIRE_EMAIL_VERIFICATION'),
      verificationTtlSeconds: v<number>('EMAIL_VERIFICATION_EXPIRE_HOURS') * 3600,
      resetTtlSeconds: v<number>('PASSWORD_RESET_EXPIRE_MINUTES') * 60,
      invitationTtlSeconds: v<number>('INVITATION_EXPIRE_HOURS') * 3600,
      reauthSeconds: v<number>('ACCOUNT_REAUTH_MINUTES') * 60,
    },
    lockoutMaxAttempts: v('AUTHLY_LOCKOUT_MAX_ATTEMPTS'),
    lockoutDurationSeconds: v('AUTHLY_LOCKOUT_DURATION_SECONDS'),
    jwtSecretKey: v('JWT_SECRET_KEY'),
    jwtAlgorithm: algorithm as Config['jwtAlgorithm'],
    accessTokenFormat: v('ACCESS_TOKEN_FORMAT'),
    defaultResource: parseDefaultResource(v('DEFAULT_RESOURCE')),
    keyEncryptionKey: v('AUTHLY_KEY_ENCRYPTION_KEY'),
    keyRotationDays: v('KEY_ROTATION_DAYS'),
    redisUrl: v('REDIS_URL'),
    redisCache: v('AUTHLY_REDIS_CACHE'),
    redisRateLimit: v('AUTHLY_REDIS_RATE_LIMIT'),
    redisKeyPrefix: v('AUTHLY_REDIS_KEY_PREFIX'),
    rateLimit: {
      enabled: v('RATE_LIMIT_ENABLED'),
      ...generalRateLimit(env, v<number | undefined>('RATE_LIMIT_REQUESTS_PER_MINUTE'), v('RATE_LIMIT_MAX_REQUESTS'), v('RATE_LIMIT_WINDOW_SECONDS')),
      loginPerMinute: v('RATE_LIMIT_LOGIN_PER_MINUTE'),
      tokenPerMinute: v('RATE_LIMIT_TOKEN_PER_MINUTE'),
      adminPerMinute: v('RATE_LIMIT_ADMIN_PER_MINUTE'),
      registrationPerMinute: v('RATE_LIMIT_REGISTRATION_PER_MINUTE'),
    },
    // A production server registers no client it was not told to accept; development is open for MCP clients.
    registrationPolicy: v<RegistrationPolicy | undefined>('REGISTRATION_POLICY') ?? (environment === 'production' ? 'closed' : 'open'),
    dynamicClientIdleDays: v('DYNAMIC_CLIENT_IDLE_DAYS'),
    audit: { retentionDays: v('AUDIT_RETENTION_DAYS'), storeTokenEvents: v('AUDIT_STORE_TOKEN_EVENTS') },
    corsOrigins: parseOrigins(v('CORS_ORIGINS')),
    allowedHosts: parseHosts(v('ALLOWED_HOSTS')),
    trustProxy: parseTrustProxy(v<string>('TRUST_PROXY')),
    workers: v('WORKERS'),
    shutdownTimeoutSeconds: v('SHUTDOWN_TIMEOUT_SECONDS'),
    requestTimeoutSeconds: v('HTTP_REQUEST_TIMEOUT_SECONDS'),
    keepAliveTimeoutSeconds: v('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS'),
    maxInflightExpensive: v('AUTHLY_MAX_INFLIGHT_EXPENSIVE'),
    outboundAllowLoopback: v('OUTBOUND_ALLOW_LOOPBACK'),
    dpop: {
      enabled: v('DPOP_ENABLED'),
      signingAlgs: v('DPOP_SIGNING_ALGS'),
      proofMaxAgeSeconds: v('DPOP_PROOF_MAX_AGE_SECONDS'),
      clockSkewSeconds: v('DPOP_CLOCK_SKEW_SECONDS'),
      requireNonce: v('DPOP_REQUIRE_NONCE'),
      nonceLifetimeSeconds: v('DPOP_NONCE_LIFETIME_SECONDS'),
    },
    backchannelLogout: {
      enabled: v('BACKCHANNEL_LOGOUT_ENABLED'),
      workerEnabled: v('BACKCHANNEL_LOGOUT_WORKER_ENABLED'),
      maxAttempts: v('BACKCHANNEL_LOGOUT_MAX_ATTEMPTS'),
      retryBaseSeconds: v('BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS'),
      timeoutMs: v('BACKCHANNEL_LOGOUT_TIMEOUT_MS'),
    },
    cimd: {
      enabled: v('CIMD_ENABLED'),
      allowLoopback: v('CIMD_ALLOW_LOOPBACK'),
      allowedDomains: parseDomains('CIMD_ALLOWED_DOMAINS', v('CIMD_ALLOWED_DOMAINS')),
      deniedDomains: parseDomains('CIMD_DENIED_DOMAINS', v('CIMD_DENIED_DOMAINS')),
      cacheMinSeconds: v('CIMD_CACHE_MIN_SECONDS'),
      cacheMaxSeconds: v('CIMD_CACHE_MAX_SECONDS'),
      fetchTimeoutMs: v('CIMD_FETCH_TIMEOUT_MS'),
      maxFetchesPerHost: v('CIMD_MAX_FETCHES_PER_HOST'),
    },
    clientAssertionMaxLifetimeSeconds: v('CLIENT_ASSERTION_MAX_LIFETIME_SECONDS'),
    clientJwks: {
      cacheMinSeconds: v('CLIENT_JWKS_CACHE_MIN_SECONDS'),
      cacheMaxSeconds: v('CLIENT_JWKS_CACHE_MAX_SECONDS'),
      refetchIntervalSeconds: v('CLIENT_JWKS_REFETCH_INTERVAL_SECONDS'),
      fetchTimeoutMs: v('CLIENT_JWKS_FETCH_TIMEOUT_MS'),
    },
    mail: parseMail(env, environment, issuerUrl, path.resolve(v<string>('AUTHLY_DATA_DIR'))),
    admin: {
      clientId: v('AUTHLY_ADMIN_CLIENT_ID'),
      clientSecret: v('AUTHLY_ADMIN_CLIENT_SECRET'),
      username: v('AUTHLY_ADMIN_USERNAME'),
      email: v('AUTHLY_ADMIN_EMAIL'),
      password: v('AUTHLY_ADMIN_PASSWORD'),
      bootstrapDevMode: v('AUTHLY_BOOTSTRAP_DEV_MODE'),
    },
  };

  if (Boolean(config.admin.clientId) !== Boolean(config.admin.clientSecret)) {
    throw new ConfigError('AUTHLY_ADMIN_CLIENT_ID: AUTHLY_ADMIN_CLIENT_ID and AUTHLY_ADMIN_CLIENT_SECRET go together');
  }
  if (Boolean(config.admin.username) !== Boolean(config.admin.password)) {
    throw new ConfigError('AUTHLY_ADMIN_USERNAME: AUTHLY_ADMIN_USERNAME and AUTHLY_ADMIN_PASSWORD go together');
  }
  // Scheduled rotation runs in the cleanup job: without the job it would silently never happen.
  if (config.keyRotationDays > 0 && config.cleanupIntervalMinutes === 0) {
    throw new ConfigError('KEY_ROTATION_DAYS: scheduled rotation runs in the cleanup job; set CLEANUP_INTERVAL_MINUTES above 0');
  }
  // Each worker is a process of its own, and an embedded PGlite directory can be opened by one process only.
  if (config.workers > 1 && !config.databaseUrl) {
    throw new ConfigError('WORKERS: more than one worker needs DATABASE_URL (the embedded database cannot be shared between processes)');
  }
  // Requiring PAR with the endpoint off would refuse every authorization request.
  if (config.par.required && !config.par.enabled) {
    throw new ConfigError('REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: needs PAR_ENABLED=true');
  }
  if (config.cimd.cacheMinSeconds > config.cimd.cacheMaxSeconds) {
    throw new ConfigError('CIMD_CACHE_MIN_SECONDS: must not exceed CIMD_CACHE_MAX_SECONDS');
  }
  if (config.clientJwks.cacheMinSeconds > config.clientJwks.cacheMaxSeconds) {
    throw new ConfigError('CLIENT_JWKS_CACHE_MIN_SECONDS: must not exceed CLIENT_JWKS_CACHE_MAX_SECONDS');
  }
  if (environment === 'production') {
    // Loopback client_id URLs are any local program's to claim, and their fetch reaches this host.
    if (config.cimd.allowLoopback) throw new ConfigError('CIMD_ALLOW_LOOPBACK: development and tests only; refused in production');
    if (config.outboundAllowLoopback) throw new ConfigError('OUTBOUND_ALLOW_LOOPBACK: development and tests only; refused in production');
    if (issuerUrl.protocol !== 'https:' && !isLoopback(issuerUrl.hostname)) {
      throw new ConfigError('DEFAULT_ISSUER_URL: production requires an https issuer (http only for loopback)');
    }
    if (!config.databaseUrl) throw new ConfigError('DATABASE_URL: required in production (the embedded database is for development)');
    if (!config.jwtSecretKey) throw new ConfigError('JWT_SECRET_KEY: required in production');
    if (PLACEHOLDER.test(config.jwtSecretKey)) {
      throw new ConfigError('JWT_SECRET_KEY: looks like a development placeholder; generate a random value');
    }
    // SECURITY.md: private key material at rest is encrypted; production refuses to start without the key.
    if (!config.keyEncryptionKey) {
      throw new ConfigError('AUTHLY_KEY_ENCRYPTION_KEY: required in production (private signing keys are encrypted at rest)');
    }
    if (PLACEHOLDER.test(config.keyEncryptionKey)) {
      throw new ConfigError('AUTHLY_KEY_ENCRYPTION_KEY: looks like a development placeholder; generate a random value');
    }
    // Features that mail a link cannot work without a mail server; development writes mail to files.
    for (const [name, on] of [
      ['PASSWORD_RECOVERY_ENABLED', config.accounts.passwordRecovery],
      ['REGISTRATION_ENABLED', config.accounts.registrationEnabled],
      ['REQUIRE_EMAIL_VERIFICATION', config.accounts.requireEmailVerification],
    ] as const) {
      if (on) requireMailFor(config, name);
    }
    // The variable defaults to true for development; in production only an explicit "true" is an error.
    if (readRaw(env, 'AUTHLY_BOOTSTRAP_DEV_MODE') && config.admin.bootstrapDevMode) {
      throw new ConfigError('AUTHLY_BOOTSTRAP_DEV_MODE: development bootstrap is refused in production');
    }
    config.admin.bootstrapDevMode = false;
  }
  return Object.freeze(config);
}
