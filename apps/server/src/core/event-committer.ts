/**
 * The writer's one path for every event: number it in its stream, render it once (the seed's
 * envelope with its `seq`), commit what is durable and only then hand it to the bus, which
 * brings it to every gateway.
 *
 * - Private events and system alerts are committed to the event log with the engine step's
 *   journal and the step's trades on the public tape, in one transaction (fenced by the leader's
 *   term in a cluster). Steps that arrive while a commit is in flight share the next one (group
 *   commit), in arrival order; each caller is answered once its own step is committed.
 * - Market data is state, not history, and is numbered here, from the writer's own sequence: it
 *   is published at once, and its latest state per commodity is persisted after, without holding
 *   the publish (a subscriber's snapshot is still the latest: the gateways keep it).
 * - The tape's prints are numbered per commodity here and stored in the step's transaction.
 */
import type { Logger } from 'pino';
import type { JournalRecord, MarketPrint } from '@qx/engine';
import {
  buildEnvelope,
  roomOfStream,
  streamOfEvent,
  streams,
  type DataEventName,
  type DataPayloads,
  type MarketStatusPayload,
  type MarketUpdatePayload,
} from '@qx/protocol';
import type { BusEvent, EventBus } from './bus-event.js';
import type { PathTimes } from '../order-path.js';
import type { EventToLog, Fence, LoggedEvent, MarketSnapshot, Store } from '../store/store.js';
import type { TapeEntry } from '../store/tape.js';
import type { Metrics } from '../metrics.js';
import { wallClock } from './wall-clock.js';
import { tapeEvent } from './tape.js';
import { tracePublish, tracer } from '../tracing/order-tracing.js';

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

export interface CommitOptions {
  /** the engine step's journal, committed in the same transaction as the events */
  journal?: readonly JournalRecord[] | undefined;
  /** the engine leader's term (a cluster) */
  fence?: Fence | undefined;
  /** the step's trades, for the public tape (stored in the same transaction) */
  prints?: readonly MarketPrint[] | undefined;
  /** when the order behind the step passed each point so far (its events carry them on) */
  times?: PathTimes | undefined;
  /** changes of market status the step made (numbered by the exchange; journaled with the step) */
  statuses?: readonly MarketStatusPayload[] | undefined;
}

/** Where the publish API's events go: committed and published (in a cluster, by the node that sequences them). */
export interface EventSink {
  commit(items: readonly PublishItem[], options?: CommitOptions): Promise<Published[]>;
}

/** Raised for an engine step queued behind one that could not be stored: it is not written either. */
export class EngineStepRefused extends Error {
  constructor() {
    super('an earlier engine step could not be stored; later steps are refused');
    this.name = 'EngineStepRefused';
  }
}

export interface EventCommitterDeps {
  store: Store;
  bus: EventBus;
  metrics: Metrics;
  now: () => number;
  logger?: Logger | undefined;
  /** a tape print's price in wire decimals */
  priceOf: (commodity: string, ticks: number) => number;
  /**
   * The last market seq per commodity known to have been published, beyond what the store's
   * snapshots say (a cluster: the bus's own latest); numbering goes on after the higher one.
   */
  marketFloor?: (() => Promise<ReadonlyMap<string, number>>) | undefined;
  /** the last tape seq per commodity in the store (the writer numbers on from it) */
  tapeSeqs?: (() => Promise<ReadonlyMap<string, number>>) | undefined;
}

interface Step {
  items: readonly PublishItem[];
  options: CommitOptions;
  resolve: (published: Published[]) => void;
  reject: (err: unknown) => void;
  /** when a traced order's step was queued (its commit span starts there) */
  tracedAt?: number | undefined;
}

/** Steps committed together at most (one transaction). */
const MAX_GROUP = 256;

