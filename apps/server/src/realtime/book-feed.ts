/**
 * The streaming order book (`subscribe-book`): one stream per commodity and depth, with the
 * sockets that follow it in the room `book-<commodity>-<depth>`. A new subscriber gets a
 * `book-snapshot`; then, on every tick, the levels that changed go out as one `book-update` with
 * the next `seq` and the checksum of the book after it. A slow socket's queued update is replaced
 * by a snapshot as of the newer one (the hub conflates by room), so it still ends up exact.
 */
import { ServerEvent, bookChecksum, rooms, type BookLevel, type BookSnapshot, type BookUpdate } from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { Hub } from './hub.js';
import type { QxServer, QxSocket } from './types.js';

export interface BookSource {
  /** the top `depth` levels per side, best first; null for an unknown commodity */
  book(commodity: string, depth: number): { bids: BookLevel[]; asks: BookLevel[] } | null;
  /** decimals of the commodity's tick size */
  decimals(commodity: string): number;
}

interface BookStream {
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

/** The levels of `next` that differ from `prev` (by quantity or orders), and `prev`'s levels gone from it as quantity 0. */
export function diffLevels(prev: readonly BookLevel[], next: readonly BookLevel[]): BookLevel[] {
  const before = new Map(prev.map((l) => [l.price, l]));
  const changes: BookLevel[] = [];
  for (const l of next) {
    const was = before.get(l.price);
    if (!was || was.quantity !== l.quantity || was.orders !== l.orders) changes.push(l);
    before.delete(l.price);
  }
  for (const gone of before.values()) changes.push({ price: gone.price, quantity: 0, orders: 0 });
  return changes;
}

export class BookFeed {
  private readonly streams = new Map<string, BookStream>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { io: QxServer; hub: Hub; source: BookSource; now: () => number },
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Queues the stream's current snapshot for one socket (after it joined the room). */
  sendSnapshot(socket: QxSocket, commodity: string, depth: number): boolean {
    const stream = this.stream(commodity, depth);
    if (!stream) return false;
    this.deps.hub.deliverToSocket(socket, this.snapshotFrame(stream));
    return true;
  }

  /** Publishes what changed in every followed book; streams nobody follows any more are dropped. */
  tick(): void {
    const adapterRooms = this.deps.io.of('/').adapter.rooms;
    const timestamp = new Date(this.deps.now()).toISOString();
    for (const stream of this.streams.values()) {
      if (!adapterRooms.get(stream.room)?.size) {
        this.streams.delete(stream.room);
        continue;
      }
      const book = this.deps.source.book(stream.commodity, stream.depth);
      if (!book) continue;
      const bids = diffLevels(stream.bids, book.bids);
      const asks = diffLevels(stream.asks, book.asks);
      if (bids.length === 0 && asks.length === 0) continue;
      stream.seq++;
      stream.bids = book.bids;
      stream.asks = book.asks;
      stream.checksum = bookChecksum(book.bids, book.asks, this.deps.source.decimals(stream.commodity));
      stream.snapshot = null;
      const update: BookUpdate = { commodity: stream.commodity, depth: stream.depth, seq: stream.seq, bids, asks, checksum: stream.checksum, timestamp };
      const frame = encodeFrame(ServerEvent.BookUpdate, JSON.stringify(update), { stream: stream.room, seq: stream.seq, conflateKey: stream.room, publishedAt: performance.now() });
      // for a slow socket: the book as of this update, encoded only if some socket needs it
      const at = { ...stream };
      let replacement: OutboundFrame | null = null;
      frame.conflated = () => (replacement ??= this.snapshotFrame(at));
      this.deps.hub.deliverToRoom(stream.room, frame);
    }
  }

  private stream(commodity: string, depth: number): BookStream | null {
    const room = rooms.book(commodity, depth);
    let stream = this.streams.get(room);
    if (!stream) {
      const book = this.deps.source.book(commodity, depth);
      if (!book) return null;
      const checksum = bookChecksum(book.bids, book.asks, this.deps.source.decimals(commodity));
      stream = { room, commodity, depth, seq: 0, bids: book.bids, asks: book.asks, checksum, snapshot: null };
      this.streams.set(room, stream);
    }
    return stream;
  }

  private snapshotFrame(stream: BookStream): OutboundFrame {
    if (stream.snapshot) return stream.snapshot;
    const snapshot: BookSnapshot = {
      commodity: stream.commodity,
      depth: stream.depth,
      decimals: this.deps.source.decimals(stream.commodity),
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
