/**
 * The gateway's one path for every event that reaches this node (in one process straight from the
 * trading core, in a cluster off the bus): each is encoded for the wire once, here, and handed to
 * the hub, which fans it out to the sockets of its room — market data conflatable, private events
 * never. Book deltas go to the book feed, which streams the depths its sockets asked for.
 *
 * It also brings a socket into a stream without a gap or a repeat: `follow` starts it at the point
 * from which this node delivers everything, `replay` sends what it missed from the event log ahead
 * of anything newer (the stream's live frames are held back from that socket meanwhile).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { BOOK_DELTA, ServerEvent, describeStream, isStateStream, streams, type MarketStatusPayload, type MarketUpdatePayload } from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { Hub } from './hub.js';
import type { QxSocket } from './types.js';
import type { BusEvent, RecoverySessions, StreamFeed } from '../backplane/backplane.js';
import type { LoggedEvent } from '../store/store.js';
import type { Metrics } from '../metrics.js';

export interface ReplayResult {
  replayed: number;
  lastSeq: number;
}

export interface DeliveryDeps {
  hub: Hub;
  feed: StreamFeed;
  sessions: RecoverySessions;
  metrics: Metrics;
  /** book deltas: the node's books and the depths its sockets stream */
  onBookDelta: (event: BusEvent) => void;
  logger?: Logger | undefined;
}

export class Delivery {
  /** the latest event of each state stream (market data, market status) */
  private readonly latest = new Map<string, OutboundFrame>();

  constructor(private readonly deps: DeliveryDeps) {}

  /** Events of this node's streams, in seq order per stream, each once. */
  readonly deliver = (events: readonly BusEvent[]): void => {
    const receivedAt = performance.now();
    const lone = events.length === 1;
    for (const e of events) {
      if (e.event === BOOK_DELTA) {
        this.deps.onBookDelta(e);
        continue;
      }
      // state (market data, market status): a slow socket may skip to the latest; the latest is each subscriber's snapshot
      const state = isStateStream(e.stream);
      const frame = encodeFrame(e.event, e.envelope, { stream: e.stream, seq: e.seq, conflateKey: state ? e.stream : null, publishedAt: receivedAt });
      if (state) {
        const known = this.latest.get(e.stream);
        if (known && known.seq >= e.seq) continue;
        this.latest.set(e.stream, frame);
      }
      // an order's way so far: timed hop by hop once its update is written to the owner's socket
      if (e.meta) frame.path = { times: e.meta, deliveredAt: performance.timeOrigin + receivedAt };
      // a lone event is written as the room is walked; a batch is queued, to leave in one write per socket
      this.deps.hub.deliverToRoom(e.room, frame, lone);
    }
    // the whole batch is queued: write it now, one write per socket, rather than a turn later
    if (!lone && events.length) this.deps.hub.flushAll();
  };

  latestMarketFrame(commodity: string): OutboundFrame | undefined {
    return this.latest.get(streams.market(commodity));
  }

  /** The payload of a commodity's latest market-update (null before any). */
  latestMarketPayload(commodity: string): MarketUpdatePayload | null {
    const frame = this.latestMarketFrame(commodity);
    if (!frame) return null;
    return (JSON.parse(frameEnvelope(frame)) as { payload?: MarketUpdatePayload }).payload ?? null;
  }

  /** Latest market-update envelope per commodity (REST snapshot). */
  latestMarketEnvelopes(): unknown[] {
    return [...this.latest].filter(([stream]) => describeStream(stream)?.kind === 'market').map(([, f]) => JSON.parse(frameEnvelope(f)) as unknown);
  }

  /** A commodity's latest market-status frame (undefined before any reached this node). */
  latestStatusFrame(commodity: string): OutboundFrame | undefined {
    return this.latest.get(streams.status(commodity));
  }

  /** A commodity's market status as this node last heard it; open (seq 0) until the trading core said otherwise. */
  latestStatus(commodity: string): MarketStatusPayload {
    const frame = this.latestStatusFrame(commodity);
    return frame ? (JSON.parse(frameEnvelope(frame)) as MarketStatusPayload) : this.defaultStatus(commodity);
  }

