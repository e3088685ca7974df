/**
 * The checks the server makes before it accepts an order, as the screen can make them first: the
 * maximum order size, the position limit counted with working orders, and the price band. They
 * mirror packages/engine (compliance-monitor.ts `checkOrder`, exchange.ts `bandOf`) so the ticket
 * can warn before an order would be refused and Positions can show exposure as the limit check
 * sees it. Per-user limit overrides (COMPLIANCE_FILE) are the server's alone: the screen knows
 * the catalogue's limits, and the server's refusal still has the last word.
 */
import type { Commodity, Position } from './types.js';
import type { Side } from './order-form.js';
import { formatLots, formatPrice } from './format.js';

/** The engine's price band: limit prices within ±20% of the mark (last trade, else the reference). */
export const PRICE_BAND = 0.2;

type Standing = Pick<Position, 'netQuantity' | 'openBuyQuantity' | 'openSellQuantity'>;
const FLAT: Standing = { netQuantity: 0, openBuyQuantity: 0, openSellQuantity: 0 };

/**
 * The position an order could lead to, as the limit check counts it: the net position plus every
 * working order on the order's side, plus this order (signed: long > 0).
 */
export function projectedPosition(p: Standing | undefined, side: Side, units: number): number {
  const s = p ?? FLAT;
  return side === 'buy' ? s.netQuantity + s.openBuyQuantity + units : s.netQuantity - s.openSellQuantity - units;
}

export interface Exposure {
  /** the larger of |net + working buys| and |net − working sells|, in units */
  units: number;
  /** which side's working orders make it: the one the next order on that side is checked against */
  side: Side;
  /** the net position alone, in units (|net|) */
  position: number;
  limit: number;
  /** units / limit, 0..1 (more when over) */
  used: number;
}

/** How much of the position limit is used as the limit check sees it: net plus working orders on the side that grows it. */
export function exposureOf(p: Standing, positionLimit: number | undefined): Exposure | null {
  if (!positionLimit || positionLimit <= 0) return null;
  const long = Math.abs(p.netQuantity + p.openBuyQuantity);
  const short = Math.abs(p.netQuantity - p.openSellQuantity);
  const side: Side = long >= short ? 'buy' : 'sell';
  const units = Math.max(long, short);
  return { units, side, position: Math.abs(p.netQuantity), limit: positionLimit, used: units / positionLimit };
}

export interface Band {
  low: number;
  high: number;
}

/** The prices a limit order may have now: whole ticks within ±20% of the mark, as the engine rounds them. */
export function priceBand(mark: number, tickSize: number): Band | null {
  if (!(mark > 0) || !(tickSize > 0)) return null;
  const markTicks = Math.round(mark / tickSize);
  const low = Math.max(1, Math.ceil(markTicks * (1 - PRICE_BAND) - 1e-9));
  const high = Math.floor(markTicks * (1 + PRICE_BAND) + 1e-9);
  return { low: onGrid(low, tickSize), high: onGrid(high, tickSize) };
}

const onGrid = (ticks: number, tickSize: number) => Number((ticks * tickSize).toFixed(10));

/** Whether a price is a whole number of ticks (as the engine checks it, to the grid's decimals). */
export function isOnTick(price: number, tickSize: number): boolean {
  const ticks = price / tickSize;
  return Math.abs(ticks - Math.round(ticks)) < 1e-7;
}

export interface Warning {
  kind: 'size' | 'limit' | 'band' | 'tick';
  text: string;
}

/**
 * Why the server would refuse this order, said before it is sent (empty when nothing is known
 * against it). `mark` is the last price (the band's anchor); `position` the trader's standing.
 */
export function preTradeWarnings(o: { commodity: Commodity; side: Side; units: number | null; price: number | null; position: Standing | undefined; mark: number | null }): Warning[] {
  const c = o.commodity;
  const lots = (units: number) => `${formatLots(units, c.contractSize)} ${units === c.contractSize ? 'lot' : 'lots'}`;
  const out: Warning[] = [];
  if (o.units !== null && o.units > c.maxOrderSize) {
    out.push({ kind: 'size', text: `${lots(o.units)} is above the maximum order size of ${lots(c.maxOrderSize)}: it would be refused` });
  }
  if (o.units !== null) {
    const projected = projectedPosition(o.position, o.side, o.units);
    if (Math.abs(projected) > c.positionLimit) {
      const working = o.side === 'buy' ? (o.position?.openBuyQuantity ?? 0) : (o.position?.openSellQuantity ?? 0);
      out.push({
        kind: 'limit',
        text: `This ${o.side} could take your position to ${lots(Math.abs(projected))} ${projected > 0 ? 'long' : 'short'}${working ? ` (counting ${lots(working)} of working ${o.side}s)` : ''}, above the position limit of ${lots(c.positionLimit)}: it would be refused`,
      });
    }
  }
  if (o.price !== null) {
    if (!isOnTick(o.price, c.tickSize)) {
      out.push({ kind: 'tick', text: `${o.price} is not on the price grid: ${c.name} trades in steps of ${c.tickSize}` });
    } else if (o.mark !== null) {
      const band = priceBand(o.mark, c.tickSize);
      if (band && (o.price < band.low || o.price > band.high)) {
        out.push({ kind: 'band', text: `${formatPrice(o.price, c.tickSize)} is outside the allowed band ${formatPrice(band.low, c.tickSize)}–${formatPrice(band.high, c.tickSize)} (±20% of the last price): it would be refused` });
      }
    }
  }
  return out;
}
