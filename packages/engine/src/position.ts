import type { Side } from './types.js';

/**
 * One user's position in one commodity, average-cost method, in integer ticks × units:
 * `openCost` is Σ price × quantity of the open position, `realizedPnl` what closing trades made.
 */
export class Position {
  /** signed: long > 0, short < 0 */
  netQuantity = 0;
  openCost = 0;
  realizedPnl = 0;
  /** open (resting) order quantity per side, for the pre-trade exposure check */
  openBuyQuantity = 0;
  openSellQuantity = 0;

  constructor(
    readonly userId: string,
    readonly commodity: string,
  ) {}

  applyFill(side: Side, quantity: number, priceTicks: number): void {
    const signed = side === 'buy' ? quantity : -quantity;
    const net = this.netQuantity;
    if (net === 0 || net > 0 === signed > 0) {
      this.netQuantity = net + signed;
      this.openCost += quantity * priceTicks;
      return;
    }
    const held = Math.abs(net);
    const closing = Math.min(quantity, held);
    const released = closing === held ? this.openCost : proportion(this.openCost, closing, held);
    const proceeds = closing * priceTicks;
    this.realizedPnl += net > 0 ? proceeds - released : released - proceeds;
    this.openCost -= released;
    this.netQuantity = net > 0 ? net - closing : net + closing;
    const opening = quantity - closing;
    if (opening > 0) {
      this.netQuantity = side === 'buy' ? opening : -opening;
      this.openCost = opening * priceTicks;
    }
  }

  /** Resting order quantity on one side grows (an order rests) or shrinks (a fill, cancel or reduction). */
  changeOpenQuantity(side: Side, delta: number): void {
    if (side === 'buy') this.openBuyQuantity += delta;
    else this.openSellQuantity += delta;
  }

  /** Average entry price in (fractional) ticks; 0 when flat. */
  averageEntryTicks(): number {
    return this.netQuantity === 0 ? 0 : this.openCost / Math.abs(this.netQuantity);
  }
}

/** round(total × part / whole), exact even when the product exceeds 2^53. */
function proportion(total: number, part: number, whole: number): number {
  const product = total * part;
  if (Number.isSafeInteger(product)) return Math.round(product / whole);
  const b = (BigInt(total) * BigInt(part) * 2n + BigInt(whole)) / (2n * BigInt(whole));
  return Number(b);
}
