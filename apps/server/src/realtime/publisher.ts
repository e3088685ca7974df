/**
 * The one path every data event takes, whether it comes from the REST publish API or from the
 * engine in this process: number it in its stream, wrap it in the seed's envelope, append private
 * events and system alerts to the durable log (before anything is emitted), and hand the encoded
 * frame to the hub for its room.
 */
import { performance } from 'node:perf_hooks';
import {
  buildEnvelope,
  dataPayloadSchemas,
  describeZodError,
  rooms,
  SYSTEM_STREAM,
  type DataEventName,
  type DataPayloads,
  type ErrorCodeName,
} from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { Hub } from './hub.js';
import type { QxSocket } from './types.js';
import type { EventLog } from '../store/event-log.js';
import type { MarketSnapshotStore } from '../store/market-snapshots.js';
import type { Sqlite } from '../store/database.js';
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

export type ValidationResult =
  | { ok: true; item: PublishItem }
  | { ok: false; code: ErrorCodeName; message: string; field?: string };

export interface PublisherDeps {
  db: Sqlite;
  eventLog: EventLog;
  snapshots: MarketSnapshotStore;
  hub: Hub;
  metrics: Metrics;
  now: () => number;
  commodities: ReadonlySet<string>;
}

export class Publisher {
  private readonly marketSeqs = new Map<string, number>();
  private readonly latestMarket = new Map<string, OutboundFrame>();

  constructor(private readonly deps: PublisherDeps) {
    for (const snap of deps.snapshots.loadAll()) {
      this.marketSeqs.set(snap.commodity, snap.seq);
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

  publish(item: PublishItem): Published {
    return this.publishMany([item])[0] as Published;
  }

  /**
   * Publishes several events atomically: the durable ones are logged in one transaction (with
   * `alsoInTransaction`, e.g. the engine's journal), and only then is anything emitted.
   */
  publishMany(items: readonly PublishItem[], alsoInTransaction?: () => void): Published[] {
    const publishedAt = performance.now();
    const nowMs = this.deps.now();
    const timestamp = new Date(nowMs).toISOString();
    const frames: { room: string; frame: OutboundFrame }[] = [];
    const results: Published[] = [];
    const marketSeqsBefore = new Map(this.marketSeqs);
    const write = this.deps.db.transaction(() => {
      alsoInTransaction?.();
      for (const item of items) {
        const { room, frame } = this.encode(item, nowMs, timestamp, publishedAt);
        frames.push({ room, frame });
        results.push({ event: item.event, stream: frame.stream, seq: frame.seq });
      }
    });
    try {
      write();
    } catch (err) {
      this.deps.eventLog.resetCache();
      for (const [k, v] of marketSeqsBefore) this.marketSeqs.set(k, v);
      throw err;
    }
    for (const { room, frame } of frames) {
      if (frame.conflateKey !== null) this.latestMarket.set(frame.conflateKey, frame);
      this.deps.metrics.eventsPublished.labels(frame.event).inc();
      // a lone event is written as the room is walked; a batch is queued, to leave in one write per socket
      this.deps.hub.deliverToRoom(room, frame, frames.length === 1);
    }
    // the whole batch is queued: write it now, one write per socket, rather than a turn later
    this.deps.hub.flushAll();
    return results;
  }

  latestMarketFrame(commodity: string): OutboundFrame | undefined {
    return this.latestMarket.get(commodity);
  }

  /** Latest market-update envelope per commodity (REST snapshot). */
  latestMarketEnvelopes(): unknown[] {
    return [...this.latestMarket.values()].map((f) => JSON.parse(f.packet.slice(f.packet.indexOf(',') + 1, -1)) as unknown);
  }

  /**
   * Sends a socket what it missed in a private stream after `afterSeq`, in order, ahead of any
   * newer event (the replay is queued synchronously). Returns how many and the last seq sent.
   */
  replay(socket: QxSocket, stream: string, afterSeq: number, limit: number): { replayed: number; lastSeq: number } {
    const events = this.deps.eventLog.read(stream, afterSeq, limit);
    for (const e of events) {
      const frame = encodeFrame(e.event, e.envelope, { stream, seq: e.seq, conflateKey: null, publishedAt: 0 });
      frame.timed = true;
      this.deps.hub.deliverToSocket(socket, frame);
    }
    const last = events.at(-1);
    return { replayed: events.length, lastSeq: last ? last.seq : Math.max(afterSeq, 0) };
  }

  lastSeq(stream: string): number {
    return this.deps.eventLog.lastSeq(stream);
  }

  private encode(item: PublishItem, nowMs: number, timestamp: string, publishedAt: number): { room: string; frame: OutboundFrame } {
    const { event } = item;
    const payload = withTimestamp(event, item.payload, timestamp);
    if (event === 'market-update') {
      const commodity = (payload as DataPayloads['market-update']).commodity;
      const stream = rooms.market(commodity);
      const seq = (this.marketSeqs.get(commodity) ?? 0) + 1;
      this.marketSeqs.set(commodity, seq);
      const envelope = JSON.stringify(buildEnvelope(event, payload as DataPayloads['market-update'], { timestamp, seq }));
      this.deps.snapshots.save({ commodity, seq, envelope }, nowMs);
      return { room: stream, frame: encodeFrame(event, envelope, { stream, seq, conflateKey: commodity, publishedAt }) };
    }
    if (event === 'system-alert') {
      const { seq, envelope } = this.deps.eventLog.append(SYSTEM_STREAM, event, nowMs, (seq) =>
        JSON.stringify(buildEnvelope(event, payload as DataPayloads['system-alert'], { timestamp, seq })),
      );
      return { room: rooms.authenticated, frame: encodeFrame(event, envelope, { stream: SYSTEM_STREAM, seq, conflateKey: null, publishedAt }) };
    }
    const userId = item.userId ?? (payload as { userId: string }).userId;
    const stream = event === 'trade-update' ? rooms.trading(userId) : event === 'order-update' ? rooms.orders(userId) : rooms.compliance(userId);
    const { seq, envelope } = this.deps.eventLog.append(stream, event, nowMs, (seq) =>
      JSON.stringify(buildEnvelope(event as 'order-update', payload as DataPayloads['order-update'], { timestamp, seq, userId })),
    );
    return { room: stream, frame: encodeFrame(event, envelope, { stream, seq, conflateKey: null, publishedAt }) };
  }
}

/** Fills the payload timestamp the seed shows, when the publisher left it out. */
function withTimestamp<E extends DataEventName>(event: E, payload: DataPayloads[E], timestamp: string): DataPayloads[E] {
  if (event === 'trade-update' || event === 'compliance-alert') return payload;
  const p = payload as { timestamp?: string | undefined };
  return p.timestamp ? payload : { ...payload, timestamp };
}
