/**
 * A gateway's side of the bus: while a local socket is in a room, this node is subscribed to its
 * stream's channel and the stream is followed by the sequencer — in seq order, exactly once, gaps
 * filled from the Redis history and then the store (the event log, or the tape for `trades-`
 * streams). Market data and book deltas are state: delivered across a gap (the book feed repairs
 * a book from its latest state). Market streams are followed all the time (a handful of channels),
 * so a new subscriber on any gateway gets the latest price at once.
 */
import type { Logger } from 'pino';
import { describeStream, isDataEvent, isDurableStream, roomOfStream, streamOfRoom, streams } from '@qx/protocol';
import type { BusEvent, GatewayPort, StreamFeed } from '../../backplane.js';
import type { LoggedEvent, Store } from '../../../store/store.js';
import type { TapeStore } from '../../../store/tape.js';
import type { BookState } from '../../../core/book-ticker.js';
import { tapeEvent } from '../../../core/tape.js';
import type { RedisBus } from '../shared/redis-bus.js';
import type { RoomSubscriptions } from './room-subscriptions.js';
import { StreamSequencer, type StoredEvent } from './stream-sequencer.js';

export interface RedisFeedDeps {
  bus: RedisBus;
  subscriptions: RoomSubscriptions;
  /** the system of record: the event log and the tape */
  store: Store & { readonly tape: TapeStore };
  /** a tape print's price in wire decimals */
  priceOf: (commodity: string, ticks: number) => number;
  commodities: readonly string[];
  logger: Logger;
}

interface Followed {
  rooms: number;
  ready: Promise<void>;
}

export class RedisStreamFeed implements StreamFeed {
  readonly sequencer: StreamSequencer;
  private readonly followed = new Map<string, Followed>();
  private readonly marketStreams: Set<string>;
  private port: GatewayPort | null = null;

  constructor(private readonly deps: RedisFeedDeps) {
    this.marketStreams = new Set(deps.commodities.map((c) => streams.market(c)));
    this.sequencer = new StreamSequencer({
      logger: deps.logger.child({ part: 'sequencer' }),
      history: (stream, afterSeq, limit) => deps.bus.history(stream, afterSeq, limit),
      fallback: (stream, afterSeq, limit) => this.readStore(stream, afterSeq, limit),
      lastSeq: (stream) => this.storeLastSeq(stream),
      deliver: ({ source: _source, ...event }) => this.port?.deliver([event]),
    });
  }

  /** Starts delivering to `port`: every market stream is followed from its latest seq on. */
  async start(port: GatewayPort, latest: ReadonlyMap<string, number>): Promise<void> {
    this.port = port;
    await Promise.all([...this.marketStreams].map((stream) => this.ensure(stream, latest.get(stream) ?? 0)));
  }

  listen(room: string): void {
    const stream = streamOfRoom(room);
    if (stream === null || this.marketStreams.has(stream)) return;
    void this.ensure(stream).catch(() => undefined);
  }

  unlisten(room: string): void {
    const stream = streamOfRoom(room);
    if (stream === null || this.marketStreams.has(stream)) return;
    const f = this.followed.get(stream);
    if (!f || --f.rooms > 0) return;
    this.followed.delete(stream);
    this.deps.subscriptions.leave(roomOfStream(stream));
    this.sequencer.unfollow(stream);
  }

  async follow(stream: string): Promise<number> {
    const f = this.followed.get(stream);
    // a socket joins the room (listen) before it follows: only a stream no room carries is followed here
    await (f ? f.ready : this.ensure(stream));
    return this.sequencer.lastSeq(stream) ?? this.storeLastSeq(stream);
  }

  read(stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    return readHistoryFirst(this.deps, stream, afterSeq, limit);
  }

  lastSeq(stream: string): Promise<number> {
    return this.storeLastSeq(stream);
  }

  async book(commodity: string): Promise<BookState | null> {
    const stream = streams.book(commodity);
    const text = (await this.deps.bus.bookLatest([stream])).get(stream);
    if (!text) return null;
    const state = JSON.parse(text) as BookState;
    return state.commodity === commodity && Number.isSafeInteger(state.seq) ? state : null;
  }

  close(): void {
    this.port = null;
    this.sequencer.close();
    this.followed.clear();
  }

  /**
   * Resolves once this node receives every event of `stream` published from now on: its channel
   * is subscribed and the sequencer knows where the stream starts. One more room counts on it.
   */
  private ensure(stream: string, lastSeq?: number): Promise<void> {
    let f = this.followed.get(stream);
    if (f) {
      f.rooms++;
      return f.ready;
    }
    const room = roomOfStream(stream);
    // market data and books: the next one matters, not a missed one
    const lossy = !isDurableStream(stream);
    const ready = this.deps.subscriptions
      .join(room)
      .then(() => this.sequencer.follow(stream, { room, lossy, ...(lastSeq !== undefined ? { lastSeq } : {}) }))
      .then(() => undefined);
    f = { rooms: 1, ready };
    this.followed.set(stream, f);
    ready.catch((err: unknown) => {
      this.deps.logger.error({ err, stream }, 'could not follow a stream on the bus');
      if (this.followed.get(stream) === f) this.followed.delete(stream);
    });
    return ready;
  }

  /** The store's events of a durable stream: the event log, or for a tape stream the stored prints. */
  private async readStore(stream: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const info = describeStream(stream);
    if (info?.kind === 'tape') {
      const entries = await this.deps.store.tape.read(info.commodity, afterSeq, limit);
      return entries.map((e) => toStored(tapeEvent(e, this.deps.priceOf)));
    }
    return this.deps.store.readEvents(stream, afterSeq, limit);
  }

  private async storeLastSeq(stream: string): Promise<number> {
    const info = describeStream(stream);
    if (info?.kind === 'tape') return this.deps.store.tape.lastSeq(info.commodity);
    return this.deps.store.lastSeq(stream);
  }
}

function toStored(e: BusEvent): StoredEvent {
  return { stream: e.stream, seq: e.seq, event: e.event, envelope: e.envelope };
}

/**
 * A replay: the Redis history first — recent events are there, and PostgreSQL is spared the reads
 * of a reconnect storm — then PostgreSQL for what the history does not cover (trimmed, expired,
 * lost in a restart).
 */
export async function readHistoryFirst(deps: { bus: RedisBus; store: Store; logger: Logger }, stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
  let fromHistory: LoggedEvent[] = [];
  try {
    const h = await deps.bus.history(stream, afterSeq, limit);
    // the event log's streams only (a tape's market-trade never is one of them)
    fromHistory = h.events.flatMap((m) => (isDataEvent(m.event) ? [{ stream, seq: m.seq, event: m.event, envelope: m.envelope, createdAt: 0 }] : []));
    if (h.complete) return fromHistory;
  } catch (err) {
    deps.logger.debug({ err, stream }, 'history unavailable: reading the store');
  }
  const last = fromHistory.at(-1)?.seq ?? afterSeq;
  const rest = await deps.store.readEvents(stream, last, limit - fromHistory.length);
  return fromHistory.concat(rest);
}
