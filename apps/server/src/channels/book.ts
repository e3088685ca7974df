/**
 * The streaming order book (addition): anyone authenticated; one room per commodity and depth;
 * a `book-snapshot` follows the confirmation. A socket follows one depth per commodity: asking
 * again (any depth) re-sends a snapshot, which is how a client repairs a book that failed its
 * checksum.
 */
import {
  ClientEvent,
  ServerEvent,
  describeZodError,
  messages,
  rooms,
  subscribeBookPayloadSchema,
  subscribeBooksPayloadSchema,
  unsubscribeBookPayloadSchema,
} from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { BookFeed } from '../realtime/book-feed.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';
import { parseCommodities } from './market.js';

export interface BookChannelDeps {
  feed: BookFeed;
  commodities: ReadonlySet<string>;
  maxCommoditiesPerRequest: number;
  maxSubscriptionsPerSocket: number;
}

/** `book-<commodity>-<depth>` rooms of a socket for one commodity. */
function bookRooms(socket: QxSocket, commodity: string): { room: string; depth: number }[] {
  const prefix = `book-${commodity}-`;
  const out: { room: string; depth: number }[] = [];
  for (const room of socket.rooms) if (room.startsWith(prefix)) out.push({ room, depth: Number(room.slice(prefix.length)) });
  return out;
}

export function bookChannel(deps: BookChannelDeps): Channel {
  /** Joins one commodity's book at `depth` (asking again at any depth replaces it); null when it fits, or the refusal. */
  function join(socket: QxSocket, commodity: string, depth: number): void {
    const room = rooms.book(commodity, depth);
    for (const h of bookRooms(socket, commodity)) if (h.room !== room) void socket.leave(h.room);
    void socket.join(room);
  }

  /** Room for `list` more book streams (a commodity already followed at some depth does not count twice). */
  function fits(socket: QxSocket, list: readonly string[]): boolean {
    const fresh = list.filter((c) => bookRooms(socket, c).length === 0).length;
    return fresh === 0 || subscriptionCount(socket) + fresh <= deps.maxSubscriptionsPerSocket;
  }

  async function subscribe(socket: QxSocket, payload: unknown): Promise<Outcome> {
    // an array of symbols or {commodities, depth?}, as every other subscription takes them
    if (Array.isArray(payload) || (typeof payload === 'object' && payload !== null && 'commodities' in payload)) return subscribeMany(socket, payload);
    const parsed = subscribeBookPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return failure('INVALID_PAYLOAD', `Expected {commodity, depth?: 1-20}, a symbol, an array of symbols or {commodities, depth?} (${message})`, field || undefined);
    }
    const { commodity, depth } = parsed.data;
    if (!deps.commodities.has(commodity)) return failure('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity');
    if (!fits(socket, [commodity])) return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    join(socket, commodity, depth);
    await deps.feed.sendSnapshot(socket, commodity, depth);
    return success(ServerEvent.BookSubscribed, { commodity, depth, message: messages.bookSubscribed(commodity, depth) });
  }

  async function subscribeMany(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const parsed = subscribeBooksPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return failure('INVALID_PAYLOAD', `Expected {commodities, depth?: 1-20} (${message})`, field || undefined);
    }
    const list = parseCommodities(parsed.data.commodities, deps);
    if (!list.ok) return list.outcome;
    const { depth } = parsed.data;
    if (!fits(socket, list.list)) return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    for (const commodity of list.list) join(socket, commodity, depth);
    await Promise.all(list.list.map((commodity) => deps.feed.sendSnapshot(socket, commodity, depth)));
    return success(ServerEvent.BookSubscribed, { commodities: list.list, depth, message: messages.booksSubscribed(list.list, depth) });
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    if (Array.isArray(payload) || (typeof payload === 'object' && payload !== null && 'commodities' in payload)) {
      const raw = Array.isArray(payload) ? payload : (payload as { commodities?: unknown }).commodities;
      const extra = !Array.isArray(payload) && Object.keys(payload).some((k) => k !== 'commodities');
      if (extra) return failure('INVALID_PAYLOAD', 'Expected {commodities}: unknown keys');
      const list = parseCommodities(raw, deps);
      if (!list.ok) return list.outcome;
      for (const c of list.list) for (const h of bookRooms(socket, c)) void socket.leave(h.room);
      return success(ServerEvent.BookUnsubscribed, { commodities: list.list, message: messages.booksUnsubscribed(list.list) });
    }
    const parsed = unsubscribeBookPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return failure('INVALID_PAYLOAD', `Expected {commodity}, a symbol, an array of symbols or {commodities} (${message})`, field || undefined);
    }
    const { commodity } = parsed.data;
    if (!deps.commodities.has(commodity)) return failure('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity');
    for (const h of bookRooms(socket, commodity)) void socket.leave(h.room);
    return success(ServerEvent.BookUnsubscribed, { commodity, message: messages.bookUnsubscribed(commodity) });
  }

  return {
    name: 'book',
    handlers: { [ClientEvent.SubscribeBook]: subscribe, [ClientEvent.UnsubscribeBook]: unsubscribe },
    onRecovered(socket) {
      for (const commodity of deps.commodities) for (const h of bookRooms(socket, commodity)) void deps.feed.sendSnapshot(socket, commodity, h.depth);
    },
  };
}
