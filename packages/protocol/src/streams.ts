/**
 * Streams: every numbered sequence of events, named once here. An event belongs to one stream
 * (by its kind and its owner or commodity); a stream's events go to one room, where the sockets
 * that follow it listen. The mapping event → stream → room is written only here.
 *
 * | stream                     | kind     | events            | room                  |
 * |----------------------------|----------|-------------------|-----------------------|
 * | `orders-<user>` (and `trading-`, `compliance-`) | private | order-update, trade-update, compliance-alert | the same name |
 * | `system`                   | system   | system-alert      | `authenticated`       |
 * | `market-<commodity>`       | market   | market-update     | the same name         |
 * | `trades-<commodity>`       | tape     | market-trade      | the same name         |
 * | `book-<commodity>`         | book     | book deltas (between nodes only) | `book-<commodity>-<depth>` rooms |
 * | `status-<commodity>`       | status   | market-status     | the same name         |
 *
 * Private and system streams are durable (the event log); a missed event is read back. Market data
 * and market status are state: the next update supersedes a missed one. The tape is durable too
 * (candles are made from it). Book deltas are state: a gap is repaired from a snapshot of the book.
 */
import { DataEvent, FeedEvent, ServerEvent, isDataEvent, type DataEventName } from './events.js';
import { rooms, SYSTEM_STREAM, parsePrivateStream, type PrivateChannel } from './rooms.js';

export type StreamKind = 'private' | 'system' | 'market' | 'tape' | 'book' | 'status';

export const streams = {
  market: (commodity: string): string => `market-${commodity}`,
  tape: (commodity: string): string => `trades-${commodity}`,
  book: (commodity: string): string => `book-${commodity}`,
  status: (commodity: string): string => `status-${commodity}`,
  system: SYSTEM_STREAM,
  trading: rooms.trading,
  orders: rooms.orders,
  compliance: rooms.compliance,
} as const;

export type StreamInfo =
  | { kind: 'private'; channel: PrivateChannel; userId: string }
  | { kind: 'system' }
  | { kind: 'market' | 'tape' | 'book' | 'status'; commodity: string };

type PublicKind = 'market' | 'tape' | 'book' | 'status';
const PUBLIC_STREAM = /^(market|trades|book|status)-([a-z][a-z0-9_]{0,31})$/;
const PUBLIC_KIND: Record<string, PublicKind> = { market: 'market', trades: 'tape', book: 'book', status: 'status' };

/** What a stream name says: its kind and its owner or commodity; null for a name that is no stream. */
export function describeStream(stream: string): StreamInfo | null {
  if (stream === SYSTEM_STREAM) return { kind: 'system' };
  const p = parsePrivateStream(stream);
  if (p) return { kind: 'private', channel: p.channel, userId: p.userId };
  const m = PUBLIC_STREAM.exec(stream);
  if (m) return { kind: PUBLIC_KIND[m[1] as string] as PublicKind, commodity: m[2] as string };
  return null;
}

/** Whether a missed event of the stream must be read back (durable), rather than superseded by the next. */
export function isDurableStream(stream: string): boolean {
  const kind = describeStream(stream)?.kind;
  return kind === 'private' || kind === 'system' || kind === 'tape';
}

/** The room a stream's events go to (system alerts: every authenticated socket). Book streams fan out per depth on each node. */
export function roomOfStream(stream: string): string {
  return stream === SYSTEM_STREAM ? rooms.authenticated : stream;
}

const BOOK_ROOM = /^book-([a-z][a-z0-9_]{0,31})-\d+$/;

/** The stream a room receives; null for rooms that carry no stream (a socket's own room). */
export function streamOfRoom(room: string): string | null {
  if (room === rooms.authenticated) return SYSTEM_STREAM;
  const book = BOOK_ROOM.exec(room);
  if (book) return streams.book(book[1] as string);
  const info = describeStream(room);
  return info && info.kind !== 'system' && info.kind !== 'book' ? room : null;
}

/** The stream a data event belongs to: its owner's private stream, `system`, or its commodity's market stream. */
export function streamOfEvent(event: DataEventName, owner: { userId?: string | undefined; commodity?: string | undefined }): string {
  switch (event) {
    case DataEvent.MarketUpdate:
      return streams.market(requireField(owner.commodity, 'commodity', event));
    case DataEvent.SystemAlert:
      return SYSTEM_STREAM;
    case DataEvent.TradeUpdate:
      return rooms.trading(requireField(owner.userId, 'userId', event));
    case DataEvent.OrderUpdate:
      return rooms.orders(requireField(owner.userId, 'userId', event));
    case DataEvent.ComplianceAlert:
      return rooms.compliance(requireField(owner.userId, 'userId', event));
  }
}

function requireField(value: string | undefined, name: string, event: string): string {
  if (value === undefined || value === '') throw new TypeError(`${event} needs a ${name}`);
  return value;
}

/**
 * Between nodes only (never sent to a socket): the levels of a commodity's book (top
 * MAX_BOOK_DEPTH a side) that changed, numbered in its `book-<commodity>` stream. Each node keeps
 * the book from them and streams `book-update`s of the depths its sockets asked for.
 */
export const BOOK_DELTA = 'book-delta' as const;

/** The events that travel between nodes: data events, the tape's prints, market status and book deltas. */
export type BusEventName = DataEventName | typeof FeedEvent.MarketTrade | typeof ServerEvent.MarketStatus | typeof BOOK_DELTA;

export function isBusEventName(name: unknown): name is BusEventName {
  return isDataEvent(name) || name === FeedEvent.MarketTrade || name === ServerEvent.MarketStatus || name === BOOK_DELTA;
}

/** Whether a stream is state (its latest event is what counts: market data, market status), kept as the latest per stream. */
export function isStateStream(stream: string): boolean {
  const kind = describeStream(stream)?.kind;
  return kind === 'market' || kind === 'status';
}
