import { PriceLevel } from './price-level.js';
import type { Side } from './types.js';

/**
 * One side of a book: price levels by price, plus the prices sorted so that the best one is at
 * the END of the array (bids ascending, asks descending). Most activity happens at or near the
 * best price, so inserting and removing levels there costs a short splice or a pop.
 */
export class BookSide {
  private readonly levels = new Map<number, PriceLevel>();
  /** sorted worst → best */
  private readonly prices: number[] = [];
  private readonly direction: 1 | -1;

  constructor(readonly side: Side) {
    this.direction = side === 'buy' ? 1 : -1;
  }

  get levelCount(): number {
    return this.prices.length;
  }

  best(): PriceLevel | null {
    const n = this.prices.length;
    if (n === 0) return null;
    return this.levels.get(this.prices[n - 1] as number) ?? null;
  }

  bestPrice(): number | null {
    const n = this.prices.length;
    return n === 0 ? null : (this.prices[n - 1] as number);
  }

  level(priceTicks: number): PriceLevel | undefined {
    return this.levels.get(priceTicks);
  }

  /** The level at a price, created (and placed in price order) when missing. */
  levelFor(priceTicks: number): PriceLevel {
    let level = this.levels.get(priceTicks);
    if (level) return level;
    level = new PriceLevel(priceTicks);
    this.levels.set(priceTicks, level);
    const prices = this.prices;
    const key = priceTicks * this.direction;
    // first index whose key is greater (binary search); new levels mostly land near the end
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((prices[mid] as number) * this.direction < key) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    if (i === prices.length) prices.push(priceTicks);
    else prices.splice(i, 0, priceTicks);
    return level;
  }

  removeLevel(level: PriceLevel): void {
    this.levels.delete(level.priceTicks);
    const prices = this.prices;
    const n = prices.length;
    if (n > 0 && prices[n - 1] === level.priceTicks) {
      prices.pop();
      return;
    }
    const i = this.indexOf(level.priceTicks);
    if (i >= 0) prices.splice(i, 1);
  }

  /** Levels from the best price outward; at most `depth` of them. */
  top(depth: number): PriceLevel[] {
    const out: PriceLevel[] = [];
    for (let i = this.prices.length - 1; i >= 0 && out.length < depth; i--) {
      const level = this.levels.get(this.prices[i] as number);
      if (level) out.push(level);
    }
    return out;
  }

  /** Every level from the best price outward (for iteration in tests, snapshots, FOK checks). */
  *fromBest(): Generator<PriceLevel> {
    for (let i = this.prices.length - 1; i >= 0; i--) {
      const level = this.levels.get(this.prices[i] as number);
      if (level) yield level;
    }
  }

  private indexOf(priceTicks: number): number {
    // binary search on the key price × direction, which ascends along the array
    const key = priceTicks * this.direction;
    let lo = 0;
    let hi = this.prices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = (this.prices[mid] as number) * this.direction;
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
