import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { METRICS_COLLECT, METRICS_REPORT, METRICS_REQUEST, METRICS_RESPONSE, type MetricsMessage } from '../../lib/cluster-messages.js';

/**
 * With WORKERS > 1 every worker counts its own requests, and a scrape lands on one of them at random; so a
 * worker answers /metrics with the whole cluster's figures, summed by the primary (prom-client's
 * AggregatorRegistry), and reports its own registry when the primary collects.
 */
export function clusterMetricsEnabled(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/** Answers the primary's collection rounds with this worker's registry; returns the unsubscribe. */
export function reportToPrimary(registry: Registry): () => void {
  const onMessage = (message: MetricsMessage) => {
    if (message?.type !== METRICS_COLLECT) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: METRICS_REPORT, id: message.id, metrics }),
      () => process.send?.({ type: METRICS_REPORT, id: message.id, metrics: [] }),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** The cluster's aggregated exposition text, or undefined if the primary does not answer in time. */
export function requestClusterMetrics(timeoutMs = 3000): Promise<string | undefined> {
  const id = randomUUID();
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const onMessage = (message: MetricsMessage) => {
      if (message?.type === METRICS_RESPONSE && message.id === id) finish(message.body);
    };
    function finish(body: string | undefined) {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(body);
    }
    process.on('message', onMessage);
    process.send?.({ type: METRICS_REQUEST, id });
  });
}
