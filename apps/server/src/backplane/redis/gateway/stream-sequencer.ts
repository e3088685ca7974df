/**
 * Per gateway: turns what arrives on the bus into each followed stream's events in seq order,
 * each exactly once. A message with seq <= the last delivered is a duplicate and dropped; one
 * beyond last+1 shows a gap, which is filled before it — from the Redis history, and where that
 * does not reach (trimmed, expired, Redis restarted) from the store, the system of record. After
 * the bus connection comes back (`recheck()`), every stream is read from the store after its last
 * delivered seq, since nothing says what was published while the connection was down.
 *
 * Messages of a stream that is being filled wait in a bounded buffer; when it is full, newer ones
 * are dropped from it but remembered as the stream's highest seq seen, and read back later. A
 * read that fails (store or Redis down) is retried with backoff for as long as the stream is
 * followed; nothing is skipped. Only seqs that the store itself does not have (pruned by
 * retention) are passed over, and counted as `lost`.
 *
 * A `lossy` stream (market data: the next update supersedes the last) drops duplicates and stale
 * messages but delivers across gaps without filling them.
 */
import type { Logger } from 'pino';
import type { BusEventName } from '@qx/protocol';
import type { BusEvent, BusMessage } from '../shared/bus-message.js';
import type { HistoryResult } from '../shared/redis-bus.js';
import { reconnectDelay } from '../shared/redis-connection.js';

/** An event as the store returns it (the Store's `LoggedEvent`). */
export interface StoredEvent {
  stream: string;
  seq: number;
  event: BusEventName;
  envelope: string;
}

export type SequencedEvent = BusEvent & {
  /** where it came from: the bus channel, the Redis history, or the store */
  source: 'bus' | 'history' | 'store';
};

export interface StreamSequencerOptions {
  logger: Logger;
  /** the Redis history (RedisBus.history); optional: without it gaps are read from the store */
  history?: (stream: string, afterSeq: number, limit: number) => Promise<HistoryResult>;
  /** the store: the events of `stream` after `afterSeq`, in order, at most `limit` */
  fallback: (stream: string, afterSeq: number, limit: number) => Promise<readonly StoredEvent[]>;
  /** the store's last seq of a stream (used by `follow` when the caller does not know it) */
  lastSeq?: (stream: string) => Promise<number>;
  /** each event, in order, once */
  deliver: (event: SequencedEvent) => void;
  /** events read per history/store call (default 500) */
  pageSize?: number;
  /** messages buffered per stream while a gap is filled (default 10,000) */
  maxBuffered?: number;
}

export interface FollowOptions {
  /** room the stream's events go to (default: the stream's name, as for private streams) */
  room?: string;
  /** the last seq already held (default: the store's lastSeq at the time of the call) */
  lastSeq?: number;
  /** deliver across gaps without filling them (market data) */
  lossy?: boolean;
}

export interface SequencerStats {
  delivered: number;
  duplicates: number;
  fromHistory: number;
  fromStore: number;
  /** seqs passed over because the store did not have them */
  lost: number;
  /** failed history/store reads (each retried) */
  readErrors: number;
}

interface StreamState {
  stream: string;
  room: string;
  lossy: boolean;
  /** -1 until the starting seq is known */
  last: number;
  /** highest seq seen on the bus */
  highest: number;
  pending: Map<number, BusMessage>;
  /** the bus epoch of the stream's last message ('' before any) */
  epoch: string;
  draining: boolean;
  recheck: boolean;
  following: boolean;
}

export class StreamSequencer {
  private readonly streams = new Map<string, StreamState>();
  private readonly pageSize: number;
  private readonly maxBuffered: number;
  private closed = false;
  readonly stats: SequencerStats = { delivered: 0, duplicates: 0, fromHistory: 0, fromStore: 0, lost: 0, readErrors: 0 };

  constructor(private readonly opts: StreamSequencerOptions) {
    this.pageSize = opts.pageSize ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 10_000;
  }

