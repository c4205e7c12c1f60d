import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** Messages between the cluster primary (src/cluster.ts) and workers for cluster-wide /metrics. */
export const METRICS_REQUEST = 'authly:metrics:request';
export const METRICS_COLLECT = 'authly:metrics:collect';
export const METRICS_REPORT = 'authly:metrics:report';
export const METRICS_RESPONSE = 'authly:metrics:response';

export type MetricsMessage =
  | { type: typeof METRICS_REQUEST | typeof METRICS_COLLECT; id: string }
  | { type: typeof METRICS_REPORT; id: string; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: typeof METRICS_RESPONSE; id: string; body: string | undefined }
  | undefined;

/**
 * A worker that cannot start for a reason no restart mends (src/errors/startup-errors.ts: the port is
 * taken) says so before it exits; the primary then stops instead of restarting workers into the same wall.
 */
export const WORKER_CANNOT_START = 'authly:worker:cannot-start';
