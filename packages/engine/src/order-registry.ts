import type { Order } from './order.js';
import { isAgentUser } from './types.js';

/**
 * Where the exchange finds its orders: every open order by id, real users' open orders by user
 * (in time priority), their finished orders for a while (bounded, oldest dropped first), and the
 * clientOrderId index that makes retries idempotent. It only files orders; books and positions
 * are someone else's.
 */
export class OrderRegistry {
  /** every open order, by id */
  private readonly open = new Map<string, Order>();
  /** real users' open orders, by user (insertion order = time priority) */
  private readonly openByUser = new Map<string, Map<string, Order>>();
  /** real users' finished orders, oldest first (bounded) */
  private readonly finished = new Map<string, Order>();
  /** "user\0clientOrderId" → order */
  private readonly byClientOrderId = new Map<string, Order>();

  constructor(private readonly retainLimit: number) {}

  openOrder(orderId: string): Order | undefined {
    return this.open.get(orderId);
  }

  finishedOrder(orderId: string): Order | undefined {
    return this.finished.get(orderId);
  }

  /** A user's open orders, in time priority. */
  openOf(userId: string): Order[] {
    return [...(this.openByUser.get(userId)?.values() ?? [])];
  }

  /** Every open order on every book (agents' included). */
  allOpen(): Order[] {
    return [...this.open.values()];
  }

  get openCount(): number {
    return this.open.size;
  }

  byClientId(userId: string, clientOrderId: string): Order | undefined {
    return this.byClientOrderId.get(clientKey(userId, clientOrderId));
  }

  rememberClientId(order: Order): void {
    if (order.clientOrderId !== null) this.byClientOrderId.set(clientKey(order.userId, order.clientOrderId), order);
  }

  /** Files an order that rests on its book. */
  addOpen(order: Order): void {
    this.open.set(order.id, order);
    if (isAgentUser(order.userId)) return;
    let mine = this.openByUser.get(order.userId);
    if (mine === undefined) {
      mine = new Map();
      this.openByUser.set(order.userId, mine);
    }
    mine.set(order.id, order);
  }

  /** Unfiles an open order that is about to be re-queued (an amend), without finishing it. */
  removeOpen(order: Order): void {
    this.open.delete(order.id);
    this.openByUser.get(order.userId)?.delete(order.id);
  }

  /** A finished order leaves the open set; real users' stay queryable for a while. */
  retire(order: Order): void {
    this.open.delete(order.id);
    if (isAgentUser(order.userId)) return;
    this.openByUser.get(order.userId)?.delete(order.id);
    this.finished.set(order.id, order);
    if (this.finished.size > this.retainLimit) {
      const oldest = this.finished.values().next().value as Order;
      this.finished.delete(oldest.id);
      if (oldest.clientOrderId !== null) {
        const key = clientKey(oldest.userId, oldest.clientOrderId);
        if (this.byClientOrderId.get(key) === oldest) this.byClientOrderId.delete(key);
      }
    }
  }
}

function clientKey(userId: string, clientOrderId: string): string {
  return `${userId}\u0000${clientOrderId}`;
}