export class EventCommitter implements EventSink {
  private readonly marketSeqs = new Map<string, number>();
  private readonly latestMarket = new Map<string, { seq: number; payload: MarketUpdatePayload; envelope: string }>();
  private readonly tapeSeqs = new Map<string, number>();
  private readonly queue: Step[] = [];
  private running: Promise<void> | null = null;
  /** an engine step failed to commit: no later engine step may be stored (the store would diverge) */
  private journalFailed = false;
  private savingSnapshots = false;
  /** transactions committed (or refused) so far: the id of a traced step's commit */
  private transactions = 0;

  constructor(private readonly deps: EventCommitterDeps) {}

  /** Reads where market data and the tape are numbered up to. */
  async start(): Promise<void> {
    for (const snap of await this.deps.store.loadMarketSnapshots()) {
      this.marketSeqs.set(snap.commodity, snap.seq);
      const envelope = JSON.parse(snap.envelope) as { payload: MarketUpdatePayload };
      this.latestMarket.set(snap.commodity, { seq: snap.seq, payload: envelope.payload, envelope: snap.envelope });
    }
    const floor = await this.deps.marketFloor?.();
    for (const [commodity, seq] of floor ?? []) if (seq > (this.marketSeqs.get(commodity) ?? 0)) this.marketSeqs.set(commodity, seq);
    for (const [commodity, seq] of (await this.deps.tapeSeqs?.()) ?? []) this.tapeSeqs.set(commodity, seq);
  }

  /** The latest market-update of each commodity this writer knows, as bus events (a gateway's snapshots at start). */
  latestMarketEvents(): BusEvent[] {
    return [...this.latestMarket].map(([commodity, m]) => marketEvent(commodity, m.seq, m.envelope));
  }

  /**
   * Publishes market statuses as they stand (state, nothing to commit): what a new leader or a
   * restarted process says first. A status that never changed (seq 0: open since its session
   * started) is what a gateway assumes without being told.
   */
  publishStatuses(statuses: readonly MarketStatusPayload[]): void {
    this.handOver(statuses.filter((s) => s.seq > 0).map(statusEvent));
  }

  /** The payload of a commodity's latest market-update (null before any). */
  latestMarketPayload(commodity: string): MarketUpdatePayload | null {
    return this.latestMarket.get(commodity)?.payload ?? null;
  }

  /** Publishes for a caller that does not wait: a failure is logged. */
  publishMany(items: readonly PublishItem[], options: CommitOptions = {}): void {
    this.commit(items, options).catch((err: unknown) => this.deps.logger?.error({ err }, 'events not published: the store refused them'));
  }

  /**
   * Publishes `items` (and commits the step's journal and prints): durable events once committed,
   * in one transaction with the rest of the step; market data alone, at once. Resolves once the
   * step is committed and handed to the bus; rejects when the store refuses (nothing of the step is
   * stored or published, no number used). With nothing to publish this still waits for the steps
   * queued before it (a retried order is answered after its original).
   */
  commit(items: readonly PublishItem[], options: CommitOptions = {}): Promise<Published[]> {
    const marketOnly = items.length > 0 && !options.journal?.length && !options.prints?.length && !options.statuses?.length && items.every((i) => i.event === 'market-update');
    if (marketOnly) return Promise.resolve(this.publishMarket(items as PublishItem<'market-update'>[]));
    return new Promise<Published[]>((resolve, reject) => {
      this.queue.push({ items, options, resolve, reject, tracedAt: tracer && options.times?.trace ? wallClock() : undefined });
      this.pump();
    });
  }

