import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { run } from '../../src/cli/authly-cli.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `authly <argv>` in-process with captured output, the given stdin and no ambient environment. */
export async function runCli(argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([options.stdin ?? '']),
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}

/** Makes a test app listen on a free loopback port; its base URL. */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** The bootstrap admin client's credentials as `authly admin` options, for a server at `url`. */
export const adminCredentials = (url: string): string[] => [
  '--url',
  url,
  '--client-id',
  ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID,
  '--client-secret',
  ADMIN_ENV.AUTHLY_ADMIN_CLIENT_SECRET,
];

/** `authly admin <argv>` against the server at `url` as the bootstrap admin client. */
export const adminCli =
  (url: () => string) =>
  (...argv: string[]): Promise<CliResult> =>
    runCli(['admin', ...adminCredentials(url()), ...argv]);
