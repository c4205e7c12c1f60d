/** Where a CLI run reads and writes: process streams by default, buffers in tests. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: AsyncIterable<string | Buffer>;
  env: Record<string, string | undefined>;
}

export function defaultIo(io: Partial<CliIo> = {}): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, ...io };
}

/**
 * An error the CLI reports as one line; usage errors exit 2, everything else 1. `code` and `fields` are what
 * --json prints (`{"error": code, "message": …, "fields"?: …}`): the admin API's own error code and fields
 * for an API error, `usage` for a usage error, a short code of the CLI's otherwise.
 */
export class CliError extends Error {
  readonly code: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  /** The message without the fields the text spells out, when they go separately (`fields`). */
  readonly jsonMessage: string;

  constructor(
    message: string,
    readonly exitCode = 1,
    details: { code?: string; fields?: Readonly<Record<string, unknown>> | undefined; jsonMessage?: string | undefined } = {},
  ) {
    super(message);
    this.code = details.code ?? 'error';
    this.fields = details.fields;
    this.jsonMessage = details.jsonMessage ?? message;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2, { code: 'usage' });
  }
}

/** `--json` before a `--` (after it, `--json` is an argument). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** An error on stderr: `prefix message` as text, or one JSON object with --json; returns the exit code. */
export function reportError(io: CliIo, err: unknown, options: { json: boolean; prefix: string }): number {
  const error = err instanceof CliError ? err : new CliError((err as Error).message);
  if (options.json) {
    const body = { error: error.code, message: error.jsonMessage, ...(error.fields ? { fields: error.fields } : {}) };
    io.stderr.write(`${JSON.stringify(body)}\n`);
  } else {
    io.stderr.write(`${options.prefix}${error.message}\n`);
  }
  return error.exitCode;
}

export async function readAll(input: AsyncIterable<string | Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of input) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}
