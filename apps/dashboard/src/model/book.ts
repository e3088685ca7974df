/** Order book depth as drawn: cumulative size per level (for the depth bars) and the spread. */
import type { Book, BookLevel } from './types.js';

export interface DepthRow extends BookLevel {
  cumulative: number;
  /** cumulative size as a share of the deeper side's total (0..1), the bar's width */
  share: number;
}

export interface Depth {
  bids: DepthRow[];
  /** best ask last, so the two sides meet in the middle of the ladder */
  asks: DepthRow[];
  spread: number | null;
  mid: number | null;
}

function accumulate(levels: readonly BookLevel[]): { price: number; quantity: number; orders: number; cumulative: number }[] {
  let total = 0;
  return levels.map((l) => {
    total += l.quantity;
    return { ...l, cumulative: total };
  });
}

export function depth(book: Book | null, tickSize: number): Depth {
  if (!book) return { bids: [], asks: [], spread: null, mid: null };
  const bids = accumulate(book.bids);
  const asks = accumulate(book.asks);
  const max = Math.max(bids.at(-1)?.cumulative ?? 0, asks.at(-1)?.cumulative ?? 0, 1);
  const withShare = (r: (typeof bids)[number]): DepthRow => ({ ...r, share: r.cumulative / max });
  const bestBid = book.bids[0]?.price;
  const bestAsk = book.asks[0]?.price;
  const both = bestBid !== undefined && bestAsk !== undefined;
  // on the tick grid, so rounding to the grid removes float noise (75.31 − 75.3 = 0.00999…)
  const onGrid = (v: number) => Math.round(v / (tickSize / 2)) * (tickSize / 2);
  return {
    bids: bids.map(withShare),
    asks: asks.map(withShare).reverse(),
    spread: both ? Number(onGrid(bestAsk - bestBid).toFixed(10)) : null,
    mid: both ? Number(onGrid((bestAsk + bestBid) / 2).toFixed(10)) : null,
  };
}

/**
 * My working orders' remaining size per price level of one commodity (keyed by whole ticks, so a
 * level's price and an order's price meet exactly), for marking them in the book.
 */
export function myLevels(orders: readonly { commodity?: string; status: string; type?: string; price?: number | null; remainingQuantity: number; side?: string }[], commodity: string, tickSize: number): Map<string, number> {
  const mine = new Map<string, number>();
  for (const o of orders) {
    if (o.commodity !== commodity || o.type !== 'limit' || o.price === null || o.price === undefined) continue;
    if (o.status !== 'new' && o.status !== 'partially_filled') continue;
    const key = levelKey(o.side === 'sell' ? 'ask' : 'bid', o.price, tickSize);
    mine.set(key, (mine.get(key) ?? 0) + o.remainingQuantity);
  }
  return mine;
}

export const levelKey = (side: 'bid' | 'ask', price: number, tickSize: number): string => `${side}:${Math.round(price / tickSize)}`;
