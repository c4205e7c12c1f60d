import { runCleanup, type CleanupLogger } from './cleanup-service.js';
import type { ServiceContext } from './context.js';

export interface CleanupJob {
  /** Cancels the next run and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export interface CleanupJobLogger extends CleanupLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

/** Up to a tenth of the interval added at random, so replicas started together drift apart. */
const JITTER = 0.1;

/**
 * Runs cleanup every `intervalMinutes` (plus jitter) in the background. The timer is unref'd, so it never
 * keeps the process alive; a failed run is logged and the job tries again at the next interval.
 */
export function startCleanupJob(
  ctx: Pick<ServiceContext, 'db' | 'config' | 'metrics'> & Partial<Pick<ServiceContext, 'keys' | 'audit' | 'clients'>>,
  log: CleanupJobLogger,
  intervalMinutes: number,
): CleanupJob {
  const intervalMs = intervalMinutes * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, intervalMs + Math.random() * intervalMs * JITTER);
    timer.unref();
  };
  const tick = () => {
    current = runCleanup(ctx, { log }).then(
      () => undefined,
      (err: unknown) => log.error({ event: 'cleanup.failed', err }, 'cleanup failed; retrying at the next interval'),
    );
    void current.finally(() => {
      current = undefined;
      schedule();
    });
  };

  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
