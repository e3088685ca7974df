/**
 * The single-process store: one SQLite file (better-sqlite3, WAL, checkpointed off-thread), with
 * the schema and migrations of the event log, market snapshots and trading tables as they have
 * always been, so a data folder written by an earlier version opens as it is. Every method does
 * its work synchronously and returns a settled promise: the single process pays no I/O wait, and
 * `commit` has finished (or failed) by the time it returns.
 */
import type { Logger } from 'pino';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import { Checkpointer } from './checkpointer.js';
import { openDatabase, type Sqlite } from './database.js';
import { EventLog } from './event-log.js';
import { MarketSnapshotStore } from './market-snapshots.js';
import { MarketTradeStore } from './market-trades.js';
import { TradingStore } from './trading-store.js';
import type { ImmediateReads, LoggedEvent, MarketSnapshot, OrderQuery, StepWrite, Store, TradeQuery } from '../store.js';

export class SqliteStore implements Store, ImmediateReads {
  readonly kind = 'sqlite' as const;
  readonly db: Sqlite;
  private readonly events: EventLog;
  private readonly snapshots: MarketSnapshotStore;
  private readonly trading: TradingStore;
  readonly tape: MarketTradeStore;
  private readonly checkpointer: Checkpointer | null;
  private readonly write: (write: StepWrite) => LoggedEvent[];
  private closed = false;

  /** Opens (creating and migrating if needed) `<dataDir>/quantenergx.sqlite`, or an in-memory store for ':memory:'. */
  constructor(dataDir: string, logger: Logger) {
    this.db = openDatabase(dataDir);
    // trading tables are created before the first write, as the earlier versions did
    this.trading = new TradingStore(this.db);
    this.events = new EventLog(this.db);
    this.snapshots = new MarketSnapshotStore(this.db);
    this.tape = new MarketTradeStore(this.db);
    this.checkpointer = dataDir === ':memory:' ? null : new Checkpointer(this.db, this.db.name, logger);
    this.write = this.db.transaction((write: StepWrite): LoggedEvent[] => {
      if (write.journal?.length) this.trading.persist(write.journal);
      const logged: LoggedEvent[] = [];
      for (const e of write.events) {
        const { seq, envelope } = this.events.append(e.stream, e.event, e.createdAt, e.render);
        logged.push({ stream: e.stream, seq, event: e.event, envelope, createdAt: e.createdAt });
      }
      if (write.tape?.length) this.tape.insertAll(write.tape);
      return logged;
    });
  }

  get open(): boolean {
    return this.db.open;
  }

  /** The commit, synchronously: returns the logged events, or throws and has written nothing. */
  commitNow(write: StepWrite): LoggedEvent[] {
    try {
      return this.write(write);
    } catch (err) {
      // rolled back: the cached numbers may be ahead of the file
      this.events.resetCache();
      throw err;
    }
  }

  /** A fence is ignored: a SQLite store belongs to one process, which is always its only writer. */
  commit(write: StepWrite): Promise<LoggedEvent[]> {
    return settle(() => this.commitNow(write));
  }

  /** Written at once (no wait: a local file without a sync per commit), the newer seq winning. */
  saveMarketSnapshots(snapshots: readonly MarketSnapshot[]): Promise<void> {
    return settle(() => this.snapshots.saveAll(snapshots));
  }

  lastSeqNow(stream: string): number {
    return this.events.lastSeq(stream);
  }

  readEventsNow(stream: string, afterSeq: number, limit: number): LoggedEvent[] {
    return this.events.read(stream, afterSeq, limit);
  }

  readEvents(stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    return settle(() => this.events.read(stream, afterSeq, limit));
  }

  lastSeq(stream: string): Promise<number> {
    return settle(() => this.events.lastSeq(stream));
  }

  pruneEvents(cutoffMs: number): Promise<number> {
    return settle(() => this.events.prune(cutoffMs));
  }

  loadForRestore(): Promise<JournalRecord[]> {
    return settle(() => this.trading.loadForRestore());
  }

  loadMarketSnapshots(): Promise<MarketSnapshot[]> {
    return settle(() => this.snapshots.loadAll());
  }

  order(id: string): Promise<OrderRecord | null> {
    return settle(() => this.trading.order(id));
  }

  orders(q: OrderQuery): Promise<OrderRecord[]> {
    return settle(() => this.trading.orders(q));
  }

  trades(q: TradeQuery): Promise<TradeRecord[]> {
    return settle(() => this.trading.trades(q));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.checkpointer?.close();
    this.db.close();
  }
}

/** Runs `fn` now; its result or its error as a settled promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
