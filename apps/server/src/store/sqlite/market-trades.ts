/** The public tape in the SQLite file (see store/tape.ts), beside the event log: one transaction with the step. */
import { migrate, type Sqlite } from './database.js';
import { entryOfRow, type PrintRow, type TapeEntry, type TapeStore, type TickCandle } from '../tape.js';

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
