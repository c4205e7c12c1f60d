#!/usr/bin/env node
// Compiles src/ to dist/ (tsc -p tsconfig.build.json) only when something the build reads is newer than
// dist/.build-stamp, so `npm start` and `npm run authly -- …` do not pay 5-12 s of tsc on every call
// (issue 14 §4). `prestart`, `authly` and `prepare` (after `npm ci` / `npm install`) run it.
// Usage: node scripts/build-if-stale.mjs [--root DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const STAMP = path.join('dist', '.build-stamp');

/** The newest modification time (ms) under `dir`; directories count too, so a deleted file shows. */
function newestUnder(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The first input newer than the stamp (why a build is needed), or undefined when dist/ is current. */
export function staleBecause(root) {
  const stamp = path.join(root, STAMP);
  if (!existsSync(stamp)) return `no ${STAMP}`;
  const built = statSync(stamp).mtimeMs;
  const inputs = readdirSync(root).filter((name) => /^tsconfig.*\.json$/.test(name) || name === 'package.json');
  for (const name of inputs) if (statSync(path.join(root, name)).mtimeMs > built) return `${name} changed`;
  if (newestUnder(path.join(root, 'src')) > built) return 'src/ changed';
  return undefined;
}

/** Runs this repository's TypeScript compiler in `root`; its exit status. */
function tsc(root) {
  // Not require.resolve: typescript's package exports do not include bin/tsc.
  const bin = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  return spawnSync(process.execPath, [bin, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' }).status ?? 1;
}

/**
 * Builds when stale; returns `{ built, reason, status }`. The stamp gets the time the build *started*, so a
 * source saved while tsc runs still counts as newer next time. A failed build writes no stamp.
 */
export function buildIfStale(root, { log = () => {} } = {}) {
  const reason = staleBecause(root);
  if (!reason) return { built: false, status: 0 };
  log(`build-if-stale: ${reason}; compiling (tsc -p tsconfig.build.json)\n`);
  const started = new Date();
  const status = tsc(root);
  if (status !== 0) return { built: false, reason, status };
  const stamp = path.join(root, STAMP);
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  return { built: true, reason, status };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--root');
  const root = path.resolve(at === -1 ? path.join(path.dirname(fileURLToPath(import.meta.url)), '..') : args[at + 1] ?? '.');
  // The note goes to stderr: `npm run authly -- … --json` keeps stdout for the command's output.
  const { status } = buildIfStale(root, { log: (line) => process.stderr.write(line) });
  process.exitCode = status;
}
