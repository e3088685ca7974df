/**
 * A client's copy of one streamed order book: a `book-snapshot`, then each `book-update` applied
 * in seq order (a level with quantity 0 is removed; the book is truncated to its depth) and
 * proven against the update's CRC32 checksum. Anything else — a skipped seq, a checksum that
 * does not match — means the copy can no longer be trusted: the caller resubscribes for a fresh
 * snapshot. Pure: no socket, no timers.
 */
import { bookChecksum, type BookLevel, type BookSnapshot, type BookUpdate } from '@qx/protocol/wire';

export type BookApplied = 'applied' | 'stale' | 'gap' | 'checksum-mismatch';

/** What a listener sees: the book as it stands, best first. */
export interface BookView {
  commodity: string;
  depth: number;
  seq: number;
  bids: readonly BookLevel[];
  asks: readonly BookLevel[];
  checksum: number;
}

export class LocalBook {
  readonly commodity: string;
  readonly depth: number;
  readonly decimals: number;
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];

  constructor(snapshot: BookSnapshot) {
    this.commodity = snapshot.commodity;
    this.depth = snapshot.depth;
    this.decimals = snapshot.decimals;
    this.seq = snapshot.seq;
    this.bids = snapshot.bids.slice(0, snapshot.depth);
    this.asks = snapshot.asks.slice(0, snapshot.depth);
  }

  /** Applies the next update; anything but `applied` or `stale` (an older update, ignored) calls for a new snapshot. */
  apply(update: BookUpdate): BookApplied {
    if (update.seq <= this.seq) return 'stale';
    if (update.seq !== this.seq + 1) return 'gap';
    this.bids = merge(this.bids, update.bids, (a, b) => b - a, this.depth);
    this.asks = merge(this.asks, update.asks, (a, b) => a - b, this.depth);
    this.seq = update.seq;
    return this.checksum() === update.checksum ? 'applied' : 'checksum-mismatch';
  }

  checksum(): number {
    return bookChecksum(this.bids, this.asks, this.decimals);
  }

  view(): BookView {
    return { commodity: this.commodity, depth: this.depth, seq: this.seq, bids: this.bids, asks: this.asks, checksum: this.checksum() };
  }
}

function merge(levels: readonly BookLevel[], changes: readonly BookLevel[], order: (a: number, b: number) => number, depth: number): BookLevel[] {
  if (changes.length === 0) return levels as BookLevel[];
  const byPrice = new Map(levels.map((l) => [l.price, l]));
  for (const c of changes) {
    if (c.quantity > 0) byPrice.set(c.price, c);
    else byPrice.delete(c.price);
  }
  return [...byPrice.values()].sort((a, b) => order(a.price, b.price)).slice(0, depth);
}
