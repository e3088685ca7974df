/**
 * The public tape in PostgreSQL (cluster mode): the engine leader stores each step's prints in
 * the step's transaction (PgStore.commit: fenced by its term), numbered per commodity by the
 * trading core from the table's own maximum (read when it starts leading); gateways read candles
 * and missed prints from it. Same shape as the SQLite tape (store/market-trades.ts).
 */
import type pg from 'pg';
import { entryOfRow, type TapeEntry, type TapeStore, type TickCandle } from '../tape.js';

export class PgMarketTrades implements TapeStore {
  constructor(private readonly pool: pg.Pool) {}

  async lastSeqs(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ commodity: string; seq: number }>('SELECT commodity, MAX(seq) AS seq FROM market_trades GROUP BY commodity');
    return new Map(rows.map((r) => [r.commodity, Number(r.seq)]));
  }

  async lastSeq(commodity: string): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM market_trades WHERE commodity = $1', [commodity]);
    return Number(rows[0]?.seq ?? 0);
  }

  async read(commodity: string, afterSeq: number, limit: number): Promise<TapeEntry[]> {
    const { rows } = await this.pool.query<Parameters<typeof entryOfRow>[0]>(
      'SELECT commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at FROM market_trades WHERE commodity = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [commodity, afterSeq, limit],
    );
    return rows.map(entryOfRow);
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
