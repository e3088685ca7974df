/**
 * Every order action of the screen — place, amend, cancel, cancel all, flatten — and nothing else
 * sends one. Today they go over REST with the session's token (renewed on a 401 by `authed`);
 * sending them over the socket instead (the SDK's trading events, with cancel-on-disconnect) is
 * a change to this file only. Failures reject with the server's coded error (ApiError: code,
 * message, field, and the order when the server sent it), which model/messages.ts puts in words.
 */
import type { OrderRequestBody } from '@qx/protocol';
import type { Authed } from '../hooks/useSession.js';
import type { Order } from '../model/types.js';
import { amendOrder, cancelAllOrders, cancelOrder, fetchPositions, flattenPosition, placeOrder } from './endpoints.js';

export interface OrderActions {
  place(body: OrderRequestBody): Promise<Order>;
  amend(orderId: string, change: { price?: number; quantity?: number }): Promise<Order>;
  cancel(orderId: string): Promise<Order>;
  /** every open order of one commodity, or of all of them */
  cancelAll(commodity?: string): Promise<Order[]>;
  /**
   * Closes the net position at market. A position larger than `maxOrderSize` (units) is closed in
   * several market orders of at most that size, the position read again before each one, so a
   * fill meanwhile is never over-closed. `onOrder` hears each order as it is answered. Resolves
   * with the orders sent; stops (resolves) when an order filled nothing, rejects on a refusal.
   */
  flatten(commodity: string, maxOrderSize: number, onOrder?: (order: Order) => void): Promise<Order[]>;
}

let sent = 0;
const clientOrderId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(sent++).toString(36)}`;

export function restOrderActions(authed: Authed): OrderActions {
  return {
    place: (body) => authed((token) => placeOrder(token, body)),
    amend: (orderId, change) => authed((token) => amendOrder(token, orderId, change)),
    cancel: (orderId) => authed((token) => cancelOrder(token, orderId)),
    cancelAll: (commodity) => authed((token) => cancelAllOrders(token, commodity)),
    async flatten(commodity, maxOrderSize, onOrder) {
      const orders: Order[] = [];
      const netNow = async () => (await authed(fetchPositions)).find((p) => p.commodity === commodity)?.netQuantity ?? 0;
      let net = await netNow();
      // one order per maxOrderSize, and one more in case fills arrive meanwhile: always bounded
      const most = Math.ceil(Math.abs(net) / Math.max(1, maxOrderSize)) + 1;
      for (let i = 0; i < most && net !== 0; i++) {
        const order =
          Math.abs(net) <= maxOrderSize || maxOrderSize <= 0
            ? await authed((token) => flattenPosition(token, commodity))
            : await authed((token) => placeOrder(token, { commodity, side: net > 0 ? 'sell' : 'buy', type: 'market', quantity: maxOrderSize, timeInForce: 'ioc', clientOrderId: clientOrderId('flatten') }));
        orders.push(order);
        onOrder?.(order);
        if (order.filledQuantity === 0) break;
        net = await netNow();
      }
      return orders;
    },
  };
}