  /**
   * Starts following `stream`. Subscribe its room first: messages that arrive while the starting
   * seq is being read are held, and those after it delivered. Resolves with the starting seq
   * (events up to it are the caller's to replay; the sequencer delivers every one after it).
   */
  async follow(stream: string, opts: FollowOptions = {}): Promise<number> {
    const existing = this.streams.get(stream);
    if (existing) {
      while (existing.last < 0 && existing.following) await new Promise((r) => setTimeout(r, 5));
      return existing.last;
    }
    const state: StreamState = {
      stream,
      room: opts.room ?? stream,
      lossy: opts.lossy ?? false,
      last: -1,
      highest: 0,
      pending: new Map(),
      epoch: '',
      draining: false,
      recheck: false,
      following: true,
    };
    this.streams.set(stream, state);
    let last = opts.lastSeq;
    for (let failures = 0; last === undefined; ) {
      if (!this.opts.lastSeq) throw new Error('follow() needs lastSeq or a lastSeq reader');
      try {
        last = await this.opts.lastSeq(stream);
      } catch (err) {
        this.readFailed(stream, err, failures++);
        await sleep(reconnectDelay(failures));
        if (!state.following) return 0;
      }
    }
    if (!state.following) return last;
    state.last = last;
    this.kick(state);
    return last;
  }

  /** Stops following `stream` (its last local socket left). */
  unfollow(stream: string): void {
    const state = this.streams.get(stream);
    if (!state) return;
    state.following = false;
    this.streams.delete(stream);
  }

  isFollowing(stream: string): boolean {
    return this.streams.has(stream);
  }

  /** The last seq delivered in `stream` (undefined when not followed or not started yet). */
  lastSeq(stream: string): number | undefined {
    const last = this.streams.get(stream)?.last;
    return last === undefined || last < 0 ? undefined : last;
  }

  /** A message from the bus (RoomSubscriptions' onMessage). Messages of streams not followed are ignored. */
  onMessage(msg: BusMessage): void {
    const state = this.streams.get(msg.stream);
    if (!state || this.closed) return;
    if (msg.epoch && msg.epoch !== state.epoch) {
      // each stream has its own epoch (a gap it left is found by seq like any other)
      if (state.epoch) this.opts.logger.warn({ stream: msg.stream, epoch: msg.epoch, previous: state.epoch }, "a stream's bus epoch changed: redis lost its history");
      state.epoch = msg.epoch;
    }
    if (state.last >= 0 && msg.seq <= state.last) {
      this.stats.duplicates++;
      return;
    }
    if (msg.seq > state.highest) state.highest = msg.seq;
    // the common case: the next one, nothing in the way
    if (state.last >= 0 && !state.draining && (msg.seq === state.last + 1 || state.lossy)) {
      this.emit(state, msg, 'bus');
      return;
    }
    if (state.pending.size < this.maxBuffered) state.pending.set(msg.seq, msg);
    this.kick(state);
  }

  /** After a bus reconnect: read every followed stream from the store after its last delivered seq. */
  recheck(stream?: string): void {
    const targets = stream === undefined ? [...this.streams.values()] : [this.streams.get(stream)].filter((s): s is StreamState => !!s);
    for (const state of targets) {
      if (state.lossy) continue;
      state.recheck = true;
      this.kick(state);
    }
  }

  /** Resolves once no stream has anything waiting (for tests and orderly shutdown). */
  async idle(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = () => [...this.streams.values()].some((s) => s.draining || s.pending.size > 0 || s.recheck || s.last < 0);
    while (busy()) {
      if (Date.now() > deadline) throw new Error('stream sequencer still busy');
      await sleep(5);
    }
  }

  close(): void {
    this.closed = true;
    for (const state of this.streams.values()) state.following = false;
    this.streams.clear();
  }

  private kick(state: StreamState): void {
    if (state.draining || state.last < 0 || !state.following) return;
    state.draining = true;
    void this.drain(state).finally(() => {
      state.draining = false;
      // something came in after the loop's last look
      if (state.following && (state.recheck || this.needsWork(state))) this.kick(state);
    });
  }

  private needsWork(state: StreamState): boolean {
    return state.pending.size > 0 || state.highest > state.last;
  }

