/**
 * The system of record, as one async interface with two implementations: `SqliteStore` (one file,
 * in process: the default single-process mode) and `PgStore` (PostgreSQL: cluster mode). An engine
 * step — its journal (orders, trades, positions, ...), its private events and system alerts, and
 * its trades on the public tape — is written by ONE `commit`, in one transaction: either all of
 * it is stored and numbered, or nothing is. The latest market data of each commodity is kept
 * beside it (`saveMarketSnapshots`), written after it was published.
 */
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import type { DataEventName } from '@qx/protocol';
import type { TapeEntry, TapeStore } from './tape.js';

/** An event to append to the log; `render(seq)` builds its envelope JSON once its number is known. */
export interface EventToLog {
  stream: string;
  event: DataEventName;
  createdAt: number;
  render: (seq: number) => string;
}

export interface LoggedEvent {
  stream: string;
  seq: number;
  event: DataEventName;
  /** the envelope exactly as it was emitted, as JSON text */
  envelope: string;
  createdAt: number;
}

/** The latest market-update of one commodity. */
export interface MarketSnapshot {
  commodity: string;
  seq: number;
  envelope: string;
  updatedAt: number;
}

export interface StepWrite {
  /** engine journal records (orders, trades, positions, compliance levels, sessions) */
  journal?: readonly JournalRecord[] | undefined;
  /** private events and system alerts, numbered per stream in this transaction, in this order */
  events: readonly EventToLog[];
  /** trades for the public tape, numbered by the writer (the trading core is its only one) */
  tape?: readonly TapeEntry[] | undefined;
}

/** The engine leader's term: a write transaction carrying a stale term fails with FencedError. */
export interface Fence {
  term: number;
}

export interface OrderQuery {
  userId: string;
  status?: string | undefined;
  commodity?: string | undefined;
  /** the priority to page back from (exclusive) */
  before?: number | undefined;
  limit: number;
}

export interface TradeQuery {
  userId: string;
  commodity?: string | undefined;
  /** the trade seq to page back from (exclusive) */
  before?: number | undefined;
  limit: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** ONE transaction; on throw nothing is written or numbered. Returns the numbered events in `write.events` order. */
  commit(write: StepWrite, fence?: Fence): Promise<LoggedEvent[]>;
  /** keeps each snapshot as its commodity's latest, unless the one kept is newer (a higher seq) */
  saveMarketSnapshots(snapshots: readonly MarketSnapshot[]): Promise<void>;
  /** the public tape (read side: candles, paging by seq, retention) */
  readonly tape: TapeStore;
  /** events of `stream` with seq > afterSeq, oldest first, at most `limit` */
  readEvents(stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  /** the newest seq committed in `stream` (0 if none) */
  lastSeq(stream: string): Promise<number>;
  /** deletes events older than cutoffMs, except the newest of each stream; numbering goes on regardless */
  pruneEvents(cutoffMs: number): Promise<number>;
  /** everything the engine needs to rebuild its state (see the engine's journal contract) */
  loadForRestore(): Promise<JournalRecord[]>;
  loadMarketSnapshots(): Promise<MarketSnapshot[]>;
  order(id: string): Promise<OrderRecord | null>;
  /** a user's orders, newest (highest priority) first */
  orders(q: OrderQuery): Promise<OrderRecord[]>;
  /** a user's trades, newest (highest seq) first */
  trades(q: TradeQuery): Promise<TradeRecord[]>;
  close(): Promise<void>;
}

/**
 * Reads a store can answer at once, without I/O (the in-process SQLite store). With them the
 * single process keeps replays synchronous: a replay is queued ahead of any newer event without
 * holding the stream back.
 */
export interface ImmediateReads {
  lastSeqNow(stream: string): number;
  readEventsNow(stream: string, afterSeq: number, limit: number): LoggedEvent[];
}

export function immediateReads(store: Store): ImmediateReads | null {
  const s = store as Partial<ImmediateReads>;
  return typeof s.lastSeqNow === 'function' && typeof s.readEventsNow === 'function' ? (store as unknown as ImmediateReads) : null;
}

/** A write refused because its engine term is no longer the leader's: this node must stop writing. */
export class FencedError extends Error {
  constructor(
    readonly term: number,
    readonly currentTerm: number | null,
  ) {
    super(`fenced: term ${term} is not the engine leader's term (${currentTerm ?? 'none'})`);
    this.name = 'FencedError';
  }
}

/** How many finished orders are reloaded at start (they keep clientOrderId retries idempotent). */
export const RESTORE_FINISHED_ORDERS = 100_000;
