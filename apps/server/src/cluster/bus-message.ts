/**
 * What travels on the bus: an event already numbered in its stream and rendered as the envelope
 * clients receive, so each gateway forwards it without re-encoding the payload. On a room's
 * channel a message is `<epoch>\n<header>\n<envelope>`, the header being `[room, stream, seq, event]` as
 * JSON; history entries keep `<header>\n<envelope>` (the epoch is the history's, not the entry's).
 */
import { FeedEvent, isDataEvent, type DataEventName } from '@qx/protocol';

/** What the bus carries: the data events, and the public tape's `market-trade` (not in the event log). */
export type BusEventName = DataEventName | typeof FeedEvent.MarketTrade;

export function isBusEvent(name: unknown): name is BusEventName {
  return isDataEvent(name) || name === FeedEvent.MarketTrade;
}

/** One event to publish: numbered (seq) and rendered (envelope JSON text) by the store's commit. */
export interface BusEvent {
  /** where sockets listen: `orders-user-1`, `market-crude_oil`, `authenticated` (system alerts) */
  room: string;
  /** the numbered sequence it belongs to: `orders-user-1`, `market-crude_oil`, `system` */
  stream: string;
  seq: number;
  event: BusEventName;
  envelope: string;
}

/** An event read off the bus (a room's channel, the history, or the market snapshot hash). */
export interface BusMessage extends BusEvent {
  /** the Redis epoch it was published under ('' for history entries and snapshots) */
  epoch: string;
}

/** `[room, stream, seq, event]` as JSON: no raw newline can occur in it, so it ends at the first `\n`. */
export function encodeHeader(e: Omit<BusEvent, 'envelope'>): string {
  return JSON.stringify([e.room, e.stream, e.seq, e.event]);
}

/** Parses `<header>\n<envelope>`; null when it is not one (never throws). */
export function parseEntry(epoch: string, text: string): BusMessage | null {
  const nl = text.indexOf('\n');
  if (nl < 0) return null;
  let header: unknown;
  try {
    header = JSON.parse(text.slice(0, nl));
  } catch {
    return null;
  }
  if (!Array.isArray(header) || header.length !== 4) return null;
  const [room, stream, seq, event] = header as unknown[];
  if (typeof room !== 'string' || room === '' || typeof stream !== 'string' || stream === '' || !Number.isSafeInteger(seq) || (seq as number) < 1 || !isBusEvent(event)) return null;
  return { room, stream, seq: seq as number, event, envelope: text.slice(nl + 1), epoch };
}

/** Parses a channel message `<epoch>\n<header>\n<envelope>`; null when malformed. */
export function parseChannelMessage(text: string): BusMessage | null {
  const nl = text.indexOf('\n');
  if (nl <= 0) return null;
  return parseEntry(text.slice(0, nl), text.slice(nl + 1));
}

/** Redis names. Stream keys carry a hash tag so a stream's keys would share a slot. */
export const busKeys = {
  epoch: 'qx:epoch',
  history: (stream: string): string => `qx:{${stream}}:hist`,
  roomChannel: (room: string): string => `qx:room:${room}`,
  marketLatest: 'qx:market:latest',
} as const;

export const ROOM_CHANNEL_PREFIX = 'qx:room:';
