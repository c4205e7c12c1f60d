import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/db.js';

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
  readonly cleanupDeleted = new Counter({
    name: 'authly_cleanup_deleted_total',
    help: 'Rows deleted by the cleanup job (expired or unusable), by table.',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  constructor(db: Db) {
    collectDefaultMetrics({ register: this.registry });
    const registry = this.registry;
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
