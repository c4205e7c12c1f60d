// Servers under test run as their own processes, never inside the load generator: this spawns one,
// sends its output to a log file, waits until it answers, and can read its resident size.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, readFileSync, closeSync } from 'node:fs';

export async function freePort() {
  const probe = createServer();
  await new Promise((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resident set size in MiB of a process and its children (cluster workers), from /proc (Linux). */
export function rssMiB(pid) {
  const one = (p) => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return kb ? Number(kb[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  const children = (p) => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const all = [pid, ...children(pid)];
  return { total: Math.round(all.reduce((s, p) => s + one(p), 0)), perProcess: all.map((p) => Math.round(one(p))) };
}

export function startChild(name, args, env, logFile) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  return {
    name,
    pid: child.pid,
    logFile,
    exited: () => exited,
    /** Polls `url` until it answers 200, failing early if the process died. */
    async waitReady(url, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exited) throw new Error(`${name} exited (${JSON.stringify(exited)}); log:\n${tail(logFile)}`);
        try {
          const res = await fetch(url);
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${name} did not become ready at ${url}; log:\n${tail(logFile)}`);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

export function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
