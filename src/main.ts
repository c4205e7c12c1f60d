import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { ROUTES } from './config/routes.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/open-database.js';

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
 * SIGTERM/SIGINT (in-flight requests finish, then the pool closes).
 */
export async function start(): Promise<FastifyInstance> {
  loadDotEnv();
  const config = loadConfig();
  const db = await openDatabase(config);
  if (config.autoMigrate) await migrate(db);
  const app = await buildApp(config, { db });
  app.addHook('onClose', () => db.close());
  await app.listen({ host: config.host, port: config.port });
  process.stdout.write(banner(config, app, db.description));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return app;
}

/** Runs an entry point, turning a configuration error into one line and exit code 2. */
export function runMain(fn: () => Promise<unknown>): void {
  fn().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`authly: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`authly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runMain(start);
