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

  /**
   * Integer ticks of a wire price, or null when the price is not a whole number of ticks.
   * Exact: the price is read as its shortest decimal (String(n): 75.1 → "75.1") and its digits are
   * compared with the grid — no floating arithmetic, so 75.10000001 is off a 0.01 grid, not rounded.
   */
  toTicks(price: number): number | null {
    if (!Number.isFinite(price)) return null;
    const units = scaledUnits(String(price), this.decimals);
    if (units === null || units % BigInt(this.unitsPerTick) !== 0n) return null;
    // beyond safe integers the count is not exact; validateOrderSpec refuses it
    return Number(units / BigInt(this.unitsPerTick));
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

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

/**
 * A decimal string (as String(n) writes a double: "75.1", "1e-7", "1.5e+21") times 10^decimals,
 * as an exact integer; null when it has digits beyond `decimals` places or is not a decimal.
 */
export function scaledUnits(text: string, decimals: number): bigint | null {
  const m = DECIMAL.exec(text);
  if (m === null) return null;
  const [, sign, whole = '', fraction = '', exponent = '0'] = m;
  // digits × 10^-(places): "75.10" → 7510 × 10^-2; the exponent moves the point
  const digits = (whole + fraction).replace(/^0+(?=\d)/, '');
  let places = fraction.length - Number(exponent);
  let value = BigInt(digits);
  // trailing zeros after the point are not precision ("75.10" is 75.1)
  while (places > decimals && value % 10n === 0n && value !== 0n) {
    value /= 10n;
    places -= 1;
  }
  if (value === 0n) return 0n;
  if (places > decimals) return null;
  value *= 10n ** BigInt(decimals - places);
  return sign === '-' ? -value : value;
}
