import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { configWarnings, dotEnvNames, type ConfigWarning } from './config/config-warnings.js';
import { ROUTES } from './config/routes.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/open-database.js';
import { StartupError, PortInUse } from './errors/startup-errors.js';
import { WORKER_CANNOT_START } from './lib/cluster-messages.js';

/** Reads ./.env when present (real environment variables win), before the config is validated. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

function banner(config: Readonly<Config>, app: FastifyInstance, dbDescription: string): string {
  const report = app.bootstrapReport;
  const lines = [
    '',
    '  Authly is running',
    `  Issuer:     ${config.issuer}`,
    `  Discovery:  ${config.issuer}${ROUTES.openidConfiguration}`,
    `  Database:   ${dbDescription}`,
    `  Admin API:  ${config.issuer}${ROUTES.admin}  (CLI: npm run authly -- admin status)`,
  ];
  if (report.adminClientId) lines.push(`  Admin client: ${report.adminClientId}`);
  if (report.generatedClientSecret) {
    lines.push(`  Admin client secret (shown once): ${report.generatedClientSecret}`);
  }
  if (report.credentialsFile) lines.push(`  Admin credentials file: ${report.credentialsFile}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Starts the server: config → database → migrations → app → listen, with a graceful shutdown on
 * SIGTERM/SIGINT. With WORKERS > 1 this process becomes the cluster primary (src/cluster.ts) and each
 * forked worker runs this same function as a single server; it then resolves with no app.
 */
export async function start(): Promise<FastifyInstance | undefined> {
  loadDotEnv();
  const config = loadConfig();
  // Named once, by the process that starts first (workers inherit the same environment).
  const warnings = cluster.isWorker ? [] : configWarnings(process.env, dotEnvNames());
  if (config.workers > 1 && cluster.isPrimary) {
    await startPrimary(config, warnings);
    return undefined;
  }
  return startServer(config, warnings);
}

function logWarnings(log: Pick<FastifyInstance['log'], 'warn'>, warnings: readonly ConfigWarning[]): void {
  for (const { variable, message } of warnings) log.warn({ variable }, message);
}

async function startServer(config: Readonly<Config>, warnings: readonly ConfigWarning[]): Promise<FastifyInstance> {
  // In a worker the primary has already migrated (once, not N times racing).
  const isWorker = cluster.isWorker;
  const db = await openDatabase(config);
  if (config.autoMigrate && !isWorker) await migrate(db);
  const app = await buildApp(config, { db, closeDatabase: true });
  logWarnings(app.log, warnings);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    // Closing runs the onClose hooks: the database (and its data directory lock) is released before exit.
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUse(config.host, config.port);
    throw err;
  }
  if (!isWorker) process.stdout.write(banner(config, app, db.description));
  handleShutdownSignals(app, config);
  return app;
}

/** How long SIGTERM keeps serving with readiness at 503, so load balancers stop sending new requests. */
export function drainDelayMs(config: Pick<Config, 'shutdownTimeoutSeconds'>): number {
  return Math.min(5000, (config.shutdownTimeoutSeconds * 1000) / 5);
}

/**
 * Graceful shutdown. SIGTERM (Kubernetes, Docker): readiness turns 503 at once, requests are still
 * served for drainDelayMs, then app.close() stops accepting connections, closes idle keep-alive ones,
 * waits for in-flight requests and runs the onClose hooks (cleanup job, Redis, database pool). SIGINT
 * (Ctrl+C) skips the delay. A slow client cannot hold the close open (HTTP_REQUEST_TIMEOUT_SECONDS, then
 * the remaining connections are cut a second before the deadline); whatever else hangs, the process is
 * out after SHUTDOWN_TIMEOUT_SECONDS.
 */
function handleShutdownSignals(app: FastifyInstance, config: Readonly<Config>): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.lifecycle.draining = true;
    const delay = signal === 'SIGTERM' ? drainDelayMs(config) : 0;
    app.log.info({ signal, drain_ms: delay }, 'draining');
    setTimeout(() => {
      app.log.error({ timeout_seconds: config.shutdownTimeoutSeconds }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000).unref();
    setTimeout(() => {
      app.log.info('closing');
      // Node stops checking request timeouts once the server closes, so a request still arriving gets
      // HTTP_REQUEST_TIMEOUT_SECONDS more (its own bound, counted from now) and at most until a second
      // before the deadline; then the connections still open are cut and the close completes.
      setTimeout(
        () => {
          app.log.warn('closing the connections still open');
          app.server.closeAllConnections();
        },
        Math.max(0, Math.min(config.requestTimeoutSeconds * 1000, config.shutdownTimeoutSeconds * 1000 - delay - 1000)),
      ).unref();
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'error while closing');
          process.exit(1);
        },
      );
    }, delay);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * WORKERS > 1: what must happen once happens here, before forking — migrations, signing keys and the
 * bootstrap (building the app once without listening) — so workers never race each other over them.
 * Embedded PGlite cannot be shared between processes; loadConfig refuses WORKERS > 1 without DATABASE_URL.
 */
async function startPrimary(config: Readonly<Config>, warnings: readonly ConfigWarning[]): Promise<void> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'primary' } });
  logWarnings(log, warnings);
  const db = await openDatabase(config);
  let text: string;
  try {
    if (config.autoMigrate) await migrate(db);
    const app = await buildApp({ ...config, cleanupIntervalMinutes: 0 }, { db });
    text = banner(config, app, db.description) + `  Workers:    ${config.workers}\n`;
    await app.close();
  } finally {
    await db.close();
  }
  const code = await runPrimary({
    workers: config.workers,
    shutdownTimeoutSeconds: config.shutdownTimeoutSeconds,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
    onListening: () => process.stdout.write(text),
  });
  log.info({ code }, 'all workers exited');
  process.exit(code);
}

/**
 * Runs an entry point, turning a configuration error into one line and exit code 2, and a startup error
 * (the data directory or the port held by another process) into one line and exit code 1 (a worker tells
 * the primary first, which then stops the cluster rather than restart it).
 */
export function runMain(fn: () => Promise<unknown>): void {
  fn().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`authly: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartupError) {
      process.stderr.write(`authly: ${err.message}\n`);
      if (cluster.isWorker && process.send) process.send({ type: WORKER_CANNOT_START }, () => process.exit(1));
      else process.exit(1);
      return;
    }
    process.stderr.write(`authly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runMain(start);
