import fastifyRateLimit, { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WindowCounter } from '../cache/rate-limit-counter.js';
import type { Config } from '../config/config.js';
import { prefersHtml, sendRateLimitedPage } from '../http/error-handler.js';
import { errorShapeFor } from '../http/input-guard.js';
import { ROUTES } from '../config/routes.js';

/**
 * Request rate limits per client IP (request.ip, which honours TRUST_PROXY). Three endpoints have a policy
 * of their own, per minute; every other request counts against the general policy (RATE_LIMIT_MAX_REQUESTS
 * per RATE_LIMIT_WINDOW_SECONDS, default 1000 per minute). The defaults are ceilings a normal deployment
 * does not reach; each is settable, and 0 turns a named policy off (its requests then count against the
 * general one):
 *
 * - login (POST of the sign-in form, or of a passkey assertion), RATE_LIMIT_LOGIN_PER_MINUTE = 100: each attempt costs an argon2id
 *   hash (tens of ms of CPU), so this caps what one address can burn, while an office behind one NAT still
 *   signs in. Guessing one account is stopped much earlier by the brute-force throttle
 *   (AUTHLY_LOCKOUT_*, src/services/throttle-service.ts), which counts failures per account and address.
 * - token, RATE_LIMIT_TOKEN_PER_MINUTE = 6000 (100 per second): a whole cluster's services may reach
 *   Authly from one egress address, so this is a ceiling for runaway loops, not a quota.
 * - admin (the whole admin API), RATE_LIMIT_ADMIN_PER_MINUTE = 600: generous for scripts and the CLI;
 *   counted before the bearer token is checked, so unauthenticated floods count too.
 * - registration (POST of RFC 7591 dynamic client registration), RATE_LIMIT_REGISTRATION_PER_MINUTE = 20: each
 *   success writes a client row, and with REGISTRATION_POLICY=open anyone may post; an MCP client registers
 *   once per server it connects to.
 *
 * Probes and scrapers (/health, /health/ready, /metrics) are never limited. RATE_LIMIT_ENABLED=false turns
 * every policy off (the brute-force throttle stays). Counters live in Redis when REDIS_URL and
 * AUTHLY_REDIS_RATE_LIMIT are set, shared by all replicas; while Redis is down each process counts on its
 * own (so N replicas allow up to N times the limit until it recovers), and they go back to Redis by
 * themselves.
 */
export type PolicyName = 'general' | 'login' | 'token' | 'admin' | 'registration';
export type NamedPolicy = Exclude<PolicyName, 'general'>;

export interface RatePolicy {
  name: PolicyName;
  max: number;
  windowSeconds: number;
}

/** The named policies that are on (a limit of 0 leaves its endpoint to the general policy). */
export function namedPolicies(config: Pick<Config, 'rateLimit'>): Partial<Record<NamedPolicy, RatePolicy>> {
  const { loginPerMinute, tokenPerMinute, adminPerMinute, registrationPerMinute } = config.rateLimit;
  const policies: Partial<Record<NamedPolicy, RatePolicy>> = {};
  for (const [name, max] of [
    ['login', loginPerMinute],
    ['token', tokenPerMinute],
    ['admin', adminPerMinute],
    ['registration', registrationPerMinute],
  ] as const) {
    if (max > 0) policies[name] = { name, max, windowSeconds: 60 };
  }
  return policies;
}

export function generalPolicy(config: Pick<Config, 'rateLimit'>): RatePolicy {
  return { name: 'general', max: config.rateLimit.max, windowSeconds: config.rateLimit.windowSeconds };
}

const UNLIMITED = new Set<string>([ROUTES.health, ROUTES.healthReady, ROUTES.metrics]);
/**
 * Issue 12 §2: forms that send mail or hash a password before anyone is signed in count against the login
 * policy: the per-account and per-address limits protect inboxes, this caps what one client address sends.
 */
const MAILING_FORMS = new Set<string>([ROUTES.forgotPassword, ROUTES.resendVerification, ROUTES.signUp, ROUTES.resetPassword, ROUTES.acceptInvitation]);

/** RFC 8628 section 5.1: the forms that look up a user code count against the login policy too (guessing). */
const USER_CODE_FORMS = new Set<string>([ROUTES.device, ROUTES.deviceConfirm]);

