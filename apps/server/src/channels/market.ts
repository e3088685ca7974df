/** Market data: anyone authenticated; one room per commodity; the latest price follows at once. */
import { ClientEvent, ServerEvent, commoditiesPayloadSchema, describeZodError, messages, rooms } from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { Hub } from '../realtime/hub.js';
import type { Delivery } from '../realtime/delivery.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';

export interface MarketChannelDeps {
  hub: Hub;
  delivery: Delivery;
  commodities: ReadonlySet<string>;
  maxCommoditiesPerRequest: number;
  maxSubscriptionsPerSocket: number;
}

/** A list of known commodities (or one symbol), within the per-request limit; a coded failure otherwise. */
export function parseCommodities(
  payload: unknown,
  deps: { commodities: ReadonlySet<string>; maxCommoditiesPerRequest: number },
): { ok: true; list: string[] } | { ok: false; outcome: Outcome } {
  if (Array.isArray(payload) && payload.length > deps.maxCommoditiesPerRequest) {
    return { ok: false, outcome: failure('TOO_MANY_COMMODITIES', `At most ${deps.maxCommoditiesPerRequest} commodities per request`) };
  }
  const parsed = commoditiesPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    return { ok: false, outcome: failure('INVALID_PAYLOAD', `Expected an array of commodity symbols (${message})`, field || undefined) };
  }
  const unknown = parsed.data.filter((c) => !deps.commodities.has(c));
  // named as the confirmation names the list (a book names its `commodity`): every subscription says which field
  if (unknown.length) return { ok: false, outcome: failure('UNKNOWN_COMMODITY', `Unknown commodity: ${unknown.join(', ')}`, 'commodities') };
  return { ok: true, list: parsed.data };
}

export function marketChannel(deps: MarketChannelDeps): Channel {
  const parse = (payload: unknown) => parseCommodities(payload, deps);

  function subscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parse(payload);
    if (!p.ok) return p.outcome;
    const fresh = p.list.filter((c) => !socket.rooms.has(rooms.market(c)));
    if (subscriptionCount(socket) + fresh.length > deps.maxSubscriptionsPerSocket) {
      return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    }
    void socket.join(p.list.map(rooms.market));
    sendSnapshots(socket, p.list);
    return success(ServerEvent.MarketSubscribed, { commodities: p.list, message: messages.marketSubscribed(p.list) });
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    const p = parse(payload);
    if (!p.ok) return p.outcome;
    for (const c of p.list) void socket.leave(rooms.market(c));
    return success(ServerEvent.MarketUnsubscribed, { commodities: p.list, message: messages.marketUnsubscribed(p.list) });
  }

  /** Queued now, flushed at the end of the turn: after the confirmation, which goes out at once. */
  function sendSnapshots(socket: QxSocket, list: readonly string[]): void {
    for (const c of list) {
      const frame = deps.delivery.latestMarketFrame(c);
      if (frame) deps.hub.deliverToSocket(socket, frame);
    }
  }

  return {
    name: 'market',
    handlers: { [ClientEvent.SubscribeMarket]: subscribe, [ClientEvent.UnsubscribeMarket]: unsubscribe },
    onRecovered(socket) {
      const list: string[] = [];
      for (const c of deps.commodities) if (socket.rooms.has(rooms.market(c))) list.push(c);
      sendSnapshots(socket, list);
    },
  };
}
