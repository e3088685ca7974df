/**
 * The public tape, durable: every trade (simulated agents' included) with its price, size and
 * aggressor side, numbered per commodity. It feeds `market-trade` and the candles endpoint, so
 * charts keep their history across restarts. Prices are the engine's integer ticks.
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
 * The tape as the trading core and the routes use it: SQLite (one process, synchronous) or
 * PostgreSQL (a cluster: the engine leader writes, every gateway reads candles).
 */
export interface TapeStore {
  /** numbers the prints per commodity and stores them (in call order); on a throw or rejection nothing is numbered */
  append(prints: readonly MarketPrint[]): TapeEntry[] | Promise<TapeEntry[]>;
  reloadSeqs(): void | Promise<void>;
  candles(commodity: string, intervalMs: number, from: number, to: number, limit: number): TickCandle[] | Promise<TickCandle[]>;
  prune(beforeMs: number): number | Promise<number>;
}

export class MarketTradeStore implements TapeStore {
  private readonly insert;
  private readonly bucketed;
  private readonly deleteBefore;
  private readonly seqs = new Map<string, number>();

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
    for (const r of db.prepare<[], { commodity: string; seq: number }>('SELECT commodity, MAX(seq) AS seq FROM market_trades GROUP BY commodity').all()) {
      this.seqs.set(r.commodity, r.seq);
    }
  }

  /** Stores prints in one transaction and numbers them per commodity (nothing stored or numbered on a throw). */
  append(prints: readonly MarketPrint[]): TapeEntry[] {
    const out: TapeEntry[] = [];
    const next = new Map<string, number>();
    this.db.transaction(() => {
      for (const p of prints) {
        const tapeSeq = (next.get(p.commodity) ?? this.seqs.get(p.commodity) ?? 0) + 1;
        this.insert.run(p.commodity, tapeSeq, p.id, p.priceTicks, p.quantity, p.aggressor, p.executedAt);
        next.set(p.commodity, tapeSeq);
        out.push({ ...p, tapeSeq });
      }
    })();
    for (const [commodity, seq] of next) this.seqs.set(commodity, seq);
    return out;
  }

  /** Reads the numbering back from the table. */
  reloadSeqs(): void {
    this.seqs.clear();
    for (const r of this.db.prepare<[], { commodity: string; seq: number }>('SELECT commodity, MAX(seq) AS seq FROM market_trades GROUP BY commodity').all()) {
      this.seqs.set(r.commodity, r.seq);
    }
  }

  lastSeq(commodity: string): number {
    return this.seqs.get(commodity) ?? 0;
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
