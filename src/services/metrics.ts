import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/db.js';
import { pingDatabase } from '../repositories/health-repository.js';
import { mailQueueStats, type MailQueueStats } from '../repositories/mail-outbox-repository.js';
import { CLIENT_METADATA_REFUSALS } from '../errors/client-metadata-errors.js';
import { AUDIT_EVENTS } from './audit.js';
import { MAIL_FAILURE_REASONS } from './mail/mail-worker.js';
import { logoutQueueStats, type LogoutQueueStats } from '../repositories/backchannel-logout-outbox-repository.js';
import { BACKCHANNEL_LOGOUT_FAILURE_REASONS } from './backchannel-logout/backchannel-logout-worker.js';

/** Authly's Prometheus metrics, on a registry of its own (one per app, so tests never collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'authly_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'authly_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly tokenRequests = new Counter({
    name: 'authly_oauth_token_requests_total',
    help: 'Token endpoint requests by grant type and outcome (success or the OAuth error code).',
    labelNames: ['grant_type', 'status'] as const,
    registers: [this.registry],
  });
  /** RFC 9449: DPoP proofs checked, by where (authorization_server or resource) and outcome. */
  readonly dpopProofs = new Counter({
    name: 'authly_dpop_proofs_total',
    help: 'DPoP proofs checked, by where and result (valid, invalid, replayed, nonce_required).',
    labelNames: ['at', 'result'] as const,
    registers: [this.registry],
  });
  readonly authorizations = new Counter({
    name: 'authly_oauth_authorization_requests_total',
    help: 'Authorization endpoint outcomes: code issued, interaction required, or the OAuth error code.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly loginAttempts = new Counter({
    name: 'authly_auth_login_attempts_total',
    help: 'Login form submissions by outcome.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly deviceUserCodeAttempts = new Counter({
    name: 'authly_device_user_code_attempts_total',
    help: 'User codes entered on the /device page (RFC 8628) by outcome: found, not_found (a typo or a guess), throttled.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly cleanupDeleted = new Counter({
    name: 'authly_cleanup_deleted_total',
    help: 'Rows deleted by the cleanup job (expired or unusable), by table.',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly admissionRefused = new Counter({
    name: 'authly_admission_refused_total',
    help: 'Token and login requests refused with 503 because AUTHLY_MAX_INFLIGHT_EXPENSIVE were in flight, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: 'authly_cache_requests_total',
    help: 'Cache lookups by cache (clients, ...) and result: hit, miss (loaded from the database), bypass (cache unusable, e.g. Redis down).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });
  readonly clientMetadataFetches = new Counter({
    name: 'authly_client_metadata_fetches_total',
    help: 'Fetches of client ID metadata documents by result: ok, or why it was refused (forbidden_address, timeout, redirect, status, too_large, client_id_mismatch, ...).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly clientJwksFetches = new Counter({
    name: 'authly_client_jwks_fetches_total',
    help: "Fetches of clients' jwks_uri by result: ok, refetch_limited (an unknown kid within CLIENT_JWKS_REFETCH_INTERVAL_SECONDS: not fetched), or why it failed (forbidden_address, timeout, status, invalid_jwks, ...).",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly clientMetadataRefusals = new Counter({
    name: 'authly_client_metadata_refusals_total',
    help: 'Metadata-document client_ids refused, by reason: also those refused before any fetch was tried (invalid_url, domain_denied).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimitExceeded = new Counter({
    name: 'authly_rate_limit_exceeded_total',
    help: 'Requests refused with 429 by a rate-limit policy: general, login, token or admin.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  /** authly_redis_up (1 or 0), registered only when REDIS_URL is set: absent means "not configured". */
  watchRedis(isUp: () => boolean): void {
    new Gauge({
      name: 'authly_redis_up',
      help: 'Whether Redis is reachable and this process hears cache invalidations (1) or not (0).',
      registers: [this.registry],
      // With WORKERS > 1 the cluster's figure is its worst worker's (src/routes/metrics/cluster-metrics.ts).
      aggregator: 'min',
      collect() {
        this.set(isUp() ? 1 : 0);
      },
    });
  }

  readonly auditEvents = new Counter({
    name: 'authly_audit_events_total',
    help: 'Audit log events by name (a fixed list, see src/services/audit.ts).',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly mfaVerifications = new Counter({
    name: 'authly_mfa_verifications_total',
    help: 'One-time codes checked (sign-in second step, account confirmations) by result: totp, recovery_code or failure.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly mailSent = new Counter({
    name: 'authly_mail_sent_total',
    help: 'Messages accepted by the SMTP server (or written to MAIL_DEV_DIR in development) by this process.',
    registers: [this.registry],
  });
  readonly mailFailed = new Counter({
    name: 'authly_mail_failed_total',
    help: 'Messages given up by this process, by reason: rejected (a permanent 5xx refusal), attempts_exhausted (MAIL_MAX_ATTEMPTS temporary failures), template (a row that cannot be rendered).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly backchannelLogoutDelivered = new Counter({
    name: 'authly_backchannel_logout_delivered_total',
    help: 'Logout tokens a client accepted (2xx) from this process (OpenID Connect Back-Channel Logout 1.0).',
    registers: [this.registry],
  });
  readonly backchannelLogoutFailed = new Counter({
    name: 'authly_backchannel_logout_failed_total',
    help: 'Logout tokens given up by this process, by reason: refused (the SSRF guard refused the URL), attempts_exhausted (BACKCHANNEL_LOGOUT_MAX_ATTEMPTS failed deliveries), unregistered (the client removed its backchannel_logout_uri).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Passkey ceremonies (src/services/passkey-service.ts): registration or authentication, success or the rejection reason. */
  readonly passkeyCeremonies = new Counter({
    name: 'authly_passkey_ceremonies_total',
    help: 'Passkey registrations and sign-ins by outcome (success, or why the passkey was not accepted).',
    labelNames: ['ceremony', 'result'] as const,
    registers: [this.registry],
  });

  constructor(db: Db) {
    collectDefaultMetrics({ register: this.registry });
    // Every series exists from the start, so rate() and absent-series alerts work before the first event.
    for (const event of AUDIT_EVENTS) this.auditEvents.inc({ event }, 0);
    const registry = this.registry;
    for (const policy of ['general', 'login', 'token', 'admin']) this.rateLimitExceeded.inc({ policy }, 0);
    for (const reason of CLIENT_METADATA_REFUSALS) this.clientMetadataRefusals.inc({ reason }, 0);
    for (const reason of MAIL_FAILURE_REASONS) this.mailFailed.inc({ reason }, 0);
    for (const reason of BACKCHANNEL_LOGOUT_FAILURE_REASONS) this.backchannelLogoutFailed.inc({ reason }, 0);
    // The back-channel logout outbox, shared by the replicas like the mail outbox below.
    let logoutStats: Promise<LogoutQueueStats | undefined> | undefined;
    const logoutQueue = () => {
      logoutStats ??= withinMs(logoutQueueStats(db), 1000).finally(() => setTimeout(() => (logoutStats = undefined), 100).unref());
      return logoutStats;
    };
    new Gauge({
      name: 'authly_backchannel_logout_queued',
      help: 'Logout tokens in the outbox not yet delivered nor given up.',
      registers: [registry],
      aggregator: 'max',
      async collect() {
        const s = await logoutQueue();
        if (s) this.set(s.queued);
      },
    });
    new Gauge({
      name: 'authly_backchannel_logout_oldest_queued_age_seconds',
      help: "Age of the oldest logout not yet delivered nor given up; 0 when none. Growing: a client's endpoint is down (see /health/ready).",
      registers: [registry],
      aggregator: 'max',
      async collect() {
        const s = await logoutQueue();
        if (s) this.set(s.oldestAgeSeconds);
      },
    });
    // The outbox is shared by the replicas: every replica reports the same queue (the cluster's figure is
    // the largest). Read once per scrape for both gauges; a database that does not answer leaves them unset.
    let stats: Promise<MailQueueStats | undefined> | undefined;
    const queueStats = () => {
      stats ??= withinMs(mailQueueStats(db), 1000).finally(() => setTimeout(() => (stats = undefined), 100).unref());
      return stats;
    };
    new Gauge({
      name: 'authly_mail_queued',
      help: 'Messages in the outbox not yet sent nor given up (queued or being sent).',
      registers: [registry],
      aggregator: 'max',
      async collect() {
        const s = await queueStats();
        if (s) this.set(s.queued);
      },
    });
    new Gauge({
      name: 'authly_mail_oldest_queued_age_seconds',
      help: 'Age of the oldest message not yet sent nor given up; 0 when the outbox is empty. Growing: mail is not leaving (see /health/ready).',
      registers: [registry],
      aggregator: 'max',
      async collect() {
        const s = await queueStats();
        if (s) this.set(s.oldestAgeSeconds);
      },
    });
    this.clientMetadataFetches.inc({ result: 'ok' }, 0);
    new Gauge({
      name: 'authly_database_up',
      help: 'Whether the database answered a ping within 1 s at scrape time (1) or not (0).',
      registers: [registry],
      aggregator: 'min',
      async collect() {
        this.set((await pingWithin(db, 1000)) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'authly_database_connections',
      help: 'Database pool connections by state.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const stats = db.poolStats();
        this.set({ state: 'active' }, stats.total - stats.idle);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }
}

/** True when the database answers within `ms`; never throws (a scrape must not fail with the database). */
export async function pingWithin(db: Db, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pingDatabase(db).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The result of `work` if it settles within `ms`, else undefined; never throws. */
export async function withinMs<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
