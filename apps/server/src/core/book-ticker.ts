/**
 * The books, as the trading core publishes them: every tick, each commodity whose top levels
 * (MAX_BOOK_DEPTH a side) changed gets one delta — the changed levels, a removed one as quantity
 * 0 — numbered in its `book-<commodity>` stream, with the book after it as the stream's state. The
 * gateways keep each book from these deltas and stream the depths their sockets asked for.
 */
import { BOOK_DELTA, MAX_BOOK_DEPTH, roomOfStream, streams, type BookLevel } from '@qx/protocol';
import type { BusEvent, EventBus } from './bus-event.js';

/** A commodity's book (the top MAX_BOOK_DEPTH levels a side, best first) as of its stream's `seq`. */
export interface BookState {
  commodity: string;
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** What travels between nodes: the levels that changed since `seq - 1`. */
export interface BookDelta {
  commodity: string;
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];
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

/** Applies a delta's levels to one side (best first: bids descending, asks ascending). */
export function applyLevels(side: readonly BookLevel[], changes: readonly BookLevel[], descending: boolean): BookLevel[] {
  const levels = new Map(side.map((l) => [l.price, l]));
  for (const c of changes) {
    if (c.quantity === 0) levels.delete(c.price);
    else levels.set(c.price, c);
  }
  return [...levels.values()].sort((a, b) => (descending ? b.price - a.price : a.price - b.price));
}

export interface BookTickerDeps {
  commodities: readonly string[];
  /** the top `depth` levels a side, best first; null for an unknown commodity */
  book: (commodity: string, depth: number) => { bids: BookLevel[]; asks: BookLevel[] } | null;
  bus: EventBus;
}

export class BookTicker {
  private readonly states = new Map<string, BookState>();

  constructor(private readonly deps: BookTickerDeps) {
    for (const commodity of deps.commodities) this.states.set(commodity, { commodity, seq: 0, bids: [], asks: [] });
  }

  /** Where numbering goes on from (a new engine leader continues the stream of the one before). */
  resume(states: Iterable<BookState>): void {
    for (const s of states) {
      const known = this.states.get(s.commodity);
      if (known && s.seq > known.seq) this.states.set(s.commodity, { ...s });
    }
  }

  state(commodity: string): BookState | null {
    return this.states.get(commodity) ?? null;
  }

  /** Publishes a delta for every book that changed since the last tick. */
  tick(): void {
    const events: BusEvent[] = [];
    for (const state of this.states.values()) {
      const book = this.deps.book(state.commodity, MAX_BOOK_DEPTH);
      if (!book) continue;
      const bids = diffLevels(state.bids, book.bids);
      const asks = diffLevels(state.asks, book.asks);
      if (bids.length === 0 && asks.length === 0) continue;
      const next: BookState = { commodity: state.commodity, seq: state.seq + 1, bids: book.bids, asks: book.asks };
      this.states.set(state.commodity, next);
      const delta: BookDelta = { commodity: state.commodity, seq: next.seq, bids, asks };
      const stream = streams.book(state.commodity);
      events.push({ room: roomOfStream(stream), stream, seq: next.seq, event: BOOK_DELTA, envelope: JSON.stringify(delta), state: JSON.stringify(next) });
    }
    if (events.length) this.deps.bus.publish(events);
  }
}
