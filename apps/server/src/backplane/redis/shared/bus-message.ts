/**
 * What travels on the bus: an event already numbered in its stream and rendered as the JSON
 * clients receive, so each gateway forwards it without re-encoding the payload. On a stream's
 * channel a message is `<epoch>\n<header>\n<envelope>`, the header being `[room, stream, seq,
 * event]` (plus the order path's times, and its trace, when it carries them) as JSON; history
 * entries keep `<header>\n<envelope>` (the epoch is the history's, not the entry's).
 */
import { isBusEventName, rooms, streams } from '@qx/protocol';
import type { BusEvent, PathTimes } from '../../backplane.js';
import { TRACEPARENT } from '../../../tracing/order-tracing.js';

export type { BusEvent };

/** An event read off the bus (a room's channel, the history, or the latest-state hashes). */
export interface BusMessage extends BusEvent {
  /** the Redis epoch it was published under ('' for history entries and snapshots) */
  epoch: string;
}

/** `[room, stream, seq, event(, times)]` as JSON: no raw newline can occur in it, so it ends at the first `\n`. */
export function encodeHeader(e: Omit<BusEvent, 'envelope'>): string {
  return JSON.stringify(e.meta ? [e.room, e.stream, e.seq, e.event, e.meta] : [e.room, e.stream, e.seq, e.event]);
}

const TIME_KEYS = ['receivedAt', 'queuedAt', 'startedAt', 'committedAt', 'publishedAt'] as const;

function parseTimes(value: unknown): PathTimes | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const times: PathTimes = {};
  for (const key of TIME_KEYS) {
    const t = (value as Record<string, unknown>)[key];
    if (t === undefined) continue;
    if (typeof t !== 'number' || !Number.isFinite(t)) return null;
    times[key] = t;
  }
  // the order's trace, while traces are exported (a W3C traceparent)
  const trace = (value as Record<string, unknown>)['trace'];
  if (trace !== undefined) {
    if (typeof trace !== 'string' || !TRACEPARENT.test(trace)) return null;
    times.trace = trace;
  }
  return times;
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
  if (!Array.isArray(header) || (header.length !== 4 && header.length !== 5)) return null;
  const [room, stream, seq, event, meta] = header as unknown[];
  if (typeof room !== 'string' || room === '' || typeof stream !== 'string' || stream === '' || !Number.isSafeInteger(seq) || (seq as number) < 1 || !isBusEventName(event)) return null;
  const message: BusMessage = { room, stream, seq: seq as number, event, envelope: text.slice(nl + 1), epoch };
  if (header.length === 5) {
    const times = parseTimes(meta);
    if (!times) return null;
    message.meta = times;
  }
  return message;
}

/** Parses a channel message `<epoch>\n<header>\n<envelope>`; null when malformed. */
export function parseChannelMessage(text: string): BusMessage | null {
  const nl = text.indexOf('\n');
  if (nl <= 0) return null;
  return parseEntry(text.slice(0, nl), text.slice(nl + 1));
}

/**
 * Redis names. Each stream's keys and channel carry the stream as their hash tag (`{…}`), so on a
 * Redis Cluster they live on one shard, and the script that appends to a stream's history and
 * publishes on its channel touches one slot. Nothing global: a batch of events across streams is
 * published stream by stream.
 */
export const busKeys = {
  /** the stream's epoch: a random id, new when Redis lost the stream's keys */
  epoch: (stream: string): string => `qx:{${stream}}:epoch`,
  /** a durable stream's recent events (a Redis Stream, entry ids `0-<seq>`) */
  history: (stream: string): string => `qx:{${stream}}:hist`,
  /** a market stream's latest event, or a book stream's latest state */
  latest: (stream: string): string => `qx:{${stream}}:latest`,
  /** the stream's sharded pub/sub channel (SPUBLISH/SSUBSCRIBE) */
  channel: (stream: string): string => `qx:{${stream}}:ch`,
  /** the channel carrying the events of a room (the room a stream's events go to, see roomOfStream) */
  roomChannel: (room: string): string => busKeys.channel(busStreamOfRoom(room)),
} as const;

/** The stream whose events a room receives on the bus (the inverse of roomOfStream). */
export function busStreamOfRoom(room: string): string {
  return room === rooms.authenticated ? streams.system : room;
}

/** The stream a channel carries (null when it is not a stream channel). */
export function streamOfChannel(channel: string): string | null {
  const m = /^qx:\{(.+)\}:ch$/.exec(channel);
  return m ? (m[1] as string) : null;
}
