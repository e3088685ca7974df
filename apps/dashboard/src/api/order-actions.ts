/**
 * Every order action of the screen — place, amend, cancel, cancel all, flatten — and nothing else
 * sends one. They go through the SDK's client (`@qx/client`): over the socket while it is
 * connected and authenticated (the gateway's trading events, answered through the ack; orders
 * placed so are the ones cancel-on-disconnect covers), over REST otherwise, idempotent by
 * `clientOrderId` across the two. Flatten has no socket event: the SDK sends it over REST, and the
 * position it reads first comes from REST too. Failures reject with the SDK's coded error
 * (QuantEnergxError: code, message, field, and the order when the server sent it), which
 * model/messages.ts puts in words.
 */
import { QuantEnergxError, newClientOrderId, type QuantEnergxClient } from '@qx/client';
import type { OrderRequestBody } from '@qx/protocol';
import type { Authed } from '../hooks/useSession.js';
import type { Order } from '../model/types.js';
import { fetchPositions } from './endpoints.js';

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

/** The order actions on the screen's client (null while it is being created: every action is refused, saying so). */
export function clientOrderActions(client: QuantEnergxClient | null, authed: Authed): OrderActions {
  const qx = (): QuantEnergxClient => {
    if (!client) throw new QuantEnergxError('NOT_CONNECTED', 'Not connected yet');
    return client;
  };
  return {
    place: async (body) => qx().placeOrder(body),
    amend: async (orderId, change) => qx().amendOrder(orderId, change),
    cancel: async (orderId) => qx().cancelOrder(orderId),
    cancelAll: async (commodity) => qx().cancelAll(commodity === undefined ? {} : { commodity }),
    async flatten(commodity, maxOrderSize, onOrder) {
      const sdk = qx();
      const orders: Order[] = [];
      const netNow = async () => (await authed(fetchPositions)).find((p) => p.commodity === commodity)?.netQuantity ?? 0;
      let net = await netNow();
      // one order per maxOrderSize, and one more in case fills arrive meanwhile: always bounded
      const most = Math.ceil(Math.abs(net) / Math.max(1, maxOrderSize)) + 1;
      for (let i = 0; i < most && net !== 0; i++) {
        const order =
          Math.abs(net) <= maxOrderSize || maxOrderSize <= 0
            ? await sdk.flatten(commodity)
            : await sdk.placeOrder({ commodity, side: net > 0 ? 'sell' : 'buy', type: 'market', quantity: maxOrderSize, timeInForce: 'ioc', clientOrderId: newClientOrderId('flatten') });
        orders.push(order);
        onOrder?.(order);
        if (order.filledQuantity === 0) break;
        net = await netNow();
      }
      return orders;
    },
  };
}
