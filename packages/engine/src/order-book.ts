import { BookSide } from './book-side.js';
import type { Order } from './order.js';

/** Told about every fill and self-trade cancellation while an incoming order matches. */
export interface MatchListener {
  /** quantities of both orders are already updated; a filled maker is already off the book */
  onFill(taker: Order, maker: Order, quantity: number, priceTicks: number): void;
  /** the resting order was taken off the book (its remaining `quantity` moved to cancelledQuantity) */
  onSelfTradePrevented(maker: Order, quantity: number): void;
}

/**
 * A limit order book for one commodity with price-time priority. Pure integer state; it knows
 * nothing of statuses, events or users beyond "same user" for self-trade prevention.
 *
 * Self-trade prevention is "cancel resting": when an incoming order reaches a resting order of
 * the same user, the resting order is cancelled and matching continues behind it.
 */
export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');

  constructor(readonly commodity: string) {}

  /** Matches an incoming order against the opposite side as far as its price allows. */
  match(taker: Order, listener: MatchListener): void {
    const opposite = taker.side === 'buy' ? this.asks : this.bids;
    const limit = taker.priceTicks;
    const isBuy = taker.side === 'buy';
    while (taker.remainingQuantity > 0) {
      const level = opposite.best();
      if (level === null) break;
      const price = level.priceTicks;
      if (limit !== null && (isBuy ? price > limit : price < limit)) break;
      let maker = level.head;
      while (maker !== null && taker.remainingQuantity > 0) {
        const next = maker.next;
        if (maker.userId === taker.userId) {
          const cancelled = maker.remainingQuantity;
          level.quantity -= cancelled;
          level.unlink(maker);
          maker.cancelledQuantity += cancelled;
          maker.remainingQuantity = 0;
          listener.onSelfTradePrevented(maker, cancelled);
        } else {
          const quantity = maker.remainingQuantity < taker.remainingQuantity ? maker.remainingQuantity : taker.remainingQuantity;
          const notional = quantity * price;
          maker.remainingQuantity -= quantity;
          maker.filledQuantity += quantity;
          maker.filledNotional += notional;
          taker.remainingQuantity -= quantity;
          taker.filledQuantity += quantity;
          taker.filledNotional += notional;
          level.quantity -= quantity;
          if (maker.remainingQuantity === 0) level.unlink(maker);
          listener.onFill(taker, maker, quantity, price);
        }
        maker = next;
      }
      if (level.isEmpty()) opposite.removeLevel(level);
    }
  }

  /**
   * How much of an incoming order could trade right now (for fill-or-kill), counting no order
   * of the same user (self-trade prevention would cancel those instead). Stops at `needed`.
   */
  fillableQuantity(taker: Order, needed: number): number {
    const opposite = taker.side === 'buy' ? this.asks : this.bids;
    const limit = taker.priceTicks;
    const isBuy = taker.side === 'buy';
    let total = 0;
    for (const level of opposite.fromBest()) {
      const price = level.priceTicks;
      if (limit !== null && (isBuy ? price > limit : price < limit)) break;
      for (let o = level.head; o !== null; o = o.next) {
        if (o.userId === taker.userId) continue;
        total += o.remainingQuantity;
        if (total >= needed) return total;
      }
    }
    return total;
  }

  /** Puts an order with remaining quantity and a limit price at the back of its level. */
  rest(order: Order): void {
    const side = order.side === 'buy' ? this.bids : this.asks;
    side.levelFor(order.priceTicks as number).append(order);
  }

  /** Takes a resting order off the book, moving its remainder to cancelledQuantity. */
  cancel(order: Order): boolean {
    const level = order.level;
    if (level === null) return false;
    level.quantity -= order.remainingQuantity;
    level.unlink(order);
    order.cancelledQuantity += order.remainingQuantity;
    order.remainingQuantity = 0;
    if (level.isEmpty()) (order.side === 'buy' ? this.bids : this.asks).removeLevel(level);
    return true;
  }

  /** Shrinks a resting order's open quantity in place: it keeps its place in the queue. */
  reduce(order: Order, remainingQuantity: number): void {
    const level = order.level;
    if (level === null || remainingQuantity <= 0 || remainingQuantity > order.remainingQuantity) return;
    level.quantity -= order.remainingQuantity - remainingQuantity;
    order.remainingQuantity = remainingQuantity;
  }

  /** Takes a resting order off the book without touching its quantities (to re-queue or re-match it). */
  remove(order: Order): void {
    const level = order.level;
    if (level === null) return;
    level.quantity -= order.remainingQuantity;
    level.unlink(order);
    if (level.isEmpty()) (order.side === 'buy' ? this.bids : this.asks).removeLevel(level);
  }

  bestBid(): number | null {
    return this.bids.bestPrice();
  }

  bestAsk(): number | null {
    return this.asks.bestPrice();
  }
}
