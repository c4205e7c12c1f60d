import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdminApiClient, DEFAULT_URL, resolveCredentials, resolveUrl } from './admin-api-client.js';
import { runLogin, runLogout } from './admin-login.js';
import { COMMANDS, type Command, type FieldOption } from './admin-commands.js';
import { CliError, defaultIo, readAll, UsageError, type CliIo } from './cli-io.js';
import { formatRecord, formatTable } from './output.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

const PASSWORD_OPTIONS = { password: { type: 'string' }, 'password-stdin': { type: 'boolean' } } satisfies Options;
/** `authly admin login --print` (src/cli/admin-login.ts). */
const LOGIN_OPTIONS = { print: { type: 'boolean' } } satisfies Options;

const fieldOptions = (command: Command): readonly FieldOption[] => [...(command.body ?? []), ...(command.query ?? [])];

/** One parseArgs table for all commands; a flag means the same kind of value wherever it appears. */
function allOptions(): Options {
  const options: Options = { ...GLOBAL_OPTIONS, ...PASSWORD_OPTIONS, ...LOGIN_OPTIONS };
  for (const option of COMMANDS.flatMap(fieldOptions)) {
    // A flag (`--emergency`) takes no value; every other option takes one (or several for a list).
    const spec = option.kind === 'flag' ? { type: 'boolean' as const } : { type: 'string' as const, multiple: option.kind === 'list' };
    const seen = options[option.flag];
    if (seen && (seen.type !== spec.type || Boolean(seen.multiple) !== Boolean('multiple' in spec && spec.multiple))) {
      throw new Error(`admin-commands: --${option.flag} is declared with two kinds`);
    }
    options[option.flag] = spec;
  }
  return options;
}
const OPTIONS = allOptions();

const GLOBAL_HELP = `Options for every command:
  --url URL              Authly base URL (env AUTHLY_URL, default ${DEFAULT_URL})
  --client-id ID         admin client id (env AUTHLY_ADMIN_CLIENT_ID)
  --client-secret SECRET admin client secret (env AUTHLY_ADMIN_CLIENT_SECRET, preferred: not in the process list)
  --data-dir DIR         where the development admin-credentials.json is (env AUTHLY_DATA_DIR, default ./data)
  --json                 print the API's JSON instead of text
  -h, --help             show help
  --                     ends the options: what follows is an argument even if it starts with --
`;

function usageLine(command: Command): string {
  return `authly admin ${command.name}${command.args.map((a) => ` <${a}>`).join('')}${fieldOptions(command).length || command.password ? ' [options]' : ''}`;
}

function commandHelp(command: Command): string {
  const options = fieldOptions(command).map((o): [string, string] => [
    o.kind === 'flag' ? `--${o.flag}` : `--${o.flag} ${o.kind === 'list' ? 'VALUE...' : o.kind === 'boolean' ? 'true|false' : o.kind === 'json' ? 'JSON' : o.kind === 'integer' ? 'N' : 'VALUE'}`,
    o.help,
  ]);
  options.unshift(...command.args.flatMap((arg): [string, string][] => (command.argHelp?.[arg] ? [[`<${arg}>`, command.argHelp[arg]]] : [])));
  if (command.password) {
    options.push(['--password PASSWORD', 'the password (visible in the process list; prefer --password-stdin)']);
    options.push(['--password-stdin', 'read the password from standard input']);
  }
  const width = Math.max(0, ...options.map(([flag]) => flag.length));
  const lines = options.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}\n`).join('');
  return `Usage: ${usageLine(command)}\n\n${command.summary}\n${lines ? `\n${lines}` : ''}\n${GLOBAL_HELP}`;
}

function overviewHelp(resource?: string): string {
  const commands = COMMANDS.filter((c) => !resource || c.name.startsWith(`${resource} `));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('');
  const login = resource ? '' : SESSION_COMMANDS.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}\n`).join('');
  return `Usage: authly admin ${resource ?? '<command>'} ...\n\nTalks to the admin HTTP API with a client_credentials token, or as a person after 'authly admin login'.\n\nCommands:\n${login}${lines}\nRun 'authly admin <command> --help' for the options of a command.\n\n${GLOBAL_HELP}`;
}

/** The commands that manage the CLI's own login instead of calling the admin API. */
const SESSION_COMMANDS: readonly [string, string][] = [
  ['login', 'sign in as a person in a browser (device grant, RFC 8628); --print: print the token instead of storing it'],
  ['logout', "revoke and forget the login stored by 'authly admin login'"],
];

