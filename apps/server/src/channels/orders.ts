/** Order status of one user: room `orders-<userId>`, event `order-update`. */
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { privateChannel, type PrivateChannelDeps } from './private-channel.js';

export const ordersChannel = (deps: PrivateChannelDeps) =>
  privateChannel(
    {
      channel: 'orders',
      room: rooms.orders,
      subscribe: { event: ClientEvent.SubscribeOrders, confirm: ServerEvent.OrdersSubscribed, body: (userId, room) => ({ userId, room, message: messages.ordersSubscribed(userId) }) },
      unsubscribe: { event: ClientEvent.UnsubscribeOrders, confirm: ServerEvent.OrdersUnsubscribed, body: (userId, room) => ({ userId, room, message: messages.ordersUnsubscribed(userId) }) },
    },
    deps,
  );
