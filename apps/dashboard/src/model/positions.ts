/** Positions marked to the last price: what the position is worth now against its entry. */
import type { MarketState } from './market.js';
import type { Position } from './types.js';

export interface PositionRow extends Position {
  lastPrice: number | null;
  /** netQuantity × (last − average entry); null without a last price */
  unrealizedPnl: number | null;
}

export function markToMarket(positions: readonly Position[], market: MarketState): PositionRow[] {
  return positions
    .filter((p) => p.netQuantity !== 0 || p.realizedPnl !== 0 || p.openBuyQuantity !== 0 || p.openSellQuantity !== 0)
    .map((p) => {
      const lastPrice = market[p.commodity]?.price ?? null;
      const unrealizedPnl = lastPrice === null ? null : round(p.netQuantity * (lastPrice - p.averagePrice));
      return { ...p, lastPrice, unrealizedPnl };
    });
}

/** P&L to the cent: keeps binary-float noise (0.1 + 0.2) off the screen. */
function round(value: number): number {
  const r = Math.round(value * 100) / 100;
  return r === 0 ? 0 : r;
}
