import { createServer, type Server, type Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** What the server answers to the next message: accept, refuse (SMTP reply code) or accept after a pause. */
export type SmtpBehaviour = { accept: true; delayMs?: number } | { refuse: number; message?: string };

/**
 * A real SMTP server on 127.0.0.1 (npm smtp-server), for the mail worker's tests: it parses every message
 * it accepts (mailparser) and answers as told, so the worker meets real replies over real TCP.
 */
export class TestSmtpServer {
  readonly received: ParsedMail[] = [];
  /** Every DATA the server was offered, accepted or not. */
  attempts = 0;
  /** Answers for the next messages, in order; when empty, `fallback`. */
  readonly script: SmtpBehaviour[] = [];
  fallback: SmtpBehaviour = { accept: true };
  private server: SMTPServer | undefined;

  private constructor(
    readonly port: number,
    /** When set, the server requires AUTH PLAIN/LOGIN with these credentials (over plain TCP, tests only). */
    private readonly credentials?: { user: string; pass: string },
  ) {}

  static async start(port: number, credentials?: { user: string; pass: string }): Promise<TestSmtpServer> {
    const s = new TestSmtpServer(port, credentials);
    await s.listen();
    return s;
  }

  /** Starts (again) on the same port: "the server comes back". */
  async listen(): Promise<void> {
    const credentials = this.credentials;
    const server = new SMTPServer({
      authOptional: !credentials,
      allowInsecureAuth: true,
      disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      onAuth: (auth, _session, callback) => {
        if (credentials && auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
      },
      logger: false,
      closeTimeout: 50,
      onData: (stream, _session: SMTPServerSession, callback) => {
        this.attempts++;
        const behaviour = this.script.shift() ?? this.fallback;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if ('refuse' in behaviour) {
            callback(Object.assign(new Error(behaviour.message ?? `refused with ${behaviour.refuse}`), { responseCode: behaviour.refuse }));
            return;
          }
          const finish = () =>
            void simpleParser(Buffer.concat(chunks)).then((parsed) => {
              this.received.push(parsed);
              callback();
            }, callback);
          if (behaviour.delayMs) setTimeout(finish, behaviour.delayMs);
          else finish();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  /** Stops listening and drops its connections: "the server goes down". */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A TCP server that accepts connections and never says a word (no SMTP greeting): a hung SMTP server. */
export async function startSilentServer(port: number): Promise<{ close(): Promise<void>; connections: number }> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    get connections() {
      return state.connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns true (every 20 ms), failing after `timeoutMs`. No fixed sleeps. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
