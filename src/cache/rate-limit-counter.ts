import type { RedisConnection } from '../db/redis-connection.js';

/**
 * Fixed-window request counters for the rate-limit policies (src/plugins/rate-limit.ts). With Redis they
 * are shared by every replica; while Redis is down (or without it) each process counts for itself, so a
 * limit still holds per process instead of silently vanishing.
 */
export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  current: number;
  /** Milliseconds until the window resets. */
  ttlMs: number;
}

export interface WindowCounter {
  incr(key: string, windowMs: number): Promise<WindowCount>;
}

/** In-process counters, bounded in memory: expired windows are swept, and the oldest go first when full. */
export class LocalWindowCounter implements WindowCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly maxKeys = 100_000) {}

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    return this.incrSync(key, windowMs);
  }

  incrSync(key: string, windowMs: number, now = Date.now()): WindowCount {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (!window && this.windows.size >= this.maxKeys) this.makeRoom(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { current: window.count, ttlMs: window.resetAt - now };
  }

  get size(): number {
    return this.windows.size;
  }

  private makeRoom(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
  }
}

// INCR, and start the window on the first request (or if a key somehow lost its expiry).
const INCR_WINDOW = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

/** Counters in Redis, shared by all replicas; throws when Redis does not answer. */
export class RedisWindowCounter implements WindowCounter {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    const [current, ttl] = (await this.redis.client.eval(INCR_WINDOW, 1, `${this.prefix}rl:${key}`, String(windowMs))) as [number, number];
    return { current, ttlMs: ttl };
  }
}

/** Redis while it is up, the per-process counter otherwise (and for any command that fails). */
export class FallbackWindowCounter implements WindowCounter {
  constructor(
    private readonly local: LocalWindowCounter,
    private readonly shared: RedisWindowCounter | undefined,
    private readonly redis: RedisConnection | undefined,
  ) {}

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    if (this.shared && this.redis?.isUp) {
      try {
        return await this.shared.incr(key, windowMs);
      } catch {
        // Fall through: Redis went away mid-request.
      }
    }
    return this.local.incrSync(key, windowMs);
  }
}
