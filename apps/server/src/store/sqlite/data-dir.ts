/**
 * The data folder at start: it must be a writable directory, and only one server may use it at a
 * time. The lock is an exclusive SQLite lock on `DATA_DIR/quantenergx.lock`, held for the life of
 * the process: the operating system drops it when the process dies (even by kill -9), so a crash
 * never leaves a stale lock behind, and a second server on the same folder — in another process or
 * in the same one — cannot take it.
 */
import BetterSqlite3 from 'better-sqlite3';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StartupError } from '../../startup-error.js';

export const LOCK_FILE = 'quantenergx.lock';

export interface DataDirLock {
  release(): void;
}

/** Checks that `dataDir` is a writable directory (creating it if needed) and locks it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const where = resolve(dataDir);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw dataDirError(dataDir, err);
  }
  if (!statSync(dataDir).isDirectory()) throw new StartupError('DATA_DIR', `${where} is not a directory`);
  try {
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw dataDirError(dataDir, err);
  }
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(join(dataDir, LOCK_FILE), { timeout: 0 });
  } catch (err) {
    throw dataDirError(dataDir, err);
  }
  try {
    // in exclusive locking mode the write lock taken by the first write is kept until close
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, started_at INTEGER NOT NULL)');
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, started_at) VALUES (1, ?, ?)').run(process.pid, Date.now());
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new StartupError('DATA_DIR', `${where} is in use by another running server (it holds ${LOCK_FILE}); stop it or give this one its own DATA_DIR`);
    }
    throw dataDirError(dataDir, err);
  }
  return {
    release() {
      if (db.open) db.close();
    },
  };
}

/** Says which problem a failure to create, open or write the data folder is, naming DATA_DIR. */
export function dataDirError(dataDir: string, err: unknown): StartupError {
  const where = resolve(dataDir);
  const code = (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return new StartupError('DATA_DIR', `${where}: the disk is full (${text})`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
      return new StartupError('DATA_DIR', `${where} cannot be written: ${text}`);
    case 'ENOTDIR':
    case 'EEXIST':
      return new StartupError('DATA_DIR', `${where} is not a directory (a file is in the way): ${text}`);
    default:
      return new StartupError('DATA_DIR', `${where} cannot be used: ${text}`);
  }
}