  /** Resolves once every step queued so far is committed (or refused). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    // one transaction carries one fence: a step with another term waits for the next group
    const fence = this.queue[0]!.options.fence;
    let n = 1;
    while (n < this.queue.length && n < MAX_GROUP && this.queue[n]!.options.fence?.term === fence?.term) n++;
    const group = this.queue.splice(0, n);
    this.running = this.commitGroup(group, fence).finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private async commitGroup(group: readonly Step[], fence: Fence | undefined): Promise<void> {
    const nowMs = this.deps.now();
    const timestamp = new Date(nowMs).toISOString();
    const journal: JournalRecord[] = [];
    const events: EventToLog[] = [];
    const tape: TapeEntry[] = [];
    const tapeBefore = new Map(this.tapeSeqs);
    for (const step of group) {
      if (step.options.journal?.length) journal.push(...step.options.journal);
      for (const item of step.items) if (item.event !== 'market-update') events.push(this.toLog(item, nowMs, timestamp));
      for (const print of step.options.prints ?? []) {
        const tapeSeq = (this.tapeSeqs.get(print.commodity) ?? 0) + 1;
        this.tapeSeqs.set(print.commodity, tapeSeq);
        tape.push({ ...print, tapeSeq });
      }
    }
    let written: LoggedEvent[];
    try {
      if (journal.length && this.journalFailed) throw new EngineStepRefused();
      written = events.length || journal.length || tape.length ? await this.deps.store.commit({ journal, events, tape }, fence) : [];
    } catch (err) {
      // nothing was stored: the tape's numbers were not used
      this.tapeSeqs.clear();
      for (const [c, s] of tapeBefore) this.tapeSeqs.set(c, s);
      if (journal.length) this.journalFailed = true;
      this.traceCommit(group, fence, wallClock(), 'SERVICE_UNAVAILABLE');
      for (const step of group) step.reject(err);
      return;
    }
    const committedAt = wallClock();
    this.traceCommit(group, fence, committedAt);
    const bus: BusEvent[] = [];
    const results: Published[][] = [];
    let next = 0;
    let nextPrint = 0;
    for (const step of group) {
      // the order's own update (the step's first) carries its way so far, to be timed where it is written
      let meta = step.options.times ? { ...step.options.times, committedAt } : undefined;
      const published: Published[] = [];
      for (const item of step.items) {
        if (item.event === 'market-update') {
          // market data of a step that had something to commit goes out with it, in its place, numbered now
          const m = this.numberMarket([item as PublishItem<'market-update'>], timestamp, nowMs);
          bus.push(...m.events);
          published.push(...m.published);
          continue;
        }
        const e = written[next++]!;
        const timed = meta && e.event === 'order-update' ? meta : undefined;
        if (timed) meta = undefined;
        bus.push({ room: roomOfStream(e.stream), stream: e.stream, seq: e.seq, event: e.event, envelope: e.envelope, meta: timed });
        published.push({ event: e.event, stream: e.stream, seq: e.seq });
        this.deps.metrics.eventsPublished.labels(e.event).inc();
      }
      for (let i = 0; i < (step.options.prints?.length ?? 0); i++) bus.push(tapeEvent(tape[nextPrint++]!, this.deps.priceOf));
      for (const status of step.options.statuses ?? []) bus.push(statusEvent(status));
      results.push(published);
    }
    this.handOver(bus);
    group.forEach((step, i) => step.resolve(results[i]!));
  }

  private publishMarket(items: readonly PublishItem<'market-update'>[]): Published[] {
    const nowMs = this.deps.now();
    const { events, published } = this.numberMarket(items, new Date(nowMs).toISOString(), nowMs);
    this.handOver(events);
    return published;
  }

  private handOver(events: readonly BusEvent[]): void {
    if (events.length === 0) return;
    const publishedAt = wallClock();
    for (const e of events) if (e.meta) e.meta.publishedAt = publishedAt;
    const spans = tracePublish(events);
    this.deps.bus.publish(events);
    if (spans) for (const span of spans) span.end();
    this.saveSnapshots();
  }

  /**
   * The commit span of each traced step of a group: one transaction serves every step of the
   * group, so each traced order gets a span of its own (from its step's queueing to the commit)
   * carrying the transaction's id and how many steps shared it.
   */
  private traceCommit(group: readonly Step[], fence: Fence | undefined, endedAt: number, error?: string): void {
    const id = ++this.transactions;
    if (!tracer) return;
    for (const step of group) {
      const trace = step.options.times?.trace;
      if (trace && step.tracedAt !== undefined) tracer.committed(trace, step.tracedAt, endedAt, { id, steps: group.length, term: fence?.term }, error);
    }
  }

