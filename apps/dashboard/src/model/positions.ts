/**
 * Positions marked to the last price: what each is worth now against what it cost. Exact: the
 * unrealized P&L is sign(net) × (|net| × last − openCost) in whole price units of the grid
 * (integers, BigInt), rounded once to the cent — never from the average price, which the
 * server rounds (a 27-lot power short would be off by a cent).
 */
import { decimalsOf } from '@qx/protocol';
import type { MarketState } from './market.js';
import type { Position } from './types.js';

export interface PositionRow extends Position {
  lastPrice: number | null;
  /** exact to the cent; null without a last price */
  unrealizedPnl: number | null;
}

/** A decimal as an integer count of 10^-decimals (75.12, 2 → 7512n); exact for every wire decimal. */
const scaled = (value: number, decimals: number): bigint => BigInt(Math.round(value * 10 ** decimals));

/** An integer count of 10^-decimals as whole cents, rounded half away from zero. */
function toCents(units: bigint, decimals: number): bigint {
  if (decimals <= 2) return units * 10n ** BigInt(2 - decimals);
  const d = 10n ** BigInt(decimals - 2);
  const abs = units < 0n ? -units : units;
  const cents = (abs * 2n + d) / (2n * d);
  return units < 0n ? -cents : cents;
}

const fromCents = (cents: bigint): number => {
  const n = Number(cents) / 100;
  return n === 0 ? 0 : n;
};

/**
 * Unrealized P&L of a position at `last`, to the cent. With the server's exact `openCost` it is
 * exact; from an older gateway (average price only) it is as good as that average.
 */
export function unrealizedPnl(p: Pick<Position, 'netQuantity' | 'averagePrice' | 'openCost'>, last: number, tickSize: number): number {
  if (p.netQuantity === 0) return 0;
  const decimals = decimalsOf(tickSize);
  const net = BigInt(p.netQuantity);
  const held = net < 0n ? -net : net;
  const value = held * scaled(last, decimals);
  if (p.openCost !== undefined) {
    const pnl = value - scaled(p.openCost, decimals);
    return fromCents(toCents(net < 0n ? -pnl : pnl, decimals));
  }
  // the average is rounded 4 decimals beyond the grid: count in those units
  const fine = decimals + 4;
  const pnl = held * scaled(last, fine) - held * scaled(p.averagePrice, fine);
  return fromCents(toCents(net < 0n ? -pnl : pnl, fine));
}

export function markToMarket(positions: readonly Position[], market: MarketState, tickOf: (commodity: string) => number | undefined): PositionRow[] {
  return positions
    .filter((p) => p.netQuantity !== 0 || p.realizedPnl !== 0 || p.openBuyQuantity !== 0 || p.openSellQuantity !== 0)
    .map((p) => {
      const lastPrice = market[p.commodity]?.price ?? null;
      const tick = tickOf(p.commodity) ?? 0.0001;
      return { ...p, lastPrice, unrealizedPnl: lastPrice === null ? null : unrealizedPnl(p, lastPrice, tick) };
    });
}

/**
 * Total P&L (realized + unrealized) per currency, summed in whole cents — crude is in USD, carbon
 * in EUR, so they are not added together. `complete` is false when a position has no last price.
 */
export function totalPnl(rows: readonly PositionRow[], currencyOf: (commodity: string) => string | undefined): { currency: string; pnl: number; complete: boolean }[] {
  const by = new Map<string, { cents: bigint; complete: boolean }>();
  for (const r of rows) {
    const currency = currencyOf(r.commodity) ?? '?';
    const t = by.get(currency) ?? { cents: 0n, complete: true };
    t.cents += BigInt(Math.round(r.realizedPnl * 100)) + BigInt(Math.round((r.unrealizedPnl ?? 0) * 100));
    if (r.unrealizedPnl === null && r.netQuantity !== 0) t.complete = false;
    by.set(currency, t);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, t]) => ({ currency, pnl: fromCents(t.cents), complete: t.complete }));
}
