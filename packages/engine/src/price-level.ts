import type { Order } from './order.js';

/** All resting orders at one price, in time priority (FIFO), as an intrusive linked list. */
export class PriceLevel {
  head: Order | null = null;
  tail: Order | null = null;
  /** Σ remaining quantity of the orders at this level */
  quantity = 0;
  orderCount = 0;

  constructor(readonly priceTicks: number) {}

  append(order: Order): void {
    order.level = this;
    order.prev = this.tail;
    order.next = null;
    if (this.tail) this.tail.next = order;
    else this.head = order;
    this.tail = order;
    this.quantity += order.remainingQuantity;
    this.orderCount++;
  }

  /** Unlinks an order; the caller has already settled its remaining quantity in `quantity`. */
  unlink(order: Order): void {
    if (order.prev) order.prev.next = order.next;
    else this.head = order.next;
    if (order.next) order.next.prev = order.prev;
    else this.tail = order.prev;
    order.level = null;
    order.prev = null;
    order.next = null;
    this.orderCount--;
  }

  isEmpty(): boolean {
    return this.head === null;
  }
}
