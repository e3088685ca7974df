/**
 * The one path every data event takes, whether it comes from the REST publish API or from the
 * engine in this process: number it in its stream, wrap it in the seed's envelope, commit private
 * events and system alerts to the durable log (with the engine step's journal, in one
 * transaction), and only then hand the encoded frame to the hub for its room. Commits go through
 * one queue, so they are stored and emitted in the order they were published.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { JournalRecord } from '@qx/engine';
import {
  buildEnvelope,
  dataPayloadSchemas,
  describeZodError,
  rooms,
  SYSTEM_STREAM,
  type DataEventName,
  type DataPayloads,
  type ErrorCodeName,
  type MarketUpdatePayload,
} from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { Hub } from './hub.js';
import type { QxSocket } from './types.js';
import { immediateReads, type EventToLog, type Fence, type ImmediateReads, type LoggedEvent, type MarketToLog, type Store } from '../store/store.js';
import type { Metrics } from '../metrics.js';

export interface PublishItem<E extends DataEventName = DataEventName> {
  event: E;
  payload: DataPayloads[E];
  /** owner of a private event; defaults to payload.userId */
  userId?: string | undefined;
}

export interface Published {
  event: DataEventName;
  stream: string;
  seq: number;
}

export interface ReplayResult {
  replayed: number;
  lastSeq: number;
}

export type ValidationResult =
  | { ok: true; item: PublishItem }
  | { ok: false; code: ErrorCodeName; message: string; field?: string };

/** Where committed events go: the local hub, or (cluster mode) the bus, which brings them to every gateway's hub. */
export interface FrameSink {
  deliverToRoom(room: string, frame: OutboundFrame, lone: boolean): void;
  flushAll(): void;
}

export interface PublisherDeps {
  store: Store;
  /** the local sockets' data plane: replays and follows go through it (an engine-only node has none) */
  hub?: Hub | undefined;
  /** where committed events are delivered (default: the hub) */
  sink?: FrameSink | undefined;
  /**
   * Resolves once this node receives every event of `stream` published from now on (cluster
   * mode: its room's bus channel is subscribed); follows and replays read the store only then.
   */
  whenReceiving?: ((stream: string) => Promise<void>) | undefined;
  /**
   * The last seq of `stream` this node has delivered, once `whenReceiving` has resolved (cluster
   * mode: the bus sequencer's; every later event follows in order). A follow starts there rather
   * than ask the store (undefined: ask the store).
   */
  deliveredSeq?: ((stream: string) => number | undefined) | undefined;
  /** a socket's stream positions changed (cluster mode saves its recovery session) */
  positionsChanged?: ((socket: QxSocket) => void) | undefined;
  metrics: Metrics;
  now: () => number;
  commodities: ReadonlySet<string>;
  logger?: Logger | undefined;
}

export interface PublishOptions {
  /** the engine step's journal, committed in the same transaction as the events */
  journal?: readonly JournalRecord[] | undefined;
  /** the engine leader's term (cluster mode) */
  fence?: Fence | undefined;
}

/** Raised for an engine step queued behind one that could not be stored: it is not written either. */
export class EngineStepRefused extends Error {
  constructor() {
    super('an earlier engine step could not be stored; later steps are refused');
    this.name = 'EngineStepRefused';
  }
}

export class Publisher {
  private readonly latestMarket = new Map<string, OutboundFrame>();
  private readonly immediate: ImmediateReads | null;
  /** the commit queue: its tail, and how many commits are queued or running */
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** an engine step failed to commit: no later engine step may be stored (the store would diverge) */
  private journalFailed = false;

  constructor(private readonly deps: PublisherDeps) {
    this.immediate = immediateReads(deps.store);
  }

  /** Loads the latest market data from the store, so subscribers get a price at once. */
  async start(): Promise<void> {
    for (const snap of await this.deps.store.loadMarketSnapshots()) {
      const frame = encodeFrame('market-update', snap.envelope, { stream: rooms.market(snap.commodity), seq: snap.seq, conflateKey: snap.commodity, publishedAt: 0 });
      frame.timed = true;
      this.latestMarket.set(snap.commodity, frame);
    }
  }

