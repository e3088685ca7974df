/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold and, with synchronous=NORMAL, syncs the database file there: a 5–10 ms
 * stall of the event loop, every thousand pages. Here a second connection on its own thread
 * checkpoints (PASSIVE: it never blocks the writer) every second instead. Should the worker die,
 * automatic checkpoints are switched back on, so the WAL cannot grow without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Sqlite } from './database.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = (mode) => {
  try { db.pragma('wal_checkpoint(' + mode + ')'); } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
};
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint('PASSIVE');
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private closed = false;

  constructor(
    private readonly db: Sqlite,
    file: string,
    logger: Logger,
    intervalMs = 1000,
  ) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file, intervalMs } });
    this.worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    this.worker.on('message', (message: unknown) => logger.warn({ message }, 'WAL checkpoint failed'));
    const fallBack = (reason: unknown) => {
      if (this.closed) return;
      logger.error({ reason }, 'WAL checkpointer stopped: back to automatic checkpoints');
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    };
    this.worker.on('error', fallBack);
    this.worker.on('exit', fallBack);
  }

  /** Stops the worker after a last checkpoint. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // held referenced while closing, so the process waits for the last checkpoint
    this.worker.ref();
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}
