/**
 * The public tape in PostgreSQL (cluster mode): the engine leader appends each step's prints after
 * the step is committed, numbered per commodity from the table's own maximum (read when it starts
 * leading); gateways read candles from it. Same shape as the SQLite tape (store/market-trades.ts).
 */
import type pg from 'pg';
import type { MarketPrint } from '@qx/engine';
import type { TapeEntry, TapeStore, TickCandle } from './market-trades.js';

export class PgMarketTrades implements TapeStore {
  private readonly seqs = new Map<string, number>();
  /** appends run one after another, so their inserts commit in numbering order */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly pool: pg.Pool) {}

  /** Reads where each commodity's numbering stands (the engine leader, before it trades). */
  async reloadSeqs(): Promise<void> {
    const { rows } = await this.pool.query<{ commodity: string; seq: number }>('SELECT commodity, MAX(seq) AS seq FROM market_trades GROUP BY commodity');
    this.seqs.clear();
    for (const r of rows) this.seqs.set(r.commodity, Number(r.seq));
  }

  append(prints: readonly MarketPrint[]): Promise<TapeEntry[]> {
    const out: TapeEntry[] = [];
    const next = new Map<string, number>();
    for (const p of prints) {
      const tapeSeq = (next.get(p.commodity) ?? this.seqs.get(p.commodity) ?? 0) + 1;
      next.set(p.commodity, tapeSeq);
      out.push({ ...p, tapeSeq });
    }
    // numbered now (the next append continues from here); stored in order
    for (const [commodity, seq] of next) this.seqs.set(commodity, seq);
    const insert = this.tail.then(async () => {
      if (out.length === 0) return out;
      const values: unknown[] = [];
      const rows = out.map((e, i) => {
        values.push(e.commodity, e.tapeSeq, e.id, e.priceTicks, e.quantity, e.aggressor, e.executedAt);
        const b = i * 7;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
      });
      await this.pool.query(`INSERT INTO market_trades (commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at) VALUES ${rows.join(', ')}`, values);
      return out;
    });
    this.tail = insert.catch(() => undefined);
    return insert;
  }

  async candles(commodity: string, intervalMs: number, from: number, to: number, limit: number): Promise<TickCandle[]> {
    // open and close: the first and last trade of each bucket in tape order
    const { rows } = await this.pool.query<{ b: number; low: number; high: number; volume: number; trades: number; open: number; close: number }>(
      `SELECT executed_at / $1::bigint AS b, MIN(price_ticks) AS low, MAX(price_ticks) AS high, SUM(quantity)::bigint AS volume, COUNT(*) AS trades,
              (array_agg(price_ticks ORDER BY seq))[1] AS open, (array_agg(price_ticks ORDER BY seq DESC))[1] AS close
         FROM market_trades WHERE commodity = $2 AND executed_at >= $3 AND executed_at < $4
        GROUP BY b ORDER BY b DESC LIMIT $5`,
      [intervalMs, commodity, from, to, limit],
    );
    return rows.reverse().map((r) => ({
      start: Number(r.b) * intervalMs,
      open: Number(r.open),
      high: Number(r.high),
      low: Number(r.low),
      close: Number(r.close),
      volume: Number(r.volume),
      trades: Number(r.trades),
    }));
  }

  async prune(beforeMs: number): Promise<number> {
    const result = await this.pool.query('DELETE FROM market_trades WHERE executed_at < $1', [beforeMs]);
    return result.rowCount ?? 0;
  }
}
