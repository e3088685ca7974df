/**
 * The public tape: every trade (simulated agents' included) with its price, size and aggressor
 * side, numbered per commodity by the trading core and stored in its step's transaction (the
 * store's `commit`). It feeds `market-trade` (a gateway that missed prints reads them back by seq)
 * and the candles endpoint, so charts keep their history across restarts. Prices are integer ticks.
 */
import type { MarketPrint } from '@qx/engine';

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