const LOGIN_HELP = `Usage: authly admin login [--url URL] [--print]

Signs you in as a person: open the address it prints, enter the code, sign in (with your second factor)
and approve. The admin token is stored for this URL in $XDG_CONFIG_HOME/authly/admin-login.json (else
~/.config/authly/admin-login.json; mode 0600) and renewed with its refresh token, so later admin commands
need no client secret. Only an administrator (is_admin) gets the admin scope.

  --print  print the access token on stdout instead of storing it:
           export AUTHLY_ADMIN_TOKEN=$(authly admin login --print)

${GLOBAL_HELP}`;

const LOGOUT_HELP = `Usage: authly admin logout [--url URL]

Revokes the refresh token stored by 'authly admin login' for this URL and forgets the login.

${GLOBAL_HELP}`;

async function runSessionCommand(name: string, values: Values, io: CliIo): Promise<number> {
  if (values.help) {
    io.stdout.write(name === 'login' ? LOGIN_HELP : LOGOUT_HELP);
    return 0;
  }
  const allowed = new Set(['url', 'json', ...(name === 'login' ? ['print'] : [])]);
  const stray = Object.keys(values).find((flag) => !allowed.has(flag));
  if (stray) throw new UsageError(`--${stray} does not apply to '${name}' (see authly admin ${name} --help)`);
  const url = resolveUrl({ url: values.url as string | undefined }, io.env);
  return name === 'login' ? runLogin(io, { url, print: Boolean(values.print) }) : runLogout(io, { url });
}

function parseBoolean(flag: string, value: string): boolean {
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new UsageError(`--${flag} expects true or false, got ${value}`);
}

/** Option values become JSON: '' clears a text field (null), lists drop empty entries. */
function toJson(option: FieldOption, value: string | string[] | boolean): unknown {
  switch (option.kind) {
    case 'list':
      return (value as string[]).filter((v) => v !== '');
    case 'boolean':
      return parseBoolean(option.flag, value as string);
    case 'words':
      return (value as string).split(' ').filter((v) => v !== '');
    case 'integer': {
      const text = value as string;
      if (text === '') return null;
      if (!/^\d{1,10}$/.test(text)) throw new UsageError(`--${option.flag} expects a whole number, got ${text}`);
      return Number(text);
    }
    case 'flag':
      return 'value' in option ? option.value : true;
    case 'json':
      try {
        return JSON.parse(value as string) as unknown;
      } catch {
        throw new UsageError(`--${option.flag} expects JSON`);
      }
    default:
      return value === '' ? null : value;
  }
}

async function readPassword(values: Values, io: CliIo, required: boolean): Promise<string | undefined> {
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('use --password or --password-stdin, not both');
  if (values['password-stdin']) return (await readAll(io.stdin)).replace(/\r?\n$/, '');
  if (typeof values.password === 'string') return values.password;
  if (required) throw new UsageError('a password is required: --password-stdin (or --password)');
  return undefined;
}

function findCommand(positionals: string[]): { command: Command; rest: string[] } | undefined {
  for (const length of [2, 1]) {
    const command = COMMANDS.find((c) => c.name === positionals.slice(0, length).join(' '));
    if (command) return { command, rest: positionals.slice(length) };
  }
  return undefined;
}

