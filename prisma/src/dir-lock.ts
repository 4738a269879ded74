/**
 * One process per embedded data directory: PGlite has no locking of its own, and two processes
 * writing the same files corrupt the database. The lock is `<dir>/gridflow.lock` holding the
 * owner's pid; a lock whose process is gone is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock (throws DataDirLockedError if another live process holds it); returns release(). */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'gridflow.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DataDirLockedError(
          `The embedded database in ${dir} is in use by process ${owner}. Stop that process, or ` +
            'give this one its own GRIDFLOW_DATA_DIR (or DATABASE_URL for a shared PostgreSQL).',
        );
      }
      if (owner === process.pid) {
        throw new DataDirLockedError(
          `The embedded database in ${dir} is already open in this process.`,
        );
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new DataDirLockedError(`Could not lock ${dir}`);
}
