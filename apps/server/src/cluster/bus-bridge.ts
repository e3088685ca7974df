/**
 * A gateway's side of the bus: while a local socket is in a room, this node is subscribed to the
 * room's channel and its stream is followed by the sequencer (in seq order, exactly once, gaps
 * filled from the Redis history or PostgreSQL); each event is encoded once on this node and handed
 * to the hub, which fans it out to the local sockets (conflation, slow consumers and private-first
 * flushing as in one process). Market streams are followed all the time (a handful of channels),
 * so a new subscriber on any gateway gets the latest price at once.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { rooms, SYSTEM_STREAM } from '@qx/protocol';
import { encodeFrame } from '../realtime/frame.js';
import type { Hub } from '../realtime/hub.js';
import type { Publisher } from '../realtime/publisher.js';
import type { QxServer } from '../realtime/types.js';
import type { RoomSubscriptions } from './room-subscriptions.js';
import type { SequencedEvent, StreamSequencer } from './stream-sequencer.js';

export interface BusBridgeDeps {
  io: QxServer;
  hub: Hub;
  publisher: Publisher;
  subscriptions: RoomSubscriptions;
  sequencer: StreamSequencer;
  commodities: readonly string[];
  logger: Logger;
}

/** The stream whose events a room receives, for the rooms that carry data (null for others). */
export function streamOfRoom(room: string): string | null {
  if (room === rooms.authenticated) return SYSTEM_STREAM;
  if (/^(market|trading|orders|compliance|trades)-./.test(room)) return room;
  return null;
}

/** The room an event of `stream` goes to (its own; system alerts go to every authenticated socket). */
export function roomOfStream(stream: string): string {
  return stream === SYSTEM_STREAM ? rooms.authenticated : stream;
}

export class BusBridge {
  /** rooms this node receives, and the promise that says since when */
  private readonly active = new Map<string, Promise<void>>();
  private readonly marketRooms: Set<string>;
  private readonly onCreate = (room: string) => void this.ensure(room);
  private readonly onDelete = (room: string) => this.release(room);

  constructor(private readonly deps: BusBridgeDeps) {
    this.marketRooms = new Set(deps.commodities.map((c) => rooms.market(c)));
    const adapter = deps.io.of('/').adapter;
    adapter.on('create-room', this.onCreate);
    adapter.on('delete-room', this.onDelete);
  }

  /** Subscribes every market stream (from their latest seq on) before the gateway serves. */
  async start(latest: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all([...this.marketRooms].map((room) => this.ensure(room, latest.get(room) ?? 0)));
  }

  /** The sequencer's delivery: one encoding per node, then the hub. */
  deliver = (e: SequencedEvent): void => {
    const market = this.marketRooms.has(e.room);
    const commodity = market ? e.room.slice('market-'.length) : null;
    const frame = encodeFrame(e.event, e.envelope, { stream: e.stream, seq: e.seq, conflateKey: commodity, publishedAt: performance.now() });
    if (commodity !== null) this.deps.publisher.noteMarketFrame(commodity, frame);
    this.deps.hub.deliverToRoom(e.room, frame, true);
  };

  /**
   * Resolves once this node receives every event of `room`'s stream published from now on: its
   * channel is subscribed and the sequencer knows where the stream starts.
   */
  ensure(room: string, lastSeq?: number): Promise<void> {
    const stream = streamOfRoom(room);
    if (stream === null) return Promise.resolve();
    let ready = this.active.get(room);
    if (!ready) {
      // market data and the tape: the next one matters, not a missed one (the tape's candles are in PostgreSQL)
      const lossy = this.marketRooms.has(room) || room.startsWith('trades-');
      ready = this.deps.subscriptions
        .join(room)
        .then(() => this.deps.sequencer.follow(stream, { room, lossy, ...(lastSeq !== undefined ? { lastSeq } : {}) }))
        .then(() => undefined);
      ready.catch((err: unknown) => {
        this.deps.logger.error({ err, room }, 'could not follow a room on the bus');
        this.active.delete(room);
      });
      this.active.set(room, ready);
    }
    return ready;
  }

  private release(room: string): void {
    if (this.marketRooms.has(room) || !this.active.has(room)) return;
    const stream = streamOfRoom(room);
    this.active.delete(room);
    this.deps.subscriptions.leave(room);
    if (stream) this.deps.sequencer.unfollow(stream);
  }

  close(): void {
    const adapter = this.deps.io.of('/').adapter;
    adapter.off('create-room', this.onCreate);
    adapter.off('delete-room', this.onDelete);
    this.active.clear();
  }
}
