/**
 * The public tape, durable: every trade (simulated agents' included) with its price, size and
 * aggressor side, numbered per commodity by the trading core and stored in its step's
 * transaction. It feeds `market-trade` (a gateway that missed prints reads them back by seq) and
 * the candles endpoint, so charts keep their history across restarts. Prices are integer ticks.
 */
import type { MarketPrint } from '@qx/engine';
import { migrate, type Sqlite } from './database.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE market_trades (
     id          INTEGER PRIMARY KEY,
     commodity   TEXT    NOT NULL,
     seq         INTEGER NOT NULL,
     trade_id    TEXT    NOT NULL,
     price_ticks INTEGER NOT NULL,
     quantity    INTEGER NOT NULL,
     aggressor   TEXT    NOT NULL,
     executed_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX market_trades_seq ON market_trades (commodity, seq);
   CREATE INDEX market_trades_time ON market_trades (commodity, executed_at);`,
];

/** A print as stored: numbered in its commodity's tape. */
export interface TapeEntry extends MarketPrint {
  tapeSeq: number;
}

/** One candle in ticks and units: `start` is the bucket's first ms (UTC-aligned). */
export interface TickCandle {
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

/**
 * The tape's read side, as the trading core and the routes use it: SQLite (one process,
 * synchronous) or PostgreSQL (a cluster: the engine leader writes, every gateway reads). Prints
 * are written by the store's `commit`, with the step they come from.
 */
export interface TapeStore {
  /** the last seq of each commodity's tape (the trading core numbers on from it) */
  lastSeqs(): Promise<Map<string, number>>;
  lastSeq(commodity: string): Promise<number>;
  /** a commodity's prints after `afterSeq`, oldest first, at most `limit` */
  read(commodity: string, afterSeq: number, limit: number): Promise<TapeEntry[]>;
  candles(commodity: string, intervalMs: number, from: number, to: number, limit: number): TickCandle[] | Promise<TickCandle[]>;
  prune(beforeMs: number): number | Promise<number>;
}

export interface PrintRow {
  commodity: string;
  seq: number;
  trade_id: string;
  price_ticks: number;
  quantity: number;
  aggressor: 'buy' | 'sell';
  executed_at: number;
}

/** A stored row as the tape entry it was (the trade id's sequence is its number after `trd-`). */
export function entryOfRow(r: PrintRow): TapeEntry {
  const m = /(\d+)$/.exec(r.trade_id);
  return { id: r.trade_id, seq: m ? Number(m[1]) : 0, commodity: r.commodity, priceTicks: r.price_ticks, quantity: r.quantity, aggressor: r.aggressor, executedAt: r.executed_at, tapeSeq: r.seq };
}

export class MarketTradeStore implements TapeStore {
  private readonly insert;
  private readonly bucketed;
  private readonly deleteBefore;
  private readonly selectAfter;
  private readonly selectLast;

  constructor(private readonly db: Sqlite) {
    migrate(db, 'market-trades', MIGRATIONS);
    this.insert = db.prepare(
      'INSERT INTO market_trades (commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    // the first and last trade of each bucket by rowid (insertion order = time order)
    this.bucketed = db.prepare<[number, string, number, number, number], { b: number; low: number; high: number; volume: number; trades: number; open: number; close: number }>(
      `SELECT g.b AS b, g.low AS low, g.high AS high, g.volume AS volume, g.trades AS trades, f.price_ticks AS open, l.price_ticks AS close
         FROM (SELECT executed_at / CAST(? AS INTEGER) AS b, MIN(price_ticks) AS low, MAX(price_ticks) AS high, SUM(quantity) AS volume,
                      COUNT(*) AS trades, MIN(id) AS first_id, MAX(id) AS last_id
                 FROM market_trades WHERE commodity = ? AND executed_at >= ? AND executed_at < ?
                GROUP BY b ORDER BY b DESC LIMIT ?) g
         JOIN market_trades f ON f.id = g.first_id
         JOIN market_trades l ON l.id = g.last_id
        ORDER BY g.b`,
    );
    this.deleteBefore = db.prepare('DELETE FROM market_trades WHERE executed_at < ?');
    this.selectLast = db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM market_trades WHERE commodity = ?');
    this.selectAfter = db.prepare<[string, number, number], PrintRow>(
      'SELECT commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at FROM market_trades WHERE commodity = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
  }

  /** Stores numbered prints; inside the caller's transaction (the step's commit). */
  insertAll(entries: readonly TapeEntry[]): void {
    for (const e of entries) this.insert.run(e.commodity, e.tapeSeq, e.id, e.priceTicks, e.quantity, e.aggressor, e.executedAt);
  }

  lastSeqs(): Promise<Map<string, number>> {
    const rows = this.db.prepare<[], { commodity: string; seq: number }>('SELECT commodity, MAX(seq) AS seq FROM market_trades GROUP BY commodity').all();
    return Promise.resolve(new Map(rows.map((r) => [r.commodity, r.seq])));
  }

  lastSeq(commodity: string): Promise<number> {
    return Promise.resolve(this.selectLast.get(commodity)?.seq ?? 0);
  }

  read(commodity: string, afterSeq: number, limit: number): Promise<TapeEntry[]> {
    return Promise.resolve(this.selectAfter.all(commodity, afterSeq, limit).map(entryOfRow));
  }

  /** OHLC + volume per `intervalMs` bucket in [from, to), oldest first; at most the latest `limit` buckets. */
  candles(commodity: string, intervalMs: number, from: number, to: number, limit: number): TickCandle[] {
    return this.bucketed.all(intervalMs, commodity, from, to, limit).map((r) => ({
      start: r.b * intervalMs,
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: r.volume,
      trades: r.trades,
    }));
  }

  prune(beforeMs: number): number {
    return this.deleteBefore.run(beforeMs).changes;
  }
}
