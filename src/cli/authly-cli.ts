import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, parseEnv, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../lib/did-you-mean.js';
import { runAdmin } from './admin-cli.js';
import { CliError, defaultIo, reportError, UsageError, wantsJson, type CliIo } from './cli-io.js';
import { StartupError } from '../errors/startup-errors.js';

const HELP = `Usage: authly <command> [options]

Commands:
  serve         start the server (configuration from the environment and ./.env)
  migrate       apply pending database migrations and print their names
  maintenance   delete expired codes, tokens, sessions and unusable grants now, directly in the database
  config check  validate the configuration (environment and ./.env) without starting
  admin         manage clients, users and scopes through the admin API (authly admin --help)

Options:
  -h, --help     show help (also after a command: authly serve --help)
  --version      print the version
  --json         errors as one JSON object on stderr: {"error": code, "message": text}

Exit codes: 0 done, 1 failed, 2 usage or configuration error.
`;

const JSON_OPTION = '  --json      print the result as JSON; errors as {"error": code, "message": text} on stderr\n';

/** The commands besides `admin`: what --help prints, and the options each takes. */
const COMMANDS: Record<string, { help: string; options: NonNullable<ParseArgsConfig['options']> }> = {
  serve: {
    help: `Usage: authly serve [options]

Starts the server: reads ./.env (the environment wins), validates the configuration, opens the database,
applies pending migrations (AUTOMIGRATE), then listens on HOST:PORT until SIGTERM or SIGINT.
Check a configuration first with 'authly config check'.

Options:
  -h, --help  show this help
  --json      configuration and start-up errors as {"error": code, "message": text} on stderr
`,
    options: {},
  },
  migrate: {
    help: `Usage: authly migrate [options]

Applies pending database migrations to the configured database (DATABASE_URL, else the embedded database in
AUTHLY_DATA_DIR) and prints their names. Safe to run while servers run, and from several replicas at once.

Options:
  -h, --help  show this help
${JSON_OPTION}`,
    options: {},
  },
  maintenance: {
    help: `Usage: authly maintenance [options]

Runs the cleanup the server runs every CLEANUP_INTERVAL_MINUTES, once, directly in the configured database:
deletes expired codes, tokens, sessions and unusable grants, and prints how many of each.

Options:
  -h, --help  show this help
${JSON_OPTION}`,
    options: {},
  },
  config: {
    help: `Usage: authly config check [--env-file FILE] [--strict] [--json]

Validates the configuration the way the server reads it, without starting anything: the environment,
with the variables of ./.env (or FILE) under it. Prints every invalid value with the variable and why, and
every variable Authly will not act on (a likely typo names the variable it resembles).
Exit code 0 when valid (warnings allowed), 1 when invalid, 2 for a usage error.

Options:
  --env-file FILE  read FILE instead of ./.env (it must exist)
  --strict         warnings fail the check too (exit code 1)
  --json           print {"ok": …, "errors": [{variable, message}], "warnings": [...]}
  -h, --help       show this help
`,
    options: { 'env-file': { type: 'string' }, strict: { type: 'boolean' } },
  },
};

const COMMAND_NAMES = [...Object.keys(COMMANDS), 'admin'];