  /** The status of a commodity whose status never changed: open, since this node started (seq 0). */
  defaultStatusFrame(commodity: string): OutboundFrame {
    const stream = streams.status(commodity);
    const frame = encodeFrame(ServerEvent.MarketStatus, JSON.stringify(this.defaultStatus(commodity)), { stream, seq: 0, conflateKey: stream, publishedAt: 0 });
    frame.timed = true;
    return frame;
  }

  private defaultStatus(commodity: string): MarketStatusPayload {
    return { commodity, status: 'open', reason: 'Trading session open', since: this.startedAt, until: null, seq: 0 };
  }

  private readonly startedAt = new Date().toISOString();

  /**
   * Sends a socket what it missed in a stream after `afterSeq`, in order, ahead of any newer event
   * (the stream's live events are held back from the socket until the replay has been read).
   * Resolves with how many were sent and the last seq sent.
   */
  replay(socket: QxSocket, stream: string, afterSeq: number, limit: number): Promise<ReplayResult> {
    const { hub } = this.deps;
    hub.hold(socket, stream);
    let upTo = afterSeq;
    // read only once this node receives the stream live: what is published meanwhile is in the read or held
    return this.deps.feed
      .follow(stream)
      .then(() => this.deps.feed.read(stream, afterSeq, limit))
      .then((events) => {
        const result = this.deliverReplay(socket, stream, afterSeq, events);
        upTo = result.lastSeq;
        return result;
      })
      .finally(() => hub.release(socket, stream, upTo));
  }

  /**
   * Makes `socket` follow `stream` through `room` from now on: records where the stream stands
   * (nothing after it may be missed) and joins the room. Resolves with that seq.
   */
  follow(socket: QxSocket, stream: string, room: string): Promise<number> {
    const { hub } = this.deps;
    // joined first, held back until the start is known: an event delivered meanwhile is kept
    hub.hold(socket, stream);
    void socket.join(room);
    let upTo = Number.MAX_SAFE_INTEGER;
    return this.deps.feed
      .follow(stream)
      .then((last) => {
        upTo = last;
        if (socket.data.written[stream] === undefined || socket.data.written[stream] < last) socket.data.written[stream] = last;
        if (socket.data.confirmed[stream] === undefined || socket.data.confirmed[stream] < last) socket.data.confirmed[stream] = last;
        this.deps.sessions.touch(socket);
        return last;
      })
      .finally(() => hub.release(socket, stream, upTo));
  }

  /**
   * Catches a socket up on a stream it is in (`room`) when nobody waits for the outcome: replays
   * after `from`, or, without one, starts following from now. A failed read is logged; the client
   * can still resume by seq or page through REST.
   */
  catchUp(socket: QxSocket, stream: string, room: string, from: number | undefined, limit: number): void {
    const done = from === undefined ? this.follow(socket, stream, room) : this.replay(socket, stream, from, limit);
    done.catch((err: unknown) => this.deps.logger?.warn({ err, stream }, 'replay failed: the event log could not be read'));
  }

  /** The newest committed seq of `stream`. */
  lastSeqOf(stream: string): Promise<number> {
    return this.deps.feed.lastSeq(stream);
  }

  private deliverReplay(socket: QxSocket, stream: string, afterSeq: number, events: readonly LoggedEvent[]): ReplayResult {
    for (const e of events) {
      const frame = encodeFrame(e.event, e.envelope, { stream, seq: e.seq, conflateKey: null, publishedAt: 0 });
      frame.timed = true;
      this.deps.hub.deliverToSocket(socket, frame);
    }
    const last = events.at(-1);
    return { replayed: events.length, lastSeq: last ? last.seq : Math.max(afterSeq, 0) };
  }
}

/** The envelope JSON inside a frame's Socket.IO packet `2["<event>",<envelope>]`. */
function frameEnvelope(frame: OutboundFrame): string {
  return frame.packet.slice(frame.event.length + 5, -1);
}