/** Which named policy a request falls under, by its route pattern (undefined: the general one). */
export function namedPolicyFor(method: string, routeUrl: string | undefined): NamedPolicy | undefined {
  if (routeUrl === undefined) return undefined;
  if (method === 'POST' && (routeUrl === ROUTES.interactionLogin || routeUrl === ROUTES.interactionPasskey || MAILING_FORMS.has(routeUrl) || USER_CODE_FORMS.has(routeUrl))) return 'login';
  // A pushed authorization request authenticates the client as the token endpoint does (RFC 9126 section 2.1);
  // the device authorization endpoint is a client's call like the token endpoint (RFC 8628).
  if (method === 'POST' && (routeUrl === ROUTES.token || routeUrl === ROUTES.pushedAuthorization || routeUrl === ROUTES.deviceAuthorization)) return 'token';
  if (method === 'POST' && routeUrl === ROUTES.registration) return 'registration';
  if (routeUrl === ROUTES.admin || routeUrl.startsWith(`${ROUTES.admin}/`)) return 'admin';
  return undefined;
}

/**
 * RFC 6749 has no error code for this. `slow_down` (RFC 8628 section 3.5) tells a device-flow client to
 * lengthen its polling interval, and `temporarily_unavailable` (RFC 6749 section 4.1.2.1) is defined only
 * for authorization responses and says the server is overloaded, not that this caller sent too much. An
 * extension code (RFC 6749 section 8.5) says what happened, and it is the one the lockout already answers
 * with (src/http/error-handler.ts), so clients handle a single code for "too many, retry after".
 */
export const RATE_LIMITED_BODY = { error: 'rate_limited', error_description: 'too many requests; try again later' } as const;

export interface RateLimitOptions {
  config: Readonly<Config>;
  counter: WindowCounter;
  /** Called once per refused request with the policy that refused it. */
  onExceeded(policy: PolicyName): void;
}

/** @fastify/rate-limit's store interface over our counter (Redis with a per-process fallback). */
function storeOver(counter: WindowCounter): FastifyRateLimitStoreCtor {
  return class implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      counter.incr(key, timeWindow).then(
        (count) => callback(null, { current: count.current, ttl: count.ttlMs }),
        (err: Error) => callback(err),
      );
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Outcome = { policy: RatePolicy; max: number; remaining: number; resetSeconds: number; exceeded: boolean };

export const rateLimiting = fp(async (app: FastifyInstance, options: RateLimitOptions) => {
  await app.register(fastifyRateLimit, {
    global: false,
    store: storeOver(options.counter),
    // The store never fails (it falls back to per-process counting); if it ever did, let the request
    // through rather than answer 500.
    skipOnError: true,
  });
  // One limiter per policy, keyed by policy and client address (IPv6 grouped by /64, like the plugin).
  const limiterFor = (policy: RatePolicy): Limiter =>
    app.createRateLimit({
      max: policy.max,
      timeWindow: policy.windowSeconds * 1000,
      keyGenerator: (request) => `${policy.name}:${normalizeIP(request.ip)}`,
    });
  const policies = [generalPolicy(options.config), ...Object.values(namedPolicies(options.config))];
  const limiters = new Map<PolicyName, { policy: RatePolicy; limit: Limiter }>(policies.map((policy) => [policy.name, { policy, limit: limiterFor(policy) }]));

  const evaluate = async (request: FastifyRequest, name: PolicyName): Promise<Outcome> => {
    const { policy, limit } = limiters.get(name)!;
    const result = await limit(request);
    if (result.isAllowed) return { policy, max: policy.max, remaining: policy.max, resetSeconds: 0, exceeded: false };
    return { policy, max: result.max, remaining: result.remaining, resetSeconds: result.ttlInSeconds, exceeded: result.isExceeded };
  };

  // A context-level onRequest hook, so it runs before the routes' own hooks (the admin bearer check).
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.routeOptions.url;
    if (url !== undefined && UNLIMITED.has(url)) return;
    // A request under a named policy counts against that policy only: the token ceiling must not be
    // capped by the general one.
    const named = namedPolicyFor(request.method, url);
    const shown = await evaluate(request, named && limiters.has(named) ? named : 'general');
    // RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): limit, remaining, seconds to reset.
    reply.header('ratelimit-limit', shown.max);
    reply.header('ratelimit-remaining', shown.remaining);
    reply.header('ratelimit-reset', shown.resetSeconds);
    if (!shown.exceeded) return;
    options.onExceeded(shown.policy.name);
    // A person (a page route, or a browser asking for HTML) reads the wait in words; API clients keep JSON.
    if (errorShapeFor(request.url) === 'page' || (request.method === 'GET' && prefersHtml(request))) {
      return sendRateLimitedPage(request, reply, Math.max(1, shown.resetSeconds));
    }
    return reply
      .code(429)
      .header('retry-after', Math.max(1, shown.resetSeconds))
      .header('cache-control', 'no-store')
      .send(RATE_LIMITED_BODY);
  });
});
