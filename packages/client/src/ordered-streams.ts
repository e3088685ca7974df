/**
 * Exactly-once, in-order delivery per private stream (orders, trades, compliance, system), pure:
 * no I/O and no timers, so every rule is unit-tested. An event whose seq is at or below the last
 * delivered one is a duplicate and dropped; one that skips ahead is held until the missing ones
 * arrive (the client asks the gateway to resume, or reads the REST event log) or are given up.
 */
export interface Received<T> {
  /** events now deliverable, in seq order (the one received, then any it unblocked) */
  deliver: T[];
  duplicate: boolean;
}

interface StreamState<T> {
  /** last seq delivered; undefined until the first event */
  last: number | undefined;
  /** the stream's last seq when the subscription started, before any event was delivered */
  floor: number | undefined;
  held: Map<number, T>;
}

export class OrderedStreams<T> {
  private readonly streams = new Map<string, StreamState<T>>();

  receive(stream: string, seq: number, item: T): Received<T> {
    const s = this.state(stream);
    const expected = s.last ?? s.floor;
    if (expected === undefined) {
      // the first event of a stream we know nothing about: it sets the position
      s.last = seq;
      return { deliver: [item, ...this.drain(s)], duplicate: false };
    }
    if (s.last === undefined && seq <= expected) {
      // in flight since the subscription, sent before the floor was read
      s.last = seq;
      return { deliver: [item, ...this.drain(s)], duplicate: false };
    }
    if (seq <= expected || s.held.has(seq)) return { deliver: [], duplicate: true };
    if (seq === expected + 1) {
      s.last = seq;
      return { deliver: [item, ...this.drain(s)], duplicate: false };
    }
    s.held.set(seq, item);
    return { deliver: [], duplicate: false };
  }

  /** Records where a stream stood when it was subscribed (only matters before its first event). */
  setFloor(stream: string, seq: number): void {
    const s = this.state(stream);
    if (s.last !== undefined) return;
    s.floor = Math.max(s.floor ?? 0, seq);
  }

  /** The seq to resume each known stream after: the last delivered, or its floor. */
  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [stream, s] of this.streams) {
      const at = s.last ?? s.floor;
      if (at !== undefined) out[stream] = at;
    }
    return out;
  }

  position(stream: string): number | undefined {
    const s = this.streams.get(stream);
    return s ? (s.last ?? s.floor) : undefined;
  }

  /** The missing range of a stream that holds events, or null when it has no gap. */
  gap(stream: string): { after: number; next: number } | null {
    const s = this.streams.get(stream);
    if (!s || s.held.size === 0) return null;
    return { after: s.last ?? s.floor ?? 0, next: Math.min(...s.held.keys()) };
  }

  gaps(): string[] {
    return [...this.streams].filter(([, s]) => s.held.size > 0).map(([stream]) => stream);
  }

  /**
   * Gives up on the missing events of a stream (they are not in the event log any more): the
   * held events are released in order, up to the next gap if there is one.
   */
  skipGap(stream: string): { deliver: T[]; missing: { from: number; to: number } } | null {
    const s = this.streams.get(stream);
    if (!s || s.held.size === 0) return null;
    const next = Math.min(...s.held.keys());
    const from = (s.last ?? s.floor ?? 0) + 1;
    s.last = next - 1;
    return { deliver: this.drain(s), missing: { from, to: next - 1 } };
  }

  forget(stream: string): void {
    this.streams.delete(stream);
  }

  private state(stream: string): StreamState<T> {
    let s = this.streams.get(stream);
    if (!s) this.streams.set(stream, (s = { last: undefined, floor: undefined, held: new Map() }));
    return s;
  }

  private drain(s: StreamState<T>): T[] {
    const out: T[] = [];
    for (;;) {
      const next = (s.last ?? 0) + 1;
      const item = s.held.get(next);
      if (item === undefined) break;
      s.held.delete(next);
      s.last = next;
      out.push(item);
    }
    // anything held at or below `last` was delivered by another path meanwhile
    for (const seq of s.held.keys()) if (seq <= (s.last ?? 0)) s.held.delete(seq);
    return out;
  }
}