function version(): string {
  // src/cli and dist/cli both sit two levels below package.json.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** `migrate`: config from the environment, the configured database, pending migrations applied. */
async function migrateCommand(io: CliIo, json: boolean): Promise<number> {
  const { loadConfig } = await import('../config/config.js');
  const { openDatabase } = await import('../db/open-database.js');
  const { migrate } = await import('../db/migrate.js');
  const config = loadConfig(io.env);
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db);
    if (json) io.stdout.write(`${JSON.stringify({ applied })}\n`);
    else io.stdout.write(applied.length === 0 ? 'No pending migrations.\n' : applied.map((name) => `Applied ${name}\n`).join(''));
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * `maintenance`: the cleanup the server runs on its interval, once, straight against the configured
 * database (like migrate), so it works while no server runs. Replicas running it at once are safe.
 */
async function maintenanceCommand(io: CliIo, json: boolean): Promise<number> {
  const { loadConfig } = await import('../config/config.js');
  const { openDatabase } = await import('../db/open-database.js');
  const { runCleanup } = await import('../services/cleanup-service.js');
  const config = loadConfig(io.env);
  const db = await openDatabase(config);
  try {
    const result = await runCleanup({ db, config });
    if (json) {
      io.stdout.write(`${JSON.stringify(result.skipped ? { skipped: true } : { skipped: false, deleted: result.deleted })}\n`);
    } else if (result.skipped) {
      io.stdout.write('Cleanup skipped: another cleanup is running.\n');
    } else {
      io.stdout.write(Object.entries(result.deleted).map(([table, n]) => `Deleted ${n} from ${table}\n`).join(''));
    }
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * `config check`: the environment with the .env file under it (real variables win, as process.loadEnvFile
 * does for the server), checked by variableProblems (src/config/config-check.ts).
 */
async function configCheckCommand(io: CliIo, options: { envFile: string | undefined; strict: boolean; json: boolean }): Promise<number> {
  const file = options.envFile ?? '.env';
  if (options.envFile !== undefined && !existsSync(file)) throw new UsageError(`--env-file: ${file} does not exist`);
  let fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    try {
      fromFile = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2, { code: 'usage' });
    }
  }
  const { variableProblems } = await import('../config/config-check.js');
  const { errors, warnings } = variableProblems({ ...fromFile, ...io.env }, Object.keys(fromFile), file);
  const ok = errors.length === 0 && (!options.strict || warnings.length === 0);
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ok, errors, warnings }, null, 2)}\n`);
  } else {
    const lines = [...errors.map((e) => `error: ${e.variable}: ${e.message}`), ...warnings.map((w) => `warning: ${w.message}`)];
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    const summary = ok
      ? `The configuration is valid${warnings.length ? ` (${count(warnings.length, 'warning')})` : ''}.`
      : `The configuration is not valid: ${count(errors.length, 'error')}, ${count(warnings.length, 'warning')}${errors.length === 0 ? ' (--strict)' : ''}.`;
    io.stdout.write(`${[...lines, summary].join('\n')}\n`);
  }
  return ok ? 0 : 1;
}

/** Reads a command's options strictly; an unknown one names the closest option of that command. */
function parseCommandOptions(name: string, args: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = { ...COMMANDS[name]!.options, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } } satisfies NonNullable<ParseArgsConfig['options']>;
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const option = /'(-[^']*)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
      const close = didYouMean(option, Object.keys(options).map((flag) => `--${flag}`));
      throw new UsageError(`unknown option ${option}${close ? `; did you mean ${close}?` : ''} (see authly ${name} --help)`);
    }
    throw new UsageError(`${message} (see authly ${name} --help)`);
  }
}

async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'admin') return runAdmin(rest, io);
  if (command === undefined) {
    io.stderr.write(HELP);
    return 2;
  }
  if (command === '-h' || command === '--help') {
    io.stdout.write(HELP);
    return 0;
  }
  if (command === '--version') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (!(command in COMMANDS)) {
    const close = didYouMean(command, command.startsWith('-') ? ['--help', '--version'] : COMMAND_NAMES);
    const what = command.startsWith('-') ? 'option' : 'command';
    throw new UsageError(`unknown ${what}: ${command}${close ? `; did you mean ${close}?` : ''} (see authly --help)`);
  }
  const { values, positionals } = parseCommandOptions(command, rest);
  const json = Boolean(values.json);
  if (command === 'config') {
    if (values.help || positionals.length === 0) {
      io[values.help ? 'stdout' : 'stderr'].write(COMMANDS.config!.help);
      return values.help ? 0 : 2;
    }
    if (positionals.length !== 1 || positionals[0] !== 'check') {
      const close = positionals[0] === undefined ? undefined : didYouMean(positionals[0], ['check']);
      throw new UsageError(`unknown command: ${argv.join(' ')}${close ? `; did you mean config ${close}?` : ''} (see authly config --help)`);
    }
    return configCheckCommand(io, { envFile: values['env-file'] as string | undefined, strict: Boolean(values.strict), json });
  }
  if (values.help) {
    io.stdout.write(COMMANDS[command]!.help);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unknown command: ${argv.join(' ')} (see authly --help)`);
  if (command === 'migrate') return migrateCommand(io, json);
  if (command === 'maintenance') return maintenanceCommand(io, json);
  const { start } = await import('../main.js');
  await start();
  return 0;
}

/**
 * The `authly` command: returns the exit code instead of exiting, so tests run it in-process. The server
 * modules are imported only by the commands that need them, so help and `authly admin` stay light.
 * Errors are one line on stderr (`authly: …`), or one JSON object with --json; usage and configuration
 * errors exit 2, others 1.
 */
export async function run(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io = defaultIo(ioOverrides);
  // `authly admin …` reports its own errors (`error: …`), as `authly-admin` does.
  if (argv[0] === 'admin') return runAdmin(argv.slice(1), io);
  const json = wantsJson(argv);
  try {
    return await runCommand(argv, io);
  } catch (err) {
    const { ConfigError } = await import('../config/config.js');
    if (err instanceof ConfigError) {
      return reportError(io, new CliError(err.message, 2, { code: 'configuration' }), { json, prefix: 'authly: configuration error: ' });
    }
    // Held by another process (the data directory, the port): the same line as `npm start` prints.
    if (err instanceof StartupError) return reportError(io, new CliError(err.message, 1, { code: 'in_use' }), { json, prefix: 'authly: ' });
    if (err instanceof CliError) return reportError(io, err, { json, prefix: 'authly: ' });
    return reportError(io, err, { json, prefix: 'authly: error: ' });
  }
}
