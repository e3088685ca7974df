import type { ErrorCodeName } from '@qx/protocol';
import type { PriceLevel } from './price-level.js';
import type { OrderStatus, OrderType, Side, TimeInForce } from './types.js';

/**
 * One order's full integer state. Mutable and owned by the Exchange; everything outside the
 * engine sees it through `OrderState` (read-only) or its wire form. Resting orders are linked
 * into their price level (`prev`/`next`), which makes cancel O(1).
 */
export class Order {
  filledQuantity = 0;
  /** quantity taken off the book without trading (cancel, ioc/market remainder, expiry, STP) */
  cancelledQuantity = 0;
  /** open quantity: quantity − filled − cancelled */
  remainingQuantity: number;
  /** Σ price × quantity of the fills, in ticks × units (average price = notional / filled) */
  filledNotional = 0;
  status: OrderStatus = 'new';
  reason: string | null = null;
  rejectCode: ErrorCodeName | null = null;
  updatedAt: number;
  /**
   * place in the price level's queue: `priority` until an amend loses it (a price change or a
   * quantity increase), then a fresh number from the same sequence (so it sorts after every
   * order placed or re-queued before)
   */
  queuePriority: number;
  /** the terms it was placed with (a retry by clientOrderId is compared with these, not the amended ones) */
  placedPriceTicks: number | null;
  placedQuantity: number;

  // intrusive FIFO links while resting in a price level
  level: PriceLevel | null = null;
  prev: Order | null = null;
  next: Order | null = null;

  constructor(
    readonly id: string,
    /** time priority: a monotonic sequence number, unique per order */
    readonly priority: number,
    readonly userId: string,
    readonly commodity: string,
    readonly side: Side,
    readonly type: OrderType,
    readonly timeInForce: TimeInForce,
    /** limit price in ticks; null for market orders (an amend may change it) */
    public priceTicks: number | null,
    /** total quantity (an amend may change it) */
    public quantity: number,
    readonly clientOrderId: string | null,
    readonly createdAt: number,
  ) {
    this.remainingQuantity = quantity;
    this.updatedAt = createdAt;
    this.queuePriority = priority;
    this.placedPriceTicks = priceTicks;
    this.placedQuantity = quantity;
  }
}

/** What callers may read of an order. */
export type OrderState = Readonly<Omit<Order, 'level' | 'prev' | 'next'>>;
