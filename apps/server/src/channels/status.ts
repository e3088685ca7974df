/**
 * Market status (addition, opt-in): anyone authenticated; one room per commodity; the commodity's
 * current `market-status` follows at once (a snapshot), then each change (open, halted, closed).
 * The same payloads as `subscribe-market`.
 */
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { Delivery } from '../realtime/delivery.js';
import type { Hub } from '../realtime/hub.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';
import { parseCommodities } from './market.js';

export interface StatusChannelDeps {
  hub: Hub;
  delivery: Delivery;
  commodities: ReadonlySet<string>;
  maxCommoditiesPerRequest: number;
  maxSubscriptionsPerSocket: number;
}

export function statusChannel(deps: StatusChannelDeps): Channel {
  function subscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parseCommodities(payload, deps);
    if (!p.ok) return p.outcome;
    const fresh = p.list.filter((c) => !socket.rooms.has(rooms.status(c)));
    if (subscriptionCount(socket) + fresh.length > deps.maxSubscriptionsPerSocket) {
      return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    }
    void socket.join(p.list.map(rooms.status));
    sendSnapshots(socket, p.list);
    return success(ServerEvent.StatusSubscribed, { commodities: p.list, message: messages.statusSubscribed(p.list) });
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parseCommodities(payload, deps);
    if (!p.ok) return p.outcome;
    for (const c of p.list) void socket.leave(rooms.status(c));
    return success(ServerEvent.StatusUnsubscribed, { commodities: p.list, message: messages.statusUnsubscribed(p.list) });
  }

  /** Queued now, flushed at the end of the turn: after the confirmation, which goes out at once. */
  function sendSnapshots(socket: QxSocket, list: readonly string[]): void {
    for (const c of list) deps.hub.deliverToSocket(socket, deps.delivery.latestStatusFrame(c) ?? deps.delivery.defaultStatusFrame(c));
  }

  return {
    name: 'status',
    handlers: { [ClientEvent.SubscribeStatus]: subscribe, [ClientEvent.UnsubscribeStatus]: unsubscribe },
    onRecovered(socket) {
      sendSnapshots(socket, [...deps.commodities].filter((c) => socket.rooms.has(rooms.status(c))));
    },
  };
}
