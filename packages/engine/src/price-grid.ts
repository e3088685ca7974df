import { decimalsOf, type Commodity } from '@qx/protocol';

/**
 * Exact conversion between a commodity's wire prices (decimals) and integer ticks. A wire price
 * is on the grid when it is a whole number of ticks; 75.25 with tick 0.01 is 7525 ticks.
 */
export class PriceGrid {
  readonly decimals: number;
  /** 10^decimals: wire price × scale is an integer for every on-grid price */
  private readonly scale: number;
  /** tick size in units of 1/scale (power: tick 0.05, scale 100 → 5) */
  private readonly unitsPerTick: number;

  constructor(readonly tickSize: number) {
    this.decimals = decimalsOf(tickSize);
    this.scale = 10 ** this.decimals;
    this.unitsPerTick = Math.round(tickSize * this.scale);
  }

  static of(commodity: Commodity): PriceGrid {
    return new PriceGrid(commodity.tickSize);
  }

  /** Integer ticks of a wire price, or null when the price is not a whole number of ticks. */
  toTicks(price: number): number | null {
    if (!Number.isFinite(price)) return null;
    const scaled = price * this.scale;
    const rounded = Math.round(scaled);
    // binary floats: 75.25 * 100 may be 7524.999999999999; anything farther is off the grid
    if (Math.abs(scaled - rounded) > 1e-9 * Math.max(1, Math.abs(scaled))) return null;
    if (rounded % this.unitsPerTick !== 0) return null;
    return rounded / this.unitsPerTick;
  }

  /** Nearest tick at or below (floor) / at or above (ceil) a real-valued price. */
  floorTicks(price: number): number {
    return Math.floor(price / this.tickSize + 1e-9);
  }

  ceilTicks(price: number): number {
    return Math.ceil(price / this.tickSize - 1e-9);
  }

  /** The wire decimal of a tick count: the closest double to the exact decimal. */
  fromTicks(ticks: number): number {
    return (ticks * this.unitsPerTick) / this.scale;
  }

  /**
   * A fractional tick amount (an average price, a P&L per unit) as a wire decimal, rounded to
   * `extraDecimals` beyond the grid so averages stay readable and stable.
   */
  fromFractionalTicks(ticks: number, extraDecimals = 4): number {
    const f = 10 ** (this.decimals + extraDecimals);
    return Math.round((ticks * this.unitsPerTick * f) / this.scale) / f;
  }
}
