/** Trade executions of one user: room `trading-<userId>`, event `trade-update`. */
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { privateChannel, type PrivateChannelDeps } from './private-channel.js';

export const tradingChannel = (deps: PrivateChannelDeps) =>
  privateChannel(
    {
      channel: 'trading',
      room: rooms.trading,
      subscribe: { event: ClientEvent.JoinTrading, confirm: ServerEvent.TradingJoined, body: (userId, room) => ({ room, message: messages.tradingJoined(userId) }) },
      unsubscribe: { event: ClientEvent.LeaveTrading, confirm: ServerEvent.TradingLeft, body: (userId, room) => ({ room, message: messages.tradingLeft(userId) }) },
    },
    deps,
  );
