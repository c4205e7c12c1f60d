import type { Db } from '../../db/db.js';
import { MailTemplateError } from '../../errors/mail-errors.js';
import {
  claimDueMail,
  markMailFailed,
  markMailSent,
  scheduleMailRetry,
  type ClaimedMail,
} from '../../repositories/mail-outbox-repository.js';
import { retryDelaySeconds } from '../../lib/backoff.js';
import type { Metrics } from '../metrics.js';
import type { RenderMail } from './mail-message.js';
import { classifySendError, type MailErrorClass, type MailTransport } from './mail-transport.js';

/** Why a message was given up: the label values of authly_mail_failed_total. */
export const MAIL_FAILURE_REASONS = ['rejected', 'attempts_exhausted', 'template'] as const;
export type MailFailureReason = (typeof MAIL_FAILURE_REASONS)[number];

/** What readiness reports as the last problem: a send error's class, a template, or the database. */
export type MailWorkerError = MailErrorClass | 'template' | 'database';

export interface MailWorkerOptions {
  from: { name: string; address: string };
  maxAttempts: number;
  retryBaseSeconds: number;
  sendTimeoutSeconds: number;
  /** Pause between polls when the queue had nothing due (default 1000). */
  pollIntervalMs?: number;
  /** Messages claimed and sent at once (default 5, the pool's connections). */
  batchSize?: number;
}

export interface MailWorkerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}


/**
 * Sends the outbox (mail_outbox): claims due rows (SKIP LOCKED, under a lease), renders each in its
 * language, hands it to the transport, and records the outcome. Temporary failures come back after an
 * exponential back-off; a permanent refusal, an unrenderable row or the last attempt marks the row failed.
 * Several replicas' workers share the queue; a worker that dies mid-send leaves its rows to be claimed
 * again when their lease ends (at-least-once: the Message-ID, derived from the row id, makes a rare
 * duplicate recognisable). Never logs a message body: links carry single-use tokens.
 */
export class MailWorker {
  /** The class of the last failed attempt in this process, null after a success. */
  lastError: MailWorkerError | null = null;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  /** A claimed row is not claimed again for this long: a send's deadline, with room to record the outcome. */
  private readonly leaseSeconds: number;
  private readonly deadlineMs: number;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;
  /** Rejects when stop() is called: sends in progress give up instead of holding the shutdown. */
  private readonly stopping: Promise<never>;
  private abortSends!: (reason: Error) => void;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly render: RenderMail,
    private readonly options: MailWorkerOptions,
    private readonly log: MailWorkerLogger,
    private readonly metrics?: Pick<Metrics, 'mailSent' | 'mailFailed'>,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 5;
    // Connecting, the greeting and the commands each have the timeout; a server that trickles its
    // replies cannot hold a message past three of them.
    this.deadlineMs = options.sendTimeoutSeconds * 3000;
    this.leaseSeconds = options.sendTimeoutSeconds * 4 + 30;
    this.stopping = new Promise<never>((_, reject) => (this.abortSends = reject));
    this.stopping.catch(() => undefined);
  }

  get delivery(): MailTransport['delivery'] {
    return this.transport.delivery;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Cancels the next poll and gives up the sends in progress (SMTP cannot be interrupted mid-message, and
   * a hung server must not hold a shutdown): each is recorded as a temporary failure, so it is sent again
   * later, by a replica that runs on or after the restart. Then closes the transport.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abortSends(Object.assign(new Error('the worker stopped mid-send'), { code: 'ESHUTDOWN' }));
    await this.current;
    this.transport.close();
  }

  /** Claims one batch of due messages and delivers them; resolves with how many were claimed. */
  async runOnce(): Promise<number> {
    const batch = await claimDueMail(this.db, this.batchSize, this.leaseSeconds);
    await Promise.all(batch.map((mail) => this.deliver(mail)));
    return batch.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.current = this.runOnce().then(
      // A full batch: more may be due at once.
      (claimed) => (claimed === this.batchSize ? 0 : this.pollIntervalMs),
      (err: unknown) => {
        this.lastError = 'database';
        this.log.error({ event: 'mail.worker_failed', err }, 'the mail worker could not read the outbox; retrying');
        return this.pollIntervalMs * 5;
      },
    ).then((next) => {
      this.current = undefined;
      this.schedule(next);
    });
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    const fields = { event: 'mail.sent', mailId: mail.id, template: mail.template, attempt: mail.attempt };
    let rendered;
    try {
      rendered = this.render(mail.template, mail.locale, mail.data);
    } catch (err) {
      const detail = err instanceof MailTemplateError ? err.message : 'the template threw';
      this.lastError = 'template';
      await markMailFailed(this.db, mail.id, mail.attempt, `template: ${detail}`);
      this.metrics?.mailFailed.inc({ reason: 'template' });
      this.log.error({ ...fields, event: 'mail.failed', reason: 'template', detail }, 'a queued message cannot be rendered; marked failed');
      return;
    }
    try {
      await this.withDeadline(
        this.transport.send({
          id: mail.id,
          from: this.options.from,
          to: mail.recipient,
          ...rendered,
          messageId: `<${mail.id}@${this.options.from.address.split('@').pop()}>`,
        }),
      );
    } catch (err) {
      if (this.stopped && (err as { code?: string }).code === 'ESHUTDOWN') {
        // Not the server's fault: due again at once for a replica that runs on, whatever the attempt count.
        await scheduleMailRetry(this.db, mail.id, mail.attempt, 0, 'connection: ESHUTDOWN: the worker stopped mid-send');
        this.log.warn({ ...fields, event: 'mail.deferred', class: 'connection', detail: 'the worker stopped mid-send', retryInSeconds: 0 }, 'stopped mid-send; will retry');
        return;
      }
      const failure = classifySendError(err);
      this.lastError = failure.class;
      if (failure.permanent || mail.attempt >= this.options.maxAttempts) {
        const reason: MailFailureReason = failure.permanent ? 'rejected' : 'attempts_exhausted';
        await markMailFailed(this.db, mail.id, mail.attempt, `${failure.class}: ${failure.detail}`);
        this.metrics?.mailFailed.inc({ reason });
        this.log.error({ ...fields, event: 'mail.failed', reason, class: failure.class, detail: failure.detail }, 'a message was given up; marked failed');
      } else {
        const delay = retryDelaySeconds(this.options.retryBaseSeconds, mail.attempt);
        await scheduleMailRetry(this.db, mail.id, mail.attempt, delay, `${failure.class}: ${failure.detail}`);
        this.log.warn({ ...fields, event: 'mail.deferred', class: failure.class, detail: failure.detail, retryInSeconds: delay }, 'sending failed; will retry');
      }
      return;
    }
    this.lastError = null;
    await markMailSent(this.db, mail.id, mail.attempt);
    this.metrics?.mailSent.inc();
    this.log.info(fields, 'mail sent');
  }

  private async withDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('no answer within the send deadline'), { code: 'ETIMEDOUT' })), this.deadlineMs);
    });
    try {
      return await Promise.race([work, deadline, this.stopping]);
    } finally {
      clearTimeout(timer);
    }
  }
}
