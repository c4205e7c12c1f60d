import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir, LOCK_FILE_NAME } from '../../../src/db/data-dir-lock.js';
import { DataDirectoryInUse } from '../../../src/errors/startup-errors.js';

/** The pid of a process that has exited (and so is not alive, barring reuse within this test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

describe('data directory lock (one process per embedded data directory)', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'authly-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the pid into <data dir>/pglite.lock and removes it on release, leaving nothing else', () => {
    const dir = newDir();
    const lock = lockDataDir(path.join(dir, 'not-yet-created'));
    expect(lock.file).toBe(path.join(dir, 'not-yet-created', LOCK_FILE_NAME));
    expect(readFileSync(lock.file, 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(path.join(dir, 'not-yet-created'))).toEqual([LOCK_FILE_NAME]);
    lock.release();
    expect(readdirSync(path.join(dir, 'not-yet-created'))).toEqual([]);
    lock.release(); // twice: nothing to do
  });

  it('refuses a directory whose lock names a live process, naming its pid', () => {
    const dir = newDir();
    // The parent of this test process is alive and is not this process.
    writeFileSync(path.join(dir, LOCK_FILE_NAME), `${process.ppid}\n`);
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataDirectoryInUse);
    expect((error as Error).message).toBe(`data directory in use by pid ${process.ppid}: ${dir} (stop that process, or set AUTHLY_DATA_DIR to another directory)`);
    // The live owner's lock is left alone.
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe(`${process.ppid}\n`);
    expect(readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
  });

  it.each([
    ['a process that has exited', () => `${deadPid()}\n`],
    ['this very pid (a container restarted on the same volume)', () => `${process.pid}\n`],
    ['no pid at all', () => ''],
  ])('takes over a stale lock naming %s', (_case, content) => {
    const dir = newDir();
    writeFileSync(path.join(dir, LOCK_FILE_NAME), content());
    const lock = lockDataDir(dir);
    expect(readFileSync(lock.file, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it('release leaves a lock that is no longer this process’s', () => {
    const dir = newDir();
    const lock = lockDataDir(dir);
    writeFileSync(lock.file, `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(lock.file, 'utf8')).toBe(`${process.ppid}\n`);
  });
});
