import { Redis, type RedisOptions } from 'ioredis';

/**
 * The Redis driver, kept under db/ with the other drivers (the dependency rule lets only db/ import
 * ioredis). Authly treats Redis as an accelerator, never as a source of truth: every caller must cope with
 * a failed command, so commands fail fast while Redis is away instead of queueing.
 *
 * Two connections: `client` for commands and `subscriber` for pub/sub (a subscribed connection can run
 * nothing else). The connection counts as up only when both are ready and the subscriber has confirmed
 * its channels, because a replica that cannot hear invalidations must not serve from its cache.
 */
export type RedisState = 'up' | 'down';

export interface RedisLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type MessageHandler = (channel: string, message: string) => void;

/** Reconnect delay: 50 ms, doubling, capped at 2 s, forever (Redis may be down for long; we recover by ourselves). */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 10), 2000);
}

const OPTIONS: RedisOptions = {
  lazyConnect: true,
  // Fail fast while disconnected: a request must never wait for Redis to come back.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  // A Redis that accepts connections but does not answer must not stall requests either.
  commandTimeout: 1000,
  connectTimeout: 2000,
  retryStrategy: reconnectDelay,
  // We resubscribe ourselves on 'ready' and only report up once the subscription is confirmed.
  autoResubscribe: false,
};

export class RedisConnection {
  readonly client: Redis;
  readonly subscriber: Redis;
  private readonly channels = new Set<string>();
  private readonly handlers: MessageHandler[] = [];
  private readonly stateListeners: ((state: RedisState) => void)[] = [];
  private subscribed = false;
  private reported: RedisState | undefined;
  private log: RedisLog | undefined;
  private closing = false;

  constructor(url: string) {
    this.client = new Redis(url, { ...OPTIONS, connectionName: 'authly' });
    this.subscriber = new Redis(url, { ...OPTIONS, connectionName: 'authly-sub' });
    for (const conn of [this.client, this.subscriber]) {
      // ioredis emits 'error' on every failed attempt; the transition below logs once, not per attempt.
      conn.on('error', () => this.update(true));
      conn.on('close', () => {
        if (conn === this.subscriber) this.subscribed = false;
        this.update(true);
      });
      conn.on('ready', () => (conn === this.subscriber ? void this.resubscribe() : this.update()));
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers) handler(channel, message);
    });
  }

  /** True while commands can be expected to succeed and invalidations are being heard. */
  get isUp(): boolean {
    return this.client.status === 'ready' && this.subscriber.status === 'ready' && this.subscribed;
  }

  /** Starts connecting (in the background: a Redis that is down at start-up must not stop Authly). */
  start(log: RedisLog): void {
    this.log = log;
    for (const conn of [this.client, this.subscriber]) conn.connect().catch(() => this.update(true));
  }

  /** Channels to (re)subscribe on every connect; messages go to every handler. */
  subscribe(channel: string, handler?: MessageHandler): void {
    this.channels.add(channel);
    if (handler) this.handlers.push(handler);
    if (this.subscriber.status === 'ready') void this.resubscribe();
  }

  onStateChange(listener: (state: RedisState) => void): void {
    this.stateListeners.push(listener);
  }

  /** Resolves once the reported state is `state` (at once if it already is). */
  waitFor(state: RedisState): Promise<void> {
    if (this.reported === state) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (next: RedisState) => {
        if (next !== state) return;
        this.stateListeners.splice(this.stateListeners.indexOf(listener), 1);
        resolve();
      };
      this.stateListeners.push(listener);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  private async resubscribe(): Promise<void> {
    try {
      if (this.channels.size > 0) await this.subscriber.subscribe(...this.channels);
      this.subscribed = true;
    } catch {
      this.subscribed = false;
    }
    this.update();
  }

  /**
   * One log line per transition (not per request or per reconnect attempt), then the listeners. Before the
   * first success only a failure reports 'down' (one connection being ready before the other is not).
   */
  private update(failed = false): void {
    if (this.closing) return;
    const state: RedisState = this.isUp ? 'up' : 'down';
    if (state === this.reported || (this.reported === undefined && state === 'down' && !failed)) return;
    const first = this.reported === undefined;
    this.reported = state;
    if (state === 'up') this.log?.info({ event: 'redis.up' }, first ? 'redis connected' : 'redis recovered');
    else this.log?.warn({ event: 'redis.down' }, 'redis unavailable: cache bypassed, rate limits per process until it recovers');
    for (const listener of [...this.stateListeners]) listener(state);
  }
}
