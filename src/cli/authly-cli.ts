import { readFileSync } from 'node:fs';
import { runAdmin } from './admin-cli.js';
import { defaultIo, type CliIo } from './cli-io.js';
import { StartupError } from '../errors/startup-errors.js';

const HELP = `Usage: authly <command>

Commands:
  serve        start the server (configuration from the environment and ./.env)
  migrate      apply pending database migrations and print their names
  maintenance  delete expired codes, tokens, sessions and unusable grants now, directly in the database
  admin        manage clients, users and scopes through the admin API (authly admin --help)

Options:
  -h, --help     show help
  --version      print the version
`;

function version(): string {
  // src/cli and dist/cli both sit two levels below package.json.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** `migrate`: config from the environment, the configured database, pending migrations applied. */
async function migrateCommand(io: CliIo): Promise<number> {
  const { loadConfig } = await import('../config/config.js');
  const { openDatabase } = await import('../db/open-database.js');
  const { migrate } = await import('../db/migrate.js');
  const config = loadConfig(io.env);
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db);
    io.stdout.write(applied.length === 0 ? 'No pending migrations.\n' : applied.map((name) => `Applied ${name}\n`).join(''));
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * `maintenance`: the cleanup the server runs on its interval, once, straight against the configured
 * database (like migrate), so it works while no server runs. Replicas running it at once are safe.
 */
async function maintenanceCommand(io: CliIo): Promise<number> {
  const { loadConfig } = await import('../config/config.js');
  const { openDatabase } = await import('../db/open-database.js');
  const { runCleanup } = await import('../services/cleanup-service.js');
  const config = loadConfig(io.env);
  const db = await openDatabase(config);
  try {
    const result = await runCleanup({ db, config });
    if (result.skipped) {
      io.stdout.write('Cleanup skipped: another cleanup is running.\n');
      return 0;
    }
    const lines = Object.entries(result.deleted).map(([table, n]) => `Deleted ${n} from ${table}\n`);
    io.stdout.write(lines.join(''));
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * The `authly` command: returns the exit code instead of exiting, so tests run it in-process. The server
 * modules are imported only by the commands that need them, so `authly admin` stays light.
 */
export async function run(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io = defaultIo(ioOverrides);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'admin':
        return await runAdmin(rest, io);
      case 'serve': {
        if (rest.length > 0) break;
        const { start } = await import('../main.js');
        await start();
        return 0;
      }
      case 'migrate':
        if (rest.length > 0) break;
        return await migrateCommand(io);
      case 'maintenance':
        if (rest.length > 0) break;
        return await maintenanceCommand(io);
      case '--version':
        io.stdout.write(`${version()}\n`);
        return 0;
      case '-h':
      case '--help':
        io.stdout.write(HELP);
        return 0;
      case undefined:
        io.stderr.write(HELP);
        return 2;
    }
  } catch (err) {
    const { ConfigError } = await import('../config/config.js');
    if (err instanceof ConfigError) {
      io.stderr.write(`authly: configuration error: ${err.message}\n`);
      return 2;
    }
    // Held by another process (the data directory, the port): the same line as `npm start` prints.
    if (err instanceof StartupError) {
      io.stderr.write(`authly: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`authly: error: ${(err as Error).message}\n`);
    return 1;
  }
  io.stderr.write(`authly: unknown command: ${argv.join(' ')} (see authly --help)\n`);
  return 2;
}
