/**
 * The streaming order book (`subscribe-book`) on this node. The trading core publishes each
 * commodity's book as deltas numbered in its `book-<commodity>` stream; this node keeps the book
 * from them (a gap — a delta missed between nodes — is repaired from the book's latest state) and
 * streams the depths its sockets asked for: one stream per commodity and depth, with the sockets
 * that follow it in the room `book-<commodity>-<depth>`. A new subscriber gets a `book-snapshot`;
 * then each change of its depth's levels goes out as one `book-update` with the next `seq` and the
 * checksum of the book after it. A slow socket's queued update is replaced by a snapshot as of the
 * newer one (the hub conflates by room), so it still ends up exact.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ServerEvent, bookChecksum, rooms, type BookLevel, type BookSnapshot, type BookUpdate } from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { Hub } from './hub.js';
import type { QxServer, QxSocket } from './types.js';
import type { BusEvent } from '../backplane/backplane.js';
import { applyLevels, diffLevels, type BookDelta, type BookState } from '../core/book-ticker.js';

export interface BookFeedDeps {
  io: QxServer;
  hub: Hub;
  now: () => number;
  /** decimals of the commodity's tick size */
  decimals: (commodity: string) => number;
  /** the book's latest state as its publisher keeps it (a node that missed a delta starts again from it) */
  latest: (commodity: string) => Promise<BookState | null>;
  logger?: Logger | undefined;
}

/** One depth of one commodity, as this node streams it. */
interface DepthStream {
  room: string;
  commodity: string;
  depth: number;
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];
  checksum: number;
  /** the snapshot of the current seq, encoded once */
  snapshot: OutboundFrame | null;
}

/** This node's copy of one commodity's book, and the deltas that came while it was being repaired. */
interface Mirror {
  state: BookState;
  repairing: Promise<void> | null;
  pending: BookDelta[];
}

export class BookFeed {
  private readonly mirrors = new Map<string, Mirror>();
  private readonly streams = new Map<string, DepthStream>();

  constructor(private readonly deps: BookFeedDeps) {}

  /** A delta from the trading core: applied in order; a gap is repaired from the latest state. */
  readonly onDelta = (event: BusEvent): void => {
    let delta: BookDelta;
    try {
      delta = JSON.parse(event.envelope) as BookDelta;
    } catch {
      return;
    }
    const mirror = this.mirrors.get(delta.commodity);
    // a book no socket of this node has asked for yet: kept once one does (from the latest state)
    if (!mirror) return;
    if (mirror.repairing) {
      mirror.pending.push(delta);
      return;
    }
    if (delta.seq <= mirror.state.seq) return;
    if (delta.seq !== mirror.state.seq + 1) {
      mirror.pending.push(delta);
      this.repair(delta.commodity);
      return;
    }
    this.apply(mirror, delta);
    this.publish(delta.commodity);
  };

  /**
   * Queues the stream's current snapshot for one socket (after it joined the room). Resolves false
   * for a commodity whose book cannot be had.
   */
  async sendSnapshot(socket: QxSocket, commodity: string, depth: number): Promise<boolean> {
    let mirror = this.mirrors.get(commodity);
    if (!mirror) {
      mirror = { state: { commodity, seq: -1, bids: [], asks: [] }, repairing: null, pending: [] };
      this.mirrors.set(commodity, mirror);
      this.repair(commodity);
    }
    if (mirror.repairing) await mirror.repairing;
    if (!socket.connected) return false;
    const stream = this.stream(commodity, depth);
    this.deps.hub.deliverToSocket(socket, this.snapshotFrame(stream));
    return true;
  }

  /** Forgets the book streams nobody on this node follows any more. */
  private prune(): void {
    const adapterRooms = this.deps.io.of('/').adapter.rooms;
    for (const stream of this.streams.values()) if (!adapterRooms.get(stream.room)?.size) this.streams.delete(stream.room);
  }

  private apply(mirror: Mirror, delta: BookDelta): void {
    mirror.state = {
      commodity: delta.commodity,
      seq: delta.seq,
      bids: applyLevels(mirror.state.bids, delta.bids, true),
      asks: applyLevels(mirror.state.asks, delta.asks, false),
    };
  }

