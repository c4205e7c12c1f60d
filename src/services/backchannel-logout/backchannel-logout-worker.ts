import type { Db } from '../../db/db.js';
import { ClientMetadataRefused } from '../../errors/client-metadata-errors.js';
import { retryDelaySeconds } from '../../lib/backoff.js';
import {
  claimDueLogouts,
  markLogoutDelivered,
  markLogoutFailed,
  scheduleLogoutRetry,
  type ClaimedLogout,
} from '../../repositories/backchannel-logout-outbox-repository.js';
import type { KeyStore } from '../../tokens/key-store.js';
import type { AuditLog } from '../audit.js';
import type { Metrics } from '../metrics.js';
import type { OutboundFetcher } from '../outbound-fetch.js';
import { signLogoutToken } from './logout-token.js';

/** Why a logout was given up: the label values of authly_backchannel_logout_failed_total. */
export const BACKCHANNEL_LOGOUT_FAILURE_REASONS = [
  /** The SSRF guard refused the URL (not https, or a loopback, private or special-use address). */
  'refused',
  /** BACKCHANNEL_LOGOUT_MAX_ATTEMPTS attempts failed (down, 400, 5xx, timeouts, redirects). */
  'attempts_exhausted',
  /** The client no longer has a backchannel_logout_uri. */
  'unregistered',
] as const;
export type BackchannelLogoutFailureReason = (typeof BACKCHANNEL_LOGOUT_FAILURE_REASONS)[number];

/** The last problem of this process's worker, for readiness: a delivery's class, or the database. */
export type BackchannelLogoutError = 'status' | 'network' | 'refused' | 'signing' | 'database';

export interface BackchannelLogoutWorkerOptions {
  issuer: string;
  maxAttempts: number;
  retryBaseSeconds: number;
  timeoutMs: number;
  /** OUTBOUND_ALLOW_LOOPBACK: a loopback backchannel_logout_uri may be called (development and tests). */
  allowLoopback: boolean;
  /** Pause between polls when nothing was due (default 1000). */
  pollIntervalMs?: number;
  /** Logouts claimed and delivered at once (default 10). */
  batchSize?: number;
}

export interface BackchannelLogoutLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Only what tells the outcome is read of the client's answer (section 2.8 defines no body). */
const MAX_RESPONSE_BYTES = 16 * 1024;
const PERMANENT_REFUSALS = new Set(['invalid_url', 'forbidden_address']);

/**
 * Delivers the back-channel logout outbox: claims due rows (SKIP LOCKED, under a lease), signs a logout
 * token for each (at delivery: a fresh, short-lived token on every attempt) and POSTs it as
 * application/x-www-form-urlencoded `logout_token` through the SSRF-guarded fetcher (section 2.5), which
 * follows no redirect and bounds the time. A 2xx answer is delivery (section 2.8); any other answer, a
 * timeout or a connection error is retried after an exponential back-off until the attempt limit. The
 * replicas' workers share the outbox; a worker that dies mid-delivery leaves its rows to be claimed again
 * when their lease ends (at least once: a logout is idempotent for the client). Never logs a token.
 */