  private async drain(state: StreamState): Promise<void> {
    let failures = 0;
    if (state.lossy) {
      // market data: what is buffered goes out in order, what is missing stays missing
      for (const seq of [...state.pending.keys()].sort((a, b) => a - b)) {
        const msg = state.pending.get(seq) as BusMessage;
        state.pending.delete(seq);
        this.emit(state, msg, 'bus');
      }
      state.last = Math.max(state.last, state.highest);
      state.recheck = false;
      return;
    }
    while (state.following && !this.closed) {
      try {
        if (this.deliverPending(state)) continue;
        if (state.highest > state.last) {
          const next = Math.min(...state.pending.keys(), state.highest + 1);
          await this.fill(state, next - 1);
          failures = 0;
          continue;
        }
        if (state.recheck) {
          state.recheck = false;
          await this.fill(state, Infinity);
          failures = 0;
          continue;
        }
        return;
      } catch (err) {
        this.readFailed(state.stream, err, failures++);
        if (!state.recheck && state.highest <= state.last) state.recheck = true;
        await sleep(reconnectDelay(failures));
      }
    }
  }

  /** Delivers buffered messages that are next in line; true when it delivered or dropped any. */
  private deliverPending(state: StreamState): boolean {
    let progressed = false;
    for (;;) {
      const msg = state.pending.get(state.last + 1);
      if (!msg) break;
      state.pending.delete(msg.seq);
      this.emit(state, msg, 'bus');
      progressed = true;
    }
    for (const seq of state.pending.keys()) {
      if (seq <= state.last) {
        state.pending.delete(seq);
        this.stats.duplicates++;
        progressed = true;
      }
    }
    return progressed;
  }

  /**
   * Reads the events after `last` up to `upTo` (Infinity: all the store has) and delivers them:
   * from the history while it can vouch for them, then from the store.
   */
  private async fill(state: StreamState, upTo: number): Promise<void> {
    while (state.following && state.last < upTo) {
      const want = upTo === Infinity ? this.pageSize : Math.min(this.pageSize, upTo - state.last);
      const from = state.last;
      if (this.opts.history && upTo !== Infinity) {
        let h: HistoryResult | null = null;
        try {
          h = await this.opts.history(state.stream, from, want);
        } catch (err) {
          // Redis is away: the store has them all
          this.opts.logger.debug({ stream: state.stream, err: (err as Error).message }, 'history read failed; reading the store');
        }
        if (h) {
          for (const e of h.events) if (state.following) this.emit(state, { ...e, room: state.room }, 'history');
          if (state.last >= upTo) return;
          if (h.complete && h.events.length === want) continue;
        }
      }
      const after = state.last;
      const rest = upTo === Infinity ? this.pageSize : Math.min(this.pageSize, upTo - after);
      const events = await this.opts.fallback(state.stream, after, rest);
      if (!state.following) return;
      for (const e of events) {
        if (e.seq <= state.last) continue;
        if (e.seq > state.last + 1) this.passOver(state, e.seq - 1);
        this.emit(state, { room: state.room, stream: state.stream, seq: e.seq, event: e.event, envelope: e.envelope }, 'store');
      }
      if (events.length < rest) {
        // the store has nothing more: an open-ended read is done; a gap the store cannot fill is lost
        if (upTo !== Infinity && state.last < upTo) this.passOver(state, upTo);
        return;
      }
    }
  }

  private passOver(state: StreamState, upTo: number): void {
    const missing = upTo - state.last;
    this.stats.lost += missing;
    this.opts.logger.warn({ stream: state.stream, from: state.last + 1, to: upTo }, 'events missing from the store: passed over');
    state.last = upTo;
  }

  private emit(state: StreamState, msg: BusEvent, source: SequencedEvent['source']): void {
    if (msg.seq <= state.last) {
      this.stats.duplicates++;
      return;
    }
    state.last = msg.seq;
    if (msg.seq > state.highest) state.highest = msg.seq;
    this.stats.delivered++;
    if (source === 'history') this.stats.fromHistory++;
    else if (source === 'store') this.stats.fromStore++;
    try {
      this.opts.deliver({ room: state.room, stream: state.stream, seq: msg.seq, event: msg.event, envelope: msg.envelope, ...(msg.meta ? { meta: msg.meta } : {}), source });
    } catch (err) {
      this.opts.logger.error({ err, stream: state.stream, seq: msg.seq }, 'delivering a bus event failed');
    }
  }

  private readFailed(stream: string, err: unknown, failures: number): void {
    this.stats.readErrors++;
    if (failures === 0) this.opts.logger.warn({ stream, err: (err as Error).message }, 'reading missed events failed; retrying');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
