import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { METRICS_COLLECT, METRICS_REPORT, METRICS_REQUEST, METRICS_RESPONSE, WORKER_CANNOT_START, type MetricsMessage } from './lib/cluster-messages.js';

/**
 * The cluster primary for WORKERS > 1 (like the guides' `--workers`): forks that many workers, which
 * share the listening port through node:cluster, restarts one that dies unexpectedly (with a backoff, so
 * a worker that cannot start does not spin), and on SIGTERM/SIGINT forwards the signal and resolves with
 * the exit code once every worker has drained and exited. The primary serves no requests and holds no
 * database connection; main.ts prepares everything that must happen once (migrations, keys, bootstrap)
 * before calling this.
 *
 * Messages: a worker may send `{ type: 'authly:broadcast', ... }` to reach every other worker (for
 * example a cache invalidation); the primary relays it as is. A worker serving /metrics sends
 * `authly:metrics:request`; the primary collects every worker's registry and answers with the sum
 * (src/routes/metrics/cluster-metrics.ts). A worker that cannot start (the port is taken) sends
 * `authly:worker:cannot-start` before it exits, and the primary stops the cluster with 1 instead of
 * restarting workers into the same wall. Other message types are ignored here.
 */
export interface PrimaryOptions {
  workers: number;
  shutdownTimeoutSeconds: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Called once, when the first generation of workers is listening. */
  onListening?: () => void;
}

export const BROADCAST_TYPE = 'authly:broadcast';
/** How long the primary waits for every worker's registry; a slower worker is left out of that scrape. */
const METRICS_COLLECT_TIMEOUT_MS = 2000;

/** One scrape: ask every live worker for its registry, answer the requester with the aggregate. */
function collectClusterMetrics(requester: Worker, id: string): void {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w?.isConnected()));
  const reports: MetricObjectWithValues<MetricValue<string>>[][] = [];
  const listeners: [Worker, (message: MetricsMessage) => void][] = [];
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    for (const [worker, listener] of listeners) worker.off('message', listener);
    const send = (body: string | undefined) => {
      if (requester.isConnected()) requester.send({ type: METRICS_RESPONSE, id, body });
    };
    // Counters and histograms are summed; gauges follow their `aggregator` (sum unless set).
    AggregatorRegistry.aggregate(reports)
      .metrics()
      .then(send, () => send(undefined));
  };
  const timer = setTimeout(finish, METRICS_COLLECT_TIMEOUT_MS);
  for (const worker of workers) {
    const listener = (message: MetricsMessage) => {
      if (message?.type !== METRICS_REPORT || message.id !== id) return;
      reports.push(message.metrics);
      if (reports.length === workers.length) finish();
    };
    listeners.push([worker, listener]);
    worker.on('message', listener);
    worker.send({ type: METRICS_COLLECT, id });
  }
  if (workers.length === 0) finish();
}

export function isBroadcast(message: unknown): message is { type: typeof BROADCAST_TYPE } {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === BROADCAST_TYPE;
}

/** A worker that lived this long before dying was healthy; its death does not count towards the backoff. */
const HEALTHY_UPTIME_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;

export function restartDelayMs(consecutiveFailures: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.max(0, consecutiveFailures - 1));
}

export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { log } = options;
  // Every worker not yet exited, with the time it was forked.
  const liveWorkers = new Map<Worker, number>();
  let stopping = false;
  let failures = 0;
  let failedExit = false;
  let pendingRestart: NodeJS.Timeout | undefined;
  let firstListening = 0;

  const fork = () => {
    const worker = cluster.fork();
    liveWorkers.set(worker, Date.now());
    worker.on('listening', () => {
      if (++firstListening === options.workers) options.onListening?.();
    });
  };

  return new Promise<number>((resolve) => {
    cluster.on('message', (from, message: unknown) => {
      const metricsMessage = message as MetricsMessage;
      if (metricsMessage?.type === METRICS_REQUEST) return collectClusterMetrics(from, metricsMessage.id);
      if ((message as { type?: unknown } | undefined)?.type === WORKER_CANNOT_START) {
        // The worker printed why; every other worker would meet the same (the port is taken).
        log('error', 'a worker cannot start; stopping', { worker_pid: from.process.pid });
        failedExit = true;
        return stop({ reason: 'a worker cannot start' });
      }
      if (!isBroadcast(message)) return;
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker && worker !== from && worker.isConnected()) worker.send(message);
      }
    });

    // Counted from our own map, not cluster.workers: node:cluster drops a worker from that list only once
    // it has both exited and disconnected, and the last 'exit' can come before its 'disconnect' — the
    // promise would then never settle (the primary ended with code 13, unsettled top-level await).
    const finishIfDone = () => {
      if (stopping && liveWorkers.size === 0) {
        if (pendingRestart) clearTimeout(pendingRestart);
        resolve(failedExit ? 1 : 0);
      }
    };

    cluster.on('exit', (worker, code, signal) => {
      const uptime = Date.now() - (liveWorkers.get(worker) ?? Date.now());
      liveWorkers.delete(worker);
      if (stopping) {
        if (code !== 0) failedExit = true;
        log(code === 0 ? 'info' : 'warn', 'worker exited', { worker_pid: worker.process.pid, code, signal });
        finishIfDone();
        return;
      }
      failures = uptime >= HEALTHY_UPTIME_MS ? 1 : failures + 1;
      const delay = restartDelayMs(failures);
      log('error', 'worker died; restarting', { worker_pid: worker.process.pid, code, signal, restart_in_ms: delay });
      pendingRestart = setTimeout(() => {
        pendingRestart = undefined;
        if (!stopping) fork();
      }, delay);
    });

    const stop = (cause: { signal: NodeJS.Signals } | { reason: string }) => {
      if (stopping) return;
      stopping = true;
      log('info', 'stopping workers', cause);
      if (pendingRestart) clearTimeout(pendingRestart);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      // Workers force themselves out after the same timeout; this is the backstop for a stuck one.
      setTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        log('error', 'workers did not exit in time; killed');
        resolve(1);
      }, (options.shutdownTimeoutSeconds + 5) * 1000).unref();
      finishIfDone();
    };
    process.on('SIGTERM', () => stop({ signal: 'SIGTERM' }));
    process.on('SIGINT', () => stop({ signal: 'SIGINT' }));

    for (let i = 0; i < options.workers; i++) fork();
  });
}
