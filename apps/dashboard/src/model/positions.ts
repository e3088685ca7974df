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

export interface Exposure {
  /** |net| in units */
  units: number;
  limit: number;
  /** |net| / limit, 0..1 (more when over) */
  used: number;
}

/** How much of the commodity's position limit the net position uses. */
export function exposureOf(p: Pick<Position, 'netQuantity'>, positionLimit: number | undefined): Exposure | null {
  if (!positionLimit || positionLimit <= 0) return null;
  const units = Math.abs(p.netQuantity);
  return { units, limit: positionLimit, used: units / positionLimit };
}

/**
 * Total P&L (realized + unrealized) per currency — crude is in USD, carbon in EUR, so they are
 * not added together. `complete` is false when a position has no last price to mark it to.
 */
export function totalPnl(rows: readonly PositionRow[], currencyOf: (commodity: string) => string | undefined): { currency: string; pnl: number; complete: boolean }[] {
  const by = new Map<string, { pnl: number; complete: boolean }>();
  for (const r of rows) {
    const currency = currencyOf(r.commodity) ?? '?';
    const t = by.get(currency) ?? { pnl: 0, complete: true };
    t.pnl += r.realizedPnl + (r.unrealizedPnl ?? 0);
    if (r.unrealizedPnl === null && r.netQuantity !== 0) t.complete = false;
    by.set(currency, t);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, t]) => ({ currency, pnl: round(t.pnl), complete: t.complete }));
}
