import type { Config } from '../../config/config.js';
import type { Db } from '../../db/db.js';
import { logoutQueueStats } from '../../repositories/backchannel-logout-outbox-repository.js';
import type { KeyStore } from '../../tokens/key-store.js';
import type { AuditLog } from '../audit.js';
import { withinMs, type Metrics } from '../metrics.js';
import type { OutboundFetcher } from '../outbound-fetch.js';
import {
  BackchannelLogoutWorker,
  type BackchannelLogoutError,
  type BackchannelLogoutLogger,
} from './backchannel-logout-worker.js';

/** What readiness says about back-channel logout: reported, never a reason to fail (a client's outage is not ours). */
export interface BackchannelLogoutReport {
  enabled: boolean;
  /** False when BACKCHANNEL_LOGOUT_WORKER_ENABLED=false (another replica delivers) or the feature is off. */
  worker: boolean;
  /** Undefined when the database did not answer in time. */
  queued?: number;
  oldest_queued_age_seconds?: number;
  last_error: BackchannelLogoutError | null;
}

export interface BackchannelLogout {
  readonly worker: BackchannelLogoutWorker | undefined;
  report(): Promise<BackchannelLogoutReport>;
  stop(): Promise<void>;
}

export interface BackchannelLogoutDeps {
  db: Db;
  keys: KeyStore;
  fetcher: OutboundFetcher;
  log: BackchannelLogoutLogger;
  metrics?: Pick<Metrics, 'backchannelLogoutDelivered' | 'backchannelLogoutFailed'>;
  audit?: AuditLog;
  /** Tests poll faster than the default second. */
  pollIntervalMs?: number;
}

/** The back-channel logout side of one process: the outbox worker when enabled, and its report. */
export function startBackchannelLogout(
  config: Pick<Config, 'backchannelLogout' | 'issuer' | 'outboundAllowLoopback'>,
  deps: BackchannelLogoutDeps,
): BackchannelLogout {
  const settings = config.backchannelLogout;
  let worker: BackchannelLogoutWorker | undefined;
  if (settings.enabled && settings.workerEnabled) {
    worker = new BackchannelLogoutWorker(
      deps.db,
      deps.keys,
      deps.fetcher,
      {
        issuer: config.issuer,
        maxAttempts: settings.maxAttempts,
        retryBaseSeconds: settings.retryBaseSeconds,
        timeoutMs: settings.timeoutMs,
        allowLoopback: config.outboundAllowLoopback,
        pollIntervalMs: deps.pollIntervalMs,
      },
      deps.log,
      deps.metrics,
      deps.audit,
    );
    worker.start();
  }
  return {
    worker,
    async report() {
      const stats = await withinMs(logoutQueueStats(deps.db), 1000);
      return {
        enabled: settings.enabled,
        worker: worker !== undefined,
        ...(stats ? { queued: stats.queued, oldest_queued_age_seconds: Math.floor(stats.oldestAgeSeconds) } : {}),
        last_error: worker?.lastError ?? null,
      };
    },
    async stop() {
      await worker?.stop();
    },
  };
}
