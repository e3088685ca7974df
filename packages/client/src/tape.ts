/**
 * Pure helpers over the public tape (`market-trade`): a time & sales list, newest first, and
 * OHLC candles kept current trade by trade (the candles endpoint gives the history; each live
 * trade moves the last candle or opens the next one).
 */
import type { MarketTrade } from '@qx/protocol/wire';

/** Adds a trade to a newest-first tape, once (by trade id), keeping at most `limit`. */
export function addToTape(tape: readonly MarketTrade[], trade: MarketTrade, limit = 200): MarketTrade[] {
  if (tape.some((t) => t.tradeId === trade.tradeId && t.commodity === trade.commodity)) return tape as MarketTrade[];
  const at = tape.findIndex((t) => Date.parse(t.time) <= Date.parse(trade.time));
  const next = tape.slice();
  next.splice(at < 0 ? next.length : at, 0, trade);
  return next.slice(0, limit);
}

/** One candle; `time` is the interval's start in epoch ms (UTC-aligned). */
export interface CandleBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** The start of the `intervalMs` bucket that `at` (epoch ms) falls in. */
export function bucketStart(at: number, intervalMs: number): number {
  return Math.floor(at / intervalMs) * intervalMs;
}

/**
 * Applies a trade to candles sorted by time: it moves its bucket's candle (high, low, close,
 * volume) or opens a new one. A trade older than the last candle's bucket is folded into its own
 * bucket when held, otherwise ignored (history belongs to the candles endpoint).
 * Returns the candles (a new array when something changed) and the bar that changed.
 */
export function applyTradeToCandles(candles: readonly CandleBar[], trade: Pick<MarketTrade, 'price' | 'quantity' | 'time'>, intervalMs: number): { candles: CandleBar[]; bar: CandleBar | null } {
  const start = bucketStart(Date.parse(trade.time), intervalMs);
  if (!Number.isFinite(start)) return { candles: candles as CandleBar[], bar: null };
  const last = candles.at(-1);
  if (!last || start > last.time) {
    const bar = { time: start, open: trade.price, high: trade.price, low: trade.price, close: trade.price, volume: trade.quantity };
    return { candles: [...candles, bar], bar };
  }
  const at = candles.findIndex((c) => c.time === start);
  if (at < 0) return { candles: candles as CandleBar[], bar: null };
  const held = candles[at]!;
  const bar: CandleBar = {
    time: held.time,
    open: held.open,
    high: Math.max(held.high, trade.price),
    low: Math.min(held.low, trade.price),
    // only the newest bucket's close follows a late trade of an older one
    close: at === candles.length - 1 ? trade.price : held.close,
    volume: held.volume + trade.quantity,
  };
  const next = candles.slice();
  next[at] = bar;
  return { candles: next, bar };
}
