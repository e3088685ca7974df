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
  unsubscribeBookPayloadSchema,
} from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { BookFeed } from '../realtime/book-feed.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';

export interface BookChannelDeps {
  feed: BookFeed;
  commodities: ReadonlySet<string>;
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
  async function subscribe(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const parsed = subscribeBookPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return failure('INVALID_PAYLOAD', `Expected {commodity, depth?: 1-20} (${message})`, field || undefined);
    }
    const { commodity, depth } = parsed.data;
    if (!deps.commodities.has(commodity)) return failure('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity');
    const held = bookRooms(socket, commodity);
    if (held.length === 0 && subscriptionCount(socket) + 1 > deps.maxSubscriptionsPerSocket) {
      return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
    }
    const room = rooms.book(commodity, depth);
    for (const h of held) if (h.room !== room) void socket.leave(h.room);
    void socket.join(room);
    await deps.feed.sendSnapshot(socket, commodity, depth);
    return success(ServerEvent.BookSubscribed, { commodity, depth, message: messages.bookSubscribed(commodity, depth) });
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    const parsed = unsubscribeBookPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return failure('INVALID_PAYLOAD', `Expected {commodity} (${message})`, field || undefined);
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
