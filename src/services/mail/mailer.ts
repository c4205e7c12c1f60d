import { mailDelivery, type Config, type MailDelivery } from '../../config/config.js';
import type { Db } from '../../db/db.js';
import { mailQueueStats } from '../../repositories/mail-outbox-repository.js';
import type { Metrics } from '../metrics.js';
import { withinMs } from '../metrics.js';
import type { RenderMail } from './mail-message.js';
import { devFilesTransport, smtpTransport } from './mail-transport.js';
import { MailWorker, type MailWorkerError, type MailWorkerLogger } from './mail-worker.js';

/** Messages sent side by side by one process: the SMTP pool's connections and the worker's batch. */
const MAIL_CONNECTIONS = 5;

/** What readiness says about mail (it never makes readiness fail: mail is retried, not lost). */
export interface MailerReport {
  delivery: MailDelivery;
  /** False when MAIL_WORKER_ENABLED=false (other replicas send), or with no delivery at all. */
  worker: boolean;
  /** Undefined when the database did not answer in time. */
  queued?: number;
  oldest_queued_age_seconds?: number;
  last_error: MailWorkerError | null;
}

export interface Mailer {
  readonly delivery: MailDelivery;
  readonly worker: MailWorker | undefined;
  report(): Promise<MailerReport>;
  stop(): Promise<void>;
}

export interface MailerDeps {
  db: Db;
  render: RenderMail;
  /** The sender's display name when SMTP_FROM_NAME is unset: the brand's product name. */
  defaultFromName: string;
  log: MailWorkerLogger;
  metrics?: Pick<Metrics, 'mailSent' | 'mailFailed'>;
  /** Tests poll faster than the default second. */
  pollIntervalMs?: number;
}

/** The mail side of one process: the transport for the configured delivery, and the worker when enabled. */
export function startMailer(config: Pick<Config, 'mail' | 'environment'>, deps: MailerDeps): Mailer {
  const delivery = mailDelivery(config);
  const { mail } = config;
  let worker: MailWorker | undefined;
  if (delivery === 'none') {
    deps.log.warn({ event: 'mail.disabled' }, 'no SMTP server (SMTP_HOST or SMTP_URL): mail is queued but not sent until one is configured');
  }
  if (mail.workerEnabled && delivery !== 'none') {
    const transport = mail.smtp ? smtpTransport(mail.smtp, mail.sendTimeoutSeconds, MAIL_CONNECTIONS) : devFilesTransport(mail.devDir, deps.log);
    worker = new MailWorker(
      deps.db,
      transport,
      deps.render,
      {
        from: { name: mail.fromName ?? deps.defaultFromName, address: mail.fromEmail },
        maxAttempts: mail.maxAttempts,
        retryBaseSeconds: mail.retryBaseSeconds,
        sendTimeoutSeconds: mail.sendTimeoutSeconds,
        pollIntervalMs: deps.pollIntervalMs,
        batchSize: MAIL_CONNECTIONS,
      },
      deps.log,
      deps.metrics,
    );
    worker.start();
  }
  return {
    delivery,
    worker,
    async report() {
      const stats = await withinMs(mailQueueStats(deps.db), 1000);
      return {
        delivery,
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
