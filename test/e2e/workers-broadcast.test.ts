import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartDelayMs } from '../../src/cluster.js';
import { buildServer, logFields, spawnServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * The cluster primary's message relay (src/cluster.ts), with the compiled primary and three stand-in
 * workers that serve nothing: a `{ type: 'authly:broadcast' }` message from one worker reaches every other
 * worker and not its sender; other messages are not relayed; the primary ends with 0 once its workers
 * have exited, in whichever order node:cluster reports their exit and disconnect. No database involved,
 * so it runs everywhere.
 */
const HARNESS = `
import cluster from 'node:cluster';
import { spawn } from 'node:child_process';
import { runPrimary } from './dist/cluster.js';
const out = (fields) => process.stdout.write(JSON.stringify({ pid: process.pid, ...fields }) + '\\n');
if (cluster.isPrimary) {
  const code = await runPrimary({ workers: Number(process.env.WORKERS), shutdownTimeoutSeconds: 5, log: (level, msg, fields) => out({ level, msg, ...fields }) });
  process.exit(code);
} else {
  process.on('message', (message) => out({ msg: 'received', message }));
  process.on('SIGUSR2', () => {
    process.send({ type: 'not-a-broadcast', n: 1 });
    process.send({ type: 'authly:broadcast', event: 'cache.invalidate', key: 'client:abc' });
  });
  process.on('SIGTERM', () => {
    // fd 3 is the worker's IPC channel; a process that holds it for a second makes the primary see
    // this worker's exit before its disconnect.
    if (process.env.LINGERING_CHANNEL) spawn('sleep', ['1'], { stdio: ['ignore', 'ignore', 'ignore', 3] });
    process.exit(0);
  });
  setInterval(() => {}, 1000);
  out({ msg: 'worker up' });
}
`;

describe('cluster primary: broadcast relay', () => {
  let build: ReturnType<typeof buildServer>;
  const started: ServerProcess[] = [];
  const start = (env: Record<string, string>) => {
    const harness = spawnServer(path.join(build.dir, 'harness.mjs'), env);
    started.push(harness);
    return harness;
  };

  beforeAll(() => {
    build = buildServer();
    writeFileSync(path.join(build.dir, 'harness.mjs'), HARNESS);
  }, 120_000);
  afterAll(async () => {
    for (const harness of started) {
      if (harness.child.exitCode === null) harness.child.kill('SIGKILL');
      await harness.exited;
    }
    build.cleanup();
  });

  it('relays authly:broadcast messages to every other worker only', async () => {
    const harness = start({ WORKERS: '3' });
    const up = () => harness.lines.map(logFields).filter((f) => f?.msg === 'worker up');
    await harness.waitForLine(() => up().length === 3);
    const [sender, ...others] = up().map((f) => f!.pid as number);
    process.kill(sender!, 'SIGUSR2');
    const received = () => harness.lines.map(logFields).filter((f) => f?.msg === 'received');
    await harness.waitForLine(() => received().length >= 2);

    harness.child.kill('SIGTERM');
    expect(await harness.exited).toEqual({ code: 0, signal: null });
    expect(received().map((f) => f!.pid).sort()).toEqual([...others].sort());
    for (const f of received()) expect(f!.message).toEqual({ type: 'authly:broadcast', event: 'cache.invalidate', key: 'client:abc' });
  }, 60_000);

  it("ends with 0 when a worker's exit is reported before its channel closes", async () => {
    // node:cluster keeps such a worker in cluster.workers until the disconnect; a primary that waited for
    // that list to empty never settled, and node ended it with 13 (unsettled top-level await).
    const harness = start({ WORKERS: '1', LINGERING_CHANNEL: '1' });
    await harness.waitForLine((line) => logFields(line)?.msg === 'worker up');
    harness.child.kill('SIGTERM');
    expect(await harness.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe('worker restart back-off', () => {
  it('starts at 0.5 s, doubles, and stops at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(restartDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});
