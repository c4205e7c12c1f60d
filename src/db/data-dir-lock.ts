import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataDirectoryInUse } from '../errors/startup-errors.js';

/**
 * One process at a time on an embedded (PGlite) data directory: PGlite is a single-process database, and
 * a second server writing the same files corrupts them. The lock is `<data dir>/pglite.lock` holding the
 * owner's pid. It is created exclusively: the pid is written to a file of this process's own first, then
 * hard-linked into place, which fails with EEXIST like O_EXCL (`wx`) but never shows another process an
 * empty lock file between its creation and the write of the pid.
 *
 * A lock whose pid is no longer alive (a crash, a kill -9) is stale and taken over. So is a lock naming
 * this very pid: a container restarted on the same volume runs as the same pid (often 1), and this process
 * has not taken the lock yet. The lock is advisory and local: it cannot see a process on another host
 * sharing the directory over a network file system.
 */
export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still this process's. */
  release(): void;
}

export const LOCK_FILE_NAME = 'pglite.lock';

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock file; undefined when the file is gone or does not hold one. */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock on `dataDir` or throws DataDirectoryInUse naming the live owner. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE_NAME);
  const pending = path.join(dataDir, `${LOCK_FILE_NAME}.${process.pid}`);
  writeFileSync(pending, `${process.pid}\n`);
  try {
    // A few rounds: each one either takes the lock, finds a live owner, or removes a stale lock.
    for (let round = 0; round < 5; round++) {
      try {
        linkSync(pending, file);
        return { file, release: () => release(file) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = ownerOf(file);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirectoryInUse(dataDir, owner);
      // Stale (or unreadable, which only a crash mid-write of an older version could leave): read again
      // just before removing, so a lock another starting server has just taken is not removed.
      if (ownerOf(file) === owner) rmSync(file, { force: true });
    }
    throw new DataDirectoryInUse(dataDir, ownerOf(file) ?? 0);
  } finally {
    rmSync(pending, { force: true });
  }
}

function release(file: string): void {
  if (ownerOf(file) !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone: nothing to release.
  }
}
