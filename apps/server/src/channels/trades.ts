/** The public tape (addition): anyone authenticated; one room per commodity; `market-trade` from then on. */
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';
import { parseCommodities } from './market.js';

export interface TradesChannelDeps {
  commodities: ReadonlySet<string>;
  maxCommoditiesPerRequest: number;
  maxSubscriptionsPerSocket: number;
}

export function tradesChannel(deps: TradesChannelDeps): Channel {
  function subscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parseCommodities(payload, deps);
    if (!p.ok) return p.outcome;
    const fresh = p.list.filter((c) => !socket.rooms.has(rooms.trades(c)));
    if (subscriptionCount(socket) + fresh.length > deps.maxSubscriptionsPerSocket) {
      return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    }
    void socket.join(p.list.map(rooms.trades));
    return success(ServerEvent.TradesSubscribed, { commodities: p.list, message: messages.tradesSubscribed(p.list) });
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parseCommodities(payload, deps);
    if (!p.ok) return p.outcome;
    for (const c of p.list) void socket.leave(rooms.trades(c));
    return success(ServerEvent.TradesUnsubscribed, { commodities: p.list, message: messages.tradesUnsubscribed(p.list) });
  }

  return { name: 'trades', handlers: { [ClientEvent.SubscribeTrades]: subscribe, [ClientEvent.UnsubscribeTrades]: unsubscribe } };
}