  /** Reads the book's latest state, then applies what came after it. */
  private repair(commodity: string): void {
    const mirror = this.mirrors.get(commodity);
    if (!mirror || mirror.repairing) return;
    mirror.repairing = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const latest = await this.deps.latest(commodity);
          if (latest && latest.seq > mirror.state.seq) mirror.state = { ...latest };
          break;
        } catch (err) {
          if (attempt === 0) this.deps.logger?.warn({ err, commodity }, 'book state unavailable; retrying');
          await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        }
      }
    })().finally(() => {
      mirror.repairing = null;
      const pending = mirror.pending.sort((a, b) => a.seq - b.seq);
      mirror.pending = [];
      for (const d of pending) {
        if (d.seq <= mirror.state.seq) continue;
        if (d.seq !== mirror.state.seq + 1) {
          // still a hole: the latest state will cover it
          mirror.pending = pending.filter((p) => p.seq > mirror.state.seq);
          return this.repair(commodity);
        }
        this.apply(mirror, d);
      }
      this.publish(commodity);
    });
  }

  /** Publishes what changed in every depth of `commodity` followed on this node. */
  private publish(commodity: string): void {
    this.prune();
    const mirror = this.mirrors.get(commodity);
    if (!mirror) return;
    const timestamp = new Date(this.deps.now()).toISOString();
    for (const stream of this.streams.values()) {
      if (stream.commodity !== commodity) continue;
      const book = { bids: mirror.state.bids.slice(0, stream.depth), asks: mirror.state.asks.slice(0, stream.depth) };
      const bids = diffLevels(stream.bids, book.bids);
      const asks = diffLevels(stream.asks, book.asks);
      if (bids.length === 0 && asks.length === 0) continue;
      stream.seq++;
      stream.bids = book.bids;
      stream.asks = book.asks;
      stream.checksum = bookChecksum(book.bids, book.asks, this.deps.decimals(commodity));
      stream.snapshot = null;
      const update: BookUpdate = { commodity, depth: stream.depth, seq: stream.seq, bids, asks, checksum: stream.checksum, timestamp };
      const frame = encodeFrame(ServerEvent.BookUpdate, JSON.stringify(update), { stream: stream.room, seq: stream.seq, conflateKey: stream.room, publishedAt: performance.now() });
      // for a slow socket: the book as of this update, encoded only if some socket needs it
      const at = { ...stream };
      let replacement: OutboundFrame | null = null;
      frame.conflated = () => (replacement ??= this.snapshotFrame(at));
      this.deps.hub.deliverToRoom(stream.room, frame);
    }
  }

  private stream(commodity: string, depth: number): DepthStream {
    const room = rooms.book(commodity, depth);
    let stream = this.streams.get(room);
    if (!stream) {
      const state = this.mirrors.get(commodity)?.state;
      const bids = state?.bids.slice(0, depth) ?? [];
      const asks = state?.asks.slice(0, depth) ?? [];
      stream = { room, commodity, depth, seq: 0, bids, asks, checksum: bookChecksum(bids, asks, this.deps.decimals(commodity)), snapshot: null };
      this.streams.set(room, stream);
    }
    return stream;
  }

  private snapshotFrame(stream: DepthStream): OutboundFrame {
    if (stream.snapshot) return stream.snapshot;
    const snapshot: BookSnapshot = {
      commodity: stream.commodity,
      depth: stream.depth,
      decimals: this.deps.decimals(stream.commodity),
      seq: stream.seq,
      bids: stream.bids,
      asks: stream.asks,
      checksum: stream.checksum,
      timestamp: new Date(this.deps.now()).toISOString(),
    };
    const frame = encodeFrame(ServerEvent.BookSnapshot, JSON.stringify(snapshot), { stream: stream.room, seq: stream.seq, conflateKey: stream.room, publishedAt: performance.now() });
    frame.timed = true;
    stream.snapshot = frame;
    return frame;
  }
}