  /** Checks an untrusted `{event, payload, userId}` against the event's schema and the catalogue. */
  validate(event: DataEventName, payload: unknown, userId: string | undefined): ValidationResult {
    const parsed = dataPayloadSchemas[event].safeParse(payload);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return { ok: false, code: 'INVALID_PAYLOAD', message, field: field ? `payload.${field}` : 'payload' };
    }
    const data = parsed.data as Record<string, unknown>;
    const owner = typeof data['userId'] === 'string' ? data['userId'] : undefined;
    if (owner !== undefined && userId !== undefined && owner !== userId) {
      return { ok: false, code: 'INVALID_PAYLOAD', message: 'userId does not match payload.userId', field: 'userId' };
    }
    const commodity = typeof data['commodity'] === 'string' ? data['commodity'] : undefined;
    if (commodity !== undefined && !this.deps.commodities.has(commodity)) {
      return { ok: false, code: 'UNKNOWN_COMMODITY', message: `Unknown commodity: ${commodity}`, field: 'payload.commodity' };
    }
    const affected = data['affectedCommodities'];
    if (Array.isArray(affected)) {
      const unknown = affected.filter((c) => typeof c === 'string' && !this.deps.commodities.has(c));
      if (unknown.length) return { ok: false, code: 'UNKNOWN_COMMODITY', message: `Unknown commodity: ${unknown.join(', ')}`, field: 'payload.affectedCommodities' };
    }
    return { ok: true, item: { event, payload: parsed.data, userId: userId ?? owner } };
  }

  /** Publishes one event, for a caller that does not wait: a failure is logged. */
  publish(item: PublishItem): void {
    this.publishMany([item]);
  }

  /** Publishes several events atomically (see `commit`), for a caller that does not wait: a failure is logged. */
  publishMany(items: readonly PublishItem[], options: PublishOptions = {}): void {
    this.commit(items, options).catch((err: unknown) => this.deps.logger?.error({ err }, 'events not published: the store refused them'));
  }

  /**
   * Publishes several events atomically: the durable ones are committed in one transaction (with
   * the engine step's journal, if any), and only then is anything emitted. Resolves once
   * committed and handed to the hub; rejects (nothing stored, nothing emitted, no number used)
   * when the store refuses. Commits are queued: each starts when the one before has settled, and
   * with nothing to publish this still waits for the commits before it.
   */
  commit(items: readonly PublishItem[], options: PublishOptions = {}): Promise<Published[]> {
    const publishedAt = performance.now();
    const run = (): Promise<Published[]> => this.commitAndDeliver(items, options, publishedAt);
    // nothing queued: start now (an in-process store has committed by the time this returns)
    const result = this.pending === 0 ? run() : this.tail.then(run);
    this.pending++;
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /** Resolves once every commit queued so far has settled. */
  async drain(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  private async commitAndDeliver(items: readonly PublishItem[], options: PublishOptions, publishedAt: number): Promise<Published[]> {
    const journal = options.journal ?? [];
    if (journal.length && this.journalFailed) throw new EngineStepRefused();
    if (items.length === 0 && journal.length === 0) return [];
    const nowMs = this.deps.now();
    const timestamp = new Date(nowMs).toISOString();
    // the store numbers both; it returns the events first, then the market-updates
    const events: EventToLog[] = [];
    const market: MarketToLog[] = [];
    const rooms: { index: number; room: string }[] = [];
    const marketIndexes: number[] = [];
    for (const [index, item] of items.entries()) {
      const encoded = this.encode(item, nowMs, timestamp);
      if ('market' in encoded) {
        market.push(encoded.market);
        marketIndexes.push(index);
      } else {
        events.push(encoded.toLog);
        rooms.push({ index, room: encoded.room });
      }
    }
    let written: LoggedEvent[];
    try {
      written = await this.deps.store.commit({ journal, events, market }, options.fence);
    } catch (err) {
      if (journal.length) this.journalFailed = true;
      throw err;
    }
    const frames = new Array<{ room: string; frame: OutboundFrame<DataEventName> }>(items.length);
    for (const [i, { index, room }] of rooms.entries()) {
      const e = written[i] as LoggedEvent;
      frames[index] = { room, frame: encodeFrame(e.event, e.envelope, { stream: e.stream, seq: e.seq, conflateKey: null, publishedAt }) };
    }
    for (const [i, index] of marketIndexes.entries()) {
      const e = written[rooms.length + i] as LoggedEvent;
      const commodity = (market[i] as MarketToLog).commodity;
      frames[index] = { room: e.stream, frame: encodeFrame('market-update', e.envelope, { stream: e.stream, seq: e.seq, conflateKey: commodity, publishedAt }) };
    }
    const results: Published[] = [];
    const sink = this.deps.sink ?? this.hub;
    for (const { room, frame } of frames) {
      results.push({ event: frame.event, stream: frame.stream, seq: frame.seq });
      if (frame.conflateKey !== null) this.latestMarket.set(frame.conflateKey, frame);
      this.deps.metrics.eventsPublished.labels(frame.event).inc();
      // a lone event is written as the room is walked; a batch is queued, to leave in one write per socket
      sink.deliverToRoom(room, frame, frames.length === 1);
    }
    // the whole batch is queued: write it now, one write per socket, rather than a turn later
    if (frames.length) sink.flushAll();
    return results;
  }

  private get hub(): Hub {
    if (!this.deps.hub) throw new Error('this node serves no sockets');
    return this.deps.hub;
  }

  /** A market-update that reached this node from elsewhere (the bus): the snapshot for new subscribers. */
  noteMarketFrame(commodity: string, frame: OutboundFrame): void {
    const known = this.latestMarket.get(commodity);
    if (!known || known.seq < frame.seq) this.latestMarket.set(commodity, frame);
  }

  latestMarketFrame(commodity: string): OutboundFrame | undefined {
    return this.latestMarket.get(commodity);
  }

  /** The payload of a commodity's latest market-update (null before any). */
  latestMarketPayload(commodity: string): MarketUpdatePayload | null {
    const frame = this.latestMarket.get(commodity);
    if (!frame) return null;
    const envelope = JSON.parse(frame.packet.slice(frame.packet.indexOf(',') + 1, -1)) as { payload?: MarketUpdatePayload };
    return envelope.payload ?? null;
  }

  /** Latest market-update envelope per commodity (REST snapshot). */
  latestMarketEnvelopes(): unknown[] {
    return [...this.latestMarket.values()].map((f) => JSON.parse(f.packet.slice(f.packet.indexOf(',') + 1, -1)) as unknown);
  }

  /**
   * Sends a socket what it missed in a stream after `afterSeq`, in order, ahead of any newer
   * event. With an in-process store the replay is queued before this returns; otherwise the
   * stream's live events are held back from the socket until the replay has been read. Resolves
   * with how many were sent and the last seq sent.
   */
  replay(socket: QxSocket, stream: string, afterSeq: number, limit: number): Promise<ReplayResult> {
    if (this.immediate) {
      try {
        return Promise.resolve(this.deliverReplay(socket, stream, afterSeq, this.immediate.readEventsNow(stream, afterSeq, limit)));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.hub.hold(socket, stream);
    let upTo = afterSeq;
    // read only once this node receives the stream live: what is published meanwhile is in the read or held
    const receiving = this.deps.whenReceiving?.(stream) ?? Promise.resolve();
    return receiving.then(() => this.deps.store.readEvents(stream, afterSeq, limit)).then(
      (events) => {
        const result = this.deliverReplay(socket, stream, afterSeq, events);
        upTo = result.lastSeq;
        return result;
      },
    ).finally(() => this.hub.release(socket, stream, upTo));
  }

  /**
   * Makes `socket` follow `stream` through `room` from now on: records where the stream stands
   * (nothing after it may be missed) and joins the room. Resolves with that seq.
   */
  follow(socket: QxSocket, stream: string, room: string): Promise<number> {
    if (this.immediate) {
      try {
        const last = this.immediate.lastSeqNow(stream);
        socket.data.written[stream] = last;
        socket.data.confirmed[stream] = last;
        void socket.join(room);
        return Promise.resolve(last);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    // joined first, held back until the start is known: an event committed meanwhile is kept
    this.hub.hold(socket, stream);
    void socket.join(room);
    let upTo = Number.MAX_SAFE_INTEGER;
    const receiving = this.deps.whenReceiving?.(stream) ?? Promise.resolve();
    return receiving.then(() => this.deps.deliveredSeq?.(stream) ?? this.deps.store.lastSeq(stream)).then(
      (last) => {
        upTo = last;
        if (socket.data.written[stream] === undefined || socket.data.written[stream] < last) socket.data.written[stream] = last;
        if (socket.data.confirmed[stream] === undefined || socket.data.confirmed[stream] < last) socket.data.confirmed[stream] = last;
        this.deps.positionsChanged?.(socket);
        return last;
      },
    ).finally(() => this.hub.release(socket, stream, upTo));
  }

  /**
   * Catches a socket up on a stream it is in (`room`) when nobody waits for the outcome: replays
   * after `from`, or, without one, starts following from now. A store failure is logged; the
   * client can still resume by seq or page through REST.
   */
  catchUp(socket: QxSocket, stream: string, room: string, from: number | undefined, limit: number): void {
    const done = from === undefined ? this.follow(socket, stream, room) : this.replay(socket, stream, from, limit);
    done.catch((err: unknown) => this.deps.logger?.warn({ err, stream }, 'replay failed: the event log could not be read'));
  }

  /** The newest seq of `stream`, as the in-process store knows it (a store with immediate reads only). */
  lastSeq(stream: string): number {
    if (!this.immediate) throw new Error('lastSeq needs a store with immediate reads; use lastSeqOf');
    return this.immediate.lastSeqNow(stream);
  }

  /** The newest committed seq of `stream`, from the store. */
  lastSeqOf(stream: string): Promise<number> {
    return this.deps.store.lastSeq(stream);
  }

  private deliverReplay(socket: QxSocket, stream: string, afterSeq: number, events: readonly LoggedEvent[]): ReplayResult {
    for (const e of events) {
      const frame = encodeFrame(e.event, e.envelope, { stream, seq: e.seq, conflateKey: null, publishedAt: 0 });
      frame.timed = true;
      this.hub.deliverToSocket(socket, frame);
    }
    const last = events.at(-1);
    return { replayed: events.length, lastSeq: last ? last.seq : Math.max(afterSeq, 0) };
  }

  private encode(item: PublishItem, nowMs: number, timestamp: string): { market: MarketToLog } | { room: string; toLog: EventToLog } {
    const { event } = item;
    const payload = withTimestamp(event, item.payload, timestamp);
    if (event === 'market-update') {
      const p = payload as DataPayloads['market-update'];
      return { market: { commodity: p.commodity, createdAt: nowMs, render: (seq) => JSON.stringify(buildEnvelope(event, p, { timestamp, seq })) } };
    }
    if (event === 'system-alert') {
      return {
        room: rooms.authenticated,
        toLog: {
          stream: SYSTEM_STREAM,
          event,
          createdAt: nowMs,
          render: (seq) => JSON.stringify(buildEnvelope(event, payload as DataPayloads['system-alert'], { timestamp, seq })),
        },
      };
    }
    const userId = item.userId ?? (payload as { userId: string }).userId;
    const stream = event === 'trade-update' ? rooms.trading(userId) : event === 'order-update' ? rooms.orders(userId) : rooms.compliance(userId);
    return {
      room: stream,
      toLog: {
        stream,
        event,
        createdAt: nowMs,
        render: (seq) => JSON.stringify(buildEnvelope(event as 'order-update', payload as DataPayloads['order-update'], { timestamp, seq, userId })),
      },
    };
  }
}

/** Fills the payload timestamp the seed shows, when the publisher left it out. */
function withTimestamp<E extends DataEventName>(event: E, payload: DataPayloads[E], timestamp: string): DataPayloads[E] {
  if (event === 'trade-update' || event === 'compliance-alert') return payload;
  const p = payload as { timestamp?: string | undefined };
  return p.timestamp ? payload : { ...payload, timestamp };
}
