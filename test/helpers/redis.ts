import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Db } from '../../src/db/db.js';
import { TEST_ISSUER } from './test-app.js';

/** A Redis key prefix no other test (or test run) uses. */
export function uniqueRedisPrefix(): string {
  return `authly-test:${randomBytes(6).toString('hex')}:`;
}

export interface Replica {
  app: FastifyInstance;
  logs: string[];
}

/**
 * One Authly instance over an existing database: several of them over the same Db are replicas of one
 * deployment (same schema, same signing keys, same Redis when REDIS_URL is given).
 */
export async function startReplica(db: Db, env: Record<string, string>): Promise<Replica> {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    DEFAULT_ISSUER_URL: TEST_ISSUER,
    LOG_LEVEL: 'info',
    AUTHLY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'authly-replica-')),
    JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters',
    AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
    CLEANUP_INTERVAL_MINUTES: '0',
    // The mail worker is off unless a test asks for it (test/http/mail/): queued mail stays in the outbox.
    MAIL_WORKER_ENABLED: 'false',
    ...env,
  });
  const app = await buildApp(config, { db, logStream });
  await app.ready();
  return { app, logs };
}

/** The value of one Prometheus sample from /metrics (undefined when the series is absent). */
export async function metricValue(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Log lines (parsed) whose `event` is `event`. */
export function logEvents(logs: string[], event: string): Record<string, unknown>[] {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);
}

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** Kills the server and resolves once it has exited. */
  stop(): Promise<void>;
}

/** A throw-away redis-server on `port` (no persistence); resolves once it accepts connections. */
export async function startRedisServer(port: number): Promise<RedisServer> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.once('error', reject);
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
