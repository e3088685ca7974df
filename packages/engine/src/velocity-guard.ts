import type { Commodity, SystemAlertPayload } from '@qx/protocol';
import { RollingExtremes } from './rolling-extremes.js';
import { isoTime } from './wire.js';

/** Velocity logic (as CME's): a fast move halts the commodity for a while. */
export interface VelocityOptions {
  /** a trade price further than this (in %) from any trade price of the window halts; default 5 */
  movePercent?: number;
  /** the look-back window; default 60 s */
  windowMs?: number;
  /** how long the halt lasts; default 2 min */
  haltMs?: number;
}

export const DEFAULT_VELOCITY: Required<VelocityOptions> = { movePercent: 5, windowMs: 60_000, haltMs: 120_000 };

/** A move that breached the velocity limit, in the commodity's price unit. */
export interface VelocityBreach {
  /** the move from the window's reference, in % (rounded to 0.01) */
  movePercent: number;
  /** the window's price the move is measured from (its low for a rise, its high for a fall) */
  reference: number;
  price: number;
}

/**
 * Watches each commodity's trade prices over a sliding window: a price that has moved more than
 * `movePercent` from the window's low (a rise) or high (a fall) is a breach. After a breach the
 * window starts afresh, so the trades before a halt do not halt the market again after it.
 */
export class VelocityGuard {
  readonly options: Required<VelocityOptions>;
  private readonly names = new Map<string, string>();
  private readonly windows = new Map<string, RollingExtremes>();

  constructor(commodities: readonly Commodity[], options: VelocityOptions = {}) {
    this.options = { ...DEFAULT_VELOCITY, ...options };
    for (const c of commodities) this.names.set(c.symbol, c.name);
  }

  /** Records a trade price (any positive unit) at `nowMs`; returns the breach, if any. */
  observe(commodity: string, price: number, nowMs: number): VelocityBreach | null {
    if (!(price > 0)) return null;
    let w = this.windows.get(commodity);
    if (w === undefined) {
      w = new RollingExtremes(this.options.windowMs);
      this.windows.set(commodity, w);
    }
    w.add(price, nowMs);
    const rise = (price - w.low) / w.low;
    const fall = (w.high - price) / w.high;
    const move = Math.max(rise, fall);
    if (move * 100 <= this.options.movePercent) return null;
    const reference = rise >= fall ? w.low : w.high;
    w.clear();
    return { movePercent: Math.round(move * 10_000) / 100, reference, price };
  }

  /** The `market_volatility` system alert that announces a velocity halt. */
  haltAlert(commodity: string, breach: VelocityBreach, nowMs: number, untilMs: number): SystemAlertPayload {
    const name = this.names.get(commodity) ?? commodity;
    const windowSeconds = this.options.windowMs / 1000;
    return {
      alertType: 'market_volatility',
      severity: 'critical',
      message: `Trading in ${name} halted until ${isoTime(untilMs)}: the price moved ${breach.movePercent}% within ${windowSeconds} s`,
      affectedCommodities: [commodity],
      timestamp: isoTime(nowMs),
      details: {
        windowSeconds,
        movePercent: breach.movePercent,
        high: Math.max(breach.reference, breach.price),
        low: Math.min(breach.reference, breach.price),
        halted: true,
        until: isoTime(untilMs),
      },
    };
  }

  /** The reason a velocity halt shows in the market status. */
  haltReason(breach: VelocityBreach): string {
    return `Velocity halt: the price moved ${breach.movePercent}% within ${this.options.windowMs / 1000} s (limit ${this.options.movePercent}%)`;
  }
}