  /** Numbers market-updates in their commodity's stream and renders them; the latest per commodity is kept. */
  private numberMarket(items: readonly PublishItem<'market-update'>[], timestamp: string, nowMs: number): { events: BusEvent[]; published: Published[] } {
    const events: BusEvent[] = [];
    const published: Published[] = [];
    for (const item of items) {
      const payload = item.payload.timestamp ? item.payload : { ...item.payload, timestamp };
      const commodity = payload.commodity;
      const seq = (this.marketSeqs.get(commodity) ?? 0) + 1;
      this.marketSeqs.set(commodity, seq);
      const envelope = JSON.stringify(buildEnvelope('market-update', payload, { timestamp, seq }));
      this.latestMarket.set(commodity, { seq, payload, envelope });
      this.unsaved.set(commodity, { commodity, seq, envelope, updatedAt: nowMs });
      events.push(marketEvent(commodity, seq, envelope));
      published.push({ event: 'market-update', stream: streams.market(commodity), seq });
      this.deps.metrics.eventsPublished.labels('market-update').inc();
    }
    return { events, published };
  }

  /** market snapshots not yet handed to the store, the latest per commodity */
  private readonly unsaved = new Map<string, MarketSnapshot>();

  /** Persists the latest market state after publishing it: one write at a time, the newest waiting. */
  private saveSnapshots(): void {
    if (this.savingSnapshots || this.unsaved.size === 0) return;
    const snapshots = [...this.unsaved.values()];
    this.unsaved.clear();
    this.savingSnapshots = true;
    this.deps.store
      .saveMarketSnapshots(snapshots)
      .catch((err: unknown) => {
        // kept for the next try unless something newer came meanwhile
        for (const s of snapshots) if (!this.unsaved.has(s.commodity)) this.unsaved.set(s.commodity, s);
        this.deps.logger?.warn({ err }, 'market snapshots not persisted (retried with the next update)');
      })
      .finally(() => {
        this.savingSnapshots = false;
        if (this.unsaved.size) setImmediate(() => this.saveSnapshots());
      });
  }

  /** Persists what is left of the market state (at a stop). */
  async flushSnapshots(): Promise<void> {
    while (this.savingSnapshots) await new Promise((r) => setTimeout(r, 5));
    if (this.unsaved.size === 0) return;
    const snapshots = [...this.unsaved.values()];
    this.unsaved.clear();
    await this.deps.store.saveMarketSnapshots(snapshots);
  }

  private toLog(item: PublishItem, nowMs: number, timestamp: string): EventToLog {
    const { event } = item;
    const payload = withTimestamp(event, item.payload, timestamp);
    const userId = event === 'system-alert' ? undefined : (item.userId ?? (payload as { userId?: string }).userId);
    const stream = streamOfEvent(event, { userId });
    return {
      stream,
      event,
      createdAt: nowMs,
      render: (seq) => JSON.stringify(buildEnvelope(event, payload, { timestamp, seq, userId })),
    };
  }
}

function statusEvent(status: MarketStatusPayload): BusEvent {
  const stream = streams.status(status.commodity);
  return { room: roomOfStream(stream), stream, seq: status.seq, event: 'market-status', envelope: JSON.stringify(status) };
}

function marketEvent(commodity: string, seq: number, envelope: string): BusEvent {
  const stream = streams.market(commodity);
  return { room: roomOfStream(stream), stream, seq, event: 'market-update', envelope };
}

/** Fills the payload timestamp the seed shows, when the publisher left it out. */
function withTimestamp<E extends DataEventName>(event: E, payload: DataPayloads[E], timestamp: string): DataPayloads[E] {
  if (event === 'trade-update' || event === 'compliance-alert') return payload;
  const p = payload as { timestamp?: string | undefined };
  return p.timestamp ? payload : { ...payload, timestamp };
}