function print(command: Command, args: Record<string, string>, body: unknown, json: boolean, io: CliIo): void {
  if (json) {
    if (body !== undefined) io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const { output } = command;
  if (output.kind === 'done') {
    io.stdout.write(`${output.message(args, body)}\n`);
  } else if (output.kind === 'stream') {
    throw new Error('a stream is written as it arrives');
  } else if (output.kind === 'table') {
    const { items, next_cursor: next } = body as { items: Record<string, unknown>[]; next_cursor: string | null };
    io.stdout.write(formatTable(items, output.columns));
    if (items.length === 0) io.stdout.write('(none)\n');
    if (next) io.stdout.write(`(next: --cursor ${next})\n`);
  } else {
    const record = body as Record<string, unknown>;
    io.stdout.write(formatRecord(record));
    if (output.secretNote && typeof record.client_secret === 'string') {
      io.stderr.write('Store the client_secret now: it is shown only once.\n');
    }
    if (output.secretNote && typeof record.token === 'string') {
      io.stderr.write('Store the token now: it is shown only once.\n');
    }
  }
}

/**
 * `-h` is the only short option, so any other word that starts with a single `-` is an argument: key ids
 * (RFC 7638 thumbprints) and other base64url values may start with `-` and are pasted as they are listed.
 * parseArgs would read them as unknown short options; they are set aside and put back in their place
 * (as arguments, or as the value of the option before them).
 */
function parseCommandLine(argv: string[]): { values: Values; positionals: string[] } {
  const end = argv.indexOf('--');
  const held = new Map<string, string>();
  const args = argv.map((word, i) => {
    if ((end === -1 || i < end) && /^-[^-]/.test(word) && word !== '-h') {
      const marker = `\u0000${held.size}`;
      held.set(marker, word);
      return marker;
    }
    return word;
  });
  const parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  const restore = (word: string) => held.get(word) ?? word;
  const values = Object.fromEntries(
    Object.entries(parsed.values).map(([flag, value]) => [flag, typeof value === 'string' ? restore(value) : Array.isArray(value) ? value.map(restore) : value]),
  );
  return { values, positionals: parsed.positionals.map(restore) };
}

async function execute(argv: string[], io: CliIo): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const option = /'(-[^']*)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
      throw new UsageError(`unknown option ${option} (see authly admin --help)`);
    }
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 1 && SESSION_COMMANDS.some(([name]) => name === positionals[0])) return runSessionCommand(positionals[0]!, values, io);
  const found = findCommand(positionals);
  if (!found) {
    const resource = COMMANDS.some((c) => c.name.startsWith(`${positionals[0]} `)) ? positionals[0] : undefined;
    const onlyResource = resource !== undefined && positionals.length === 1;
    if (values.help || positionals.length === 0 || onlyResource) {
      io[values.help ? 'stdout' : 'stderr'].write(overviewHelp(resource));
      return values.help ? 0 : 2;
    }
    throw new UsageError(`unknown command: ${positionals.join(' ')} (see authly admin --help)`);
  }
  const { command, rest } = found;
  if (values.help) {
    io.stdout.write(commandHelp(command));
    return 0;
  }

  const allowed = new Set([...Object.keys(GLOBAL_OPTIONS), ...fieldOptions(command).map((o) => o.flag)]);
  if (command.password) for (const flag of Object.keys(PASSWORD_OPTIONS)) allowed.add(flag);
  const stray = Object.keys(values).find((flag) => !allowed.has(flag));
  if (stray) throw new UsageError(`--${stray} does not apply to '${command.name}' (see authly admin ${command.name} --help)`);
  if (rest.length !== command.args.length) throw new UsageError(`usage: ${usageLine(command)}`);
  const args = Object.fromEntries(command.args.map((name, i) => [name, rest[i]!]));

  const given = (options: readonly FieldOption[] | undefined) =>
    (options ?? []).flatMap((o) => {
      const value = values[o.flag] as string | string[] | boolean | undefined;
      return value === undefined || value === false ? [] : [[o, value] as const];
    });
  let body: Record<string, unknown> | undefined;
  if (command.body || command.bodyArgs || command.password) {
    body = Object.fromEntries((command.bodyArgs ?? []).map((name) => [name, args[name]]));
    const setBy = new Map<string, string>();
    for (const [option, value] of given(command.body)) {
      const other = setBy.get(option.field);
      if (other !== undefined) throw new UsageError(`use --${other} or --${option.flag}, not both`);
      setBy.set(option.field, option.flag);
      body[option.field] = toJson(option, value);
    }
    const password = await readPassword(values, io, command.password === 'required');
    if (password !== undefined) body.password = password;
  }
  const query = Object.fromEntries(given(command.query).map(([option, value]) => [option.field, String(value)]));

  const connection = {
    url: values.url as string | undefined,
    clientId: values['client-id'] as string | undefined,
    clientSecret: values['client-secret'] as string | undefined,
    dataDir: values['data-dir'] as string | undefined,
  };
  const url = resolveUrl(connection, io.env);
  const client = new AdminApiClient(url, resolveCredentials(connection, io.env, url));
  if (command.fixedQuery) Object.assign(query, command.fixedQuery);
  if (command.output.kind === 'stream') {
    await client.stream(command.method, command.path(args), query, (chunk) => io.stdout.write(chunk));
    return 0;
  }
  const response = await client.request(command.method, command.path(args), { query, ...(body ? { body } : {}) });
  print(command, args, response.body, Boolean(values.json), io);
  return 0;
}

/** `authly admin …` / `authly-admin …`: returns the exit code; errors are one line on stderr. */
export async function runAdmin(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io = defaultIo(ioOverrides);
  try {
    return await execute(argv, io);
  } catch (err) {
    io.stderr.write(`error: ${(err as Error).message}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