export class BackchannelLogoutWorker {
  lastError: BackchannelLogoutError | null = null;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly leaseSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;
  /** Rejects when stop() is called: deliveries in progress give up instead of holding the shutdown. */
  private readonly stopping: Promise<never>;
  private abortDeliveries!: (reason: Error) => void;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyStore,
    private readonly fetcher: OutboundFetcher,
    private readonly options: BackchannelLogoutWorkerOptions,
    private readonly log: BackchannelLogoutLogger,
    private readonly metrics?: Pick<Metrics, 'backchannelLogoutDelivered' | 'backchannelLogoutFailed'>,
    private readonly audit?: AuditLog,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 10;
    // A delivery's deadline plus room to record its outcome.
    this.leaseSeconds = Math.ceil(options.timeoutMs / 1000) + 30;
    this.stopping = new Promise<never>((_, reject) => (this.abortDeliveries = reject));
    this.stopping.catch(() => undefined);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Cancels the next poll and gives up the deliveries in progress: each is queued again at once (without
   * counting against the client), for a replica that runs on or for this one after its restart.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abortDeliveries(new Error('the worker stopped mid-delivery'));
    await this.current;
  }

  /** Claims one batch of due logouts and delivers them; resolves with how many were claimed. */
  async runOnce(): Promise<number> {
    const batch = await claimDueLogouts(this.db, this.batchSize, this.leaseSeconds);
    await Promise.all(batch.map((logout) => this.deliver(logout)));
    return batch.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.current = this.runOnce()
      .then(
        (claimed) => (claimed === this.batchSize ? 0 : this.pollIntervalMs),
        (err: unknown) => {
          this.lastError = 'database';
          this.log.error({ event: 'backchannel_logout.worker_failed', err }, 'the back-channel logout worker could not read the outbox; retrying');
          return this.pollIntervalMs * 5;
        },
      )
      .then((next) => {
        this.current = undefined;
        this.schedule(next);
      });
  }

  private async deliver(logout: ClaimedLogout): Promise<void> {
    const fields = { event: 'backchannel_logout.delivered', logoutId: logout.id, client_id: logout.clientId, sid: logout.sid, attempt: logout.attempt };
    try {
      if (logout.uri === null) return await this.giveUp(logout, 'unregistered', 'the client has no backchannel_logout_uri any more');
      let token: string;
      try {
        token = await signLogoutToken(this.keys, {
          issuer: this.options.issuer,
          clientId: logout.clientId,
          sub: logout.sub,
          sid: logout.sid,
          alg: logout.idTokenSignedResponseAlg,
          now: Math.floor(Date.now() / 1000),
        });
      } catch {
        this.lastError = 'signing';
        return await this.retry(logout, 'signing: the logout token could not be signed');
      }
      let status: number;
      try {
        ({ status } = await Promise.race([
          this.fetcher.post({
            url: new URL(logout.uri),
            allowLoopback: this.options.allowLoopback,
            timeoutMs: this.options.timeoutMs,
            form: new URLSearchParams({ logout_token: token }),
            maxResponseBytes: MAX_RESPONSE_BYTES,
            userAgent: 'Authly (back-channel logout)',
          }),
          this.stopping,
        ]));
      } catch (err) {
        if (this.stopped && !(err instanceof ClientMetadataRefused)) {
          await scheduleLogoutRetry(this.db, logout.id, logout.attempt, 0, 'shutdown: the worker stopped mid-delivery');
          return;
        }
        const refusal = err instanceof ClientMetadataRefused ? err.reason : 'network_error';
        if (PERMANENT_REFUSALS.has(refusal)) {
          this.lastError = 'refused';
          return await this.giveUp(logout, 'refused', `refused: ${refusal}`);
        }
        this.lastError = 'network';
        return await this.retry(logout, `network: ${refusal}`);
      }
      if (status >= 200 && status < 300) {
        this.lastError = null;
        await markLogoutDelivered(this.db, logout.id, logout.attempt);
        this.metrics?.backchannelLogoutDelivered.inc();
        this.audit?.record('backchannel_logout.delivered', { client_id: logout.clientId, subject: logout.sub, sid: logout.sid });
        this.log.info(fields, 'logout token delivered');
        return;
      }
      // Section 2.8: 400 is the client's failure to log out; 5xx, a redirect (never followed) or anything
      // else is no delivery either. All are retried: the client may recover, and the attempts are bounded.
      this.lastError = 'status';
      await this.retry(logout, `status: HTTP ${status}`);
    } catch (err) {
      this.lastError = 'database';
      this.log.error({ ...fields, event: 'backchannel_logout.worker_failed', err }, 'recording a logout delivery failed; its lease will bring it back');
    }
  }

  private async retry(logout: ClaimedLogout, error: string): Promise<void> {
    const fields = { logoutId: logout.id, client_id: logout.clientId, sid: logout.sid, attempt: logout.attempt, detail: error };
    if (logout.attempt >= this.options.maxAttempts) return this.giveUp(logout, 'attempts_exhausted', error);
    const delay = retryDelaySeconds(this.options.retryBaseSeconds, logout.attempt);
    await scheduleLogoutRetry(this.db, logout.id, logout.attempt, delay, error);
    this.log.warn({ ...fields, event: 'backchannel_logout.deferred', retryInSeconds: delay }, 'logout token not delivered; will retry');
  }

  private async giveUp(logout: ClaimedLogout, reason: BackchannelLogoutFailureReason, error: string): Promise<void> {
    await markLogoutFailed(this.db, logout.id, logout.attempt, error);
    this.metrics?.backchannelLogoutFailed.inc({ reason });
    this.audit?.record('backchannel_logout.failed', { client_id: logout.clientId, subject: logout.sub, sid: logout.sid, reason });
    this.log.error(
      { event: 'backchannel_logout.failed', logoutId: logout.id, client_id: logout.clientId, sid: logout.sid, attempt: logout.attempt, reason, detail: error },
      'a logout token was given up; marked failed',
    );
  }
}
