/**
 * The trading core's driver. The engine is the single writer of every book: each operation (an
 * order, a cancel, a simulator step, a session roll) returns its journal, its events and its
 * trades; all are committed in one store transaction, in engine order (the committer's queue),
 * and only then are the events published and the caller answered. Market data and the books'
 * deltas are published from the books at most N times per second per commodity (the latest state
 * wins), without waiting on the store.
 */
import type { Logger } from 'pino';
import type { AmendRequest, ConnectionRecord, EngineBatch, Exchange, JournalRecord, MarketSimulator, MarketStatusView, OrderResult } from '@qx/engine';
import { wireError, type CancelOnDisconnectScope, type MarketStatusPayload, type OrderRequestBody, type OrderUpdatePayload } from '@qx/protocol';
import type { PathTimes } from '../order-path.js';
import type { CancelAllOutcome, Outcome, SubmitOutcome } from './outcomes.js';
import type { Fence, Store } from '../store/store.js';
import type { EventCommitter, PublishItem } from './event-committer.js';
import type { BookTicker } from './book-ticker.js';
import { CANCEL_ON_DISCONNECT_REASON, ConnectionGuard } from './connection-guard.js';
import { SessionCalendar } from './session-calendar.js';
import { wallClock } from './wall-clock.js';
import { traceMatch } from '../tracing/order-tracing.js';

export interface TradingServiceDeps {
  exchange: Exchange;
  /** makes the simulated market; called after the restore, so it starts from the restored prices */
  createSimulator: (() => MarketSimulator) | null;
  store: Store;
  committer: EventCommitter;
  /** the books' deltas, published with the market data */
  books?: BookTicker | undefined;
  /** the engine leader's term, for fenced commits (cluster mode) */
  fence?: (() => Fence | undefined) | undefined;
  logger: Logger;
  now: () => number;
  marketUpdatesPerSecond: number;
  /** minutes after midnight UTC at which the trading day ends (day orders expire) */
  sessionCloseMinuteUtc: number;
  /** minutes after midnight UTC at which the next trading day starts (equal to the close: no break) */
  sessionOpenMinuteUtc?: number | undefined;
  /** how long a lost connection may take to come back before its cancel-on-disconnect fires */
  cancelOnDisconnectGraceMs?: number | undefined;
  /**
   * Which of `nodes` are alive (their connections may still be there); null when that cannot be
   * told now (nothing is judged dead then). Cancel-on-disconnect fires for a dead node's connections.
   */
  liveNodes?: ((nodes: readonly string[]) => Promise<ReadonlySet<string> | null>) | undefined;
  /** the store could not be written: the process must stop rather than diverge from it */
  onFatal: (err: unknown) => void;
}

/** Where an order came from: the connection it was placed through (cancel-on-disconnect). */
export interface OrderOrigin {
  connection: string;
}

/** How often the nodes that hold connections with cancel-on-disconnect are checked for life. */
const LIVENESS_CHECK_MS = 1000;

const STOPPED: SubmitOutcome = { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'Trading is stopped' } };

/** How often the simulated market moves. */
const SIMULATOR_STEP_MS = 100;

/** What the trading core did, counted since it started (the activity summary in the log reads it). */
export interface TradingCounts {
  /** order-updates of real users (every state change of an order) */
  orderUpdates: number;
  /** trades on every book, simulated ones included */
  trades: number;
}

export class TradingService {
  readonly counts: TradingCounts = { orderUpdates: 0, trades: 0 };
  private readonly dirty = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private sessionTimer: NodeJS.Timeout | null = null;
  private controlsTimer: NodeJS.Timeout | null = null;
  private failed = false;
  private closed = false;
  private readonly guard: ConnectionGuard;
  private readonly calendar: SessionCalendar;

  constructor(private readonly deps: TradingServiceDeps) {
    this.guard = new ConnectionGuard(deps.cancelOnDisconnectGraceMs ?? 0);
    this.calendar = new SessionCalendar(deps.sessionCloseMinuteUtc, deps.sessionOpenMinuteUtc ?? deps.sessionCloseMinuteUtc);
  }

  /** Restores the engine from the store and starts the market. */
  async start(): Promise<void> {
    const { exchange, store, logger, now } = this.deps;
    const records = await store.loadForRestore();
    for (const r of records) if (r.kind === 'connection') this.guard.restore(r.connection);
    const restored = exchange.restore(records);
    if (!restored.ok) throw new Error(`cannot restore the trading state: ${restored.error}`);
    logger.info(restored.summary, 'trading state restored');
    // this process makes the market: its last market data is its own, to continue from
    if (this.deps.createSimulator) this.resumeMarketData();
    if (this.calendar.inBreak(now())) {
      // between a close and the next open: the day's orders are gone and the market is closed
      if (exchange.marketStatuses().some((m) => m.status !== 'closed') && !(await this.commit(this.closeSession(now())))) {
        throw new Error('cannot store the close of the trading session');
      }
    } else if (!this.sessionStartedToday()) {
      if (!(await this.commit(exchange.startSession(now())))) throw new Error('cannot store the start of the trading session');
      this.logSessionRoll(now(), 0);
    }
    // deadlines and halts that ran out while nobody watched: at once
    if (!(await this.commit(exchange.fireDeadManSwitches(now()))) || !(await this.commit(exchange.tick(now())))) {
      throw new Error('cannot store the trading controls that came due');
    }
    // every gateway hears each commodity's status from this core first
    this.deps.committer.publishStatuses(exchange.marketStatuses().map(statusPayload));
    if (this.deps.createSimulator) {
      // this process is the market: every commodity gets a price at once. Without the simulator
      // market data may come from elsewhere (the publish API), and the books speak only when traded.
      for (const c of exchange.commodities()) this.dirty.add(c.symbol);
      const simulator = this.deps.createSimulator();
      this.every(SIMULATOR_STEP_MS, () => {
        const step = simulator.step(now());
        for (const c of step.changed) this.dirty.add(c);
        void this.commit(step);
      });
    }
    this.every(Math.max(1, Math.floor(1000 / this.deps.marketUpdatesPerSecond)), () => this.publishMarketData());
    this.publishMarketData();
    this.scheduleSession();
    // connections of nodes gone while nobody watched (one process: every one of an earlier run)
    // are lost now; what is due fires before the first request is served
    await this.checkNodes();
    await this.runControls();
    if (this.deps.liveNodes) this.every(LIVENESS_CHECK_MS, () => void this.checkNodes());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    if (this.controlsTimer) clearTimeout(this.controlsTimer);
  }

  /**
   * Places an order; answers once its step is committed (a retry by clientOrderId, once the
   * original is). `origin`: the connection it came through, which remembers it when it cancels
   * its own orders on disconnect.
   */
  submit(userId: string, body: OrderRequestBody, times?: PathTimes, origin?: OrderOrigin): Promise<SubmitOutcome> {
    if (this.failed) return Promise.resolve(STOPPED);
    const started = started_(times);
    const nowMs = this.deps.now();
    const result = this.deps.exchange.submit(userId, body, { nowMs });
    if (origin && result.ok && isOpenStatus(result.order.status)) {
      const exchange = this.deps.exchange;
      const record = this.guard.placed(origin.connection, userId, result.order.id, (id) => exchange.getOrder(userId, id) !== null && isOpenStatus(exchange.getOrder(userId, id)!.status), nowMs);
      if (record) {
        // remembered only when the order itself is stored: the same transaction
        const replayed = result.journal.length === 0 && result.events.length === 0;
        return this.settle({ ...result, journal: [...result.journal, connectionJournal(record)] }, body.commodity, started, replayed);
      }
    }
    return this.settle(result, body.commodity, started);
  }

  cancel(userId: string, orderId: string, times?: PathTimes): Promise<SubmitOutcome> {
    if (this.failed) return Promise.resolve(STOPPED);
    const started = started_(times);
    const result = this.deps.exchange.cancel(userId, orderId, { nowMs: this.deps.now() });
    return this.settle(result, result.ok ? result.order.commodity : undefined, started);
  }

  /** Cancel/replace of a resting order: a new price, a new total quantity, or both. */
  amend(userId: string, orderId: string, change: AmendRequest, times?: PathTimes): Promise<SubmitOutcome> {
    if (this.failed) return Promise.resolve(STOPPED);
    const started = started_(times);
    const result = this.deps.exchange.amend(userId, orderId, change, { nowMs: this.deps.now() });
    return this.settle(result, result.ok ? result.order.commodity : undefined, started);
  }

  /** Cancels every open order of the user (of one commodity), in one committed operation. */
  async cancelAll(userId: string, commodity?: string): Promise<CancelAllOutcome> {
    if (this.failed) return STOPPED as CancelAllOutcome;
    const result = this.deps.exchange.cancelAll(userId, commodity, { nowMs: this.deps.now() });
    if (!(await this.commit(result))) return { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'The cancellation could not be stored' } };
    if (!result.ok) return { ok: false, error: result.error };
    for (const o of result.cancelled) if (o.commodity) this.dirty.add(o.commodity);
    return { ok: true, cancelled: result.cancelled };
  }

  /** Closes the user's net position in a commodity with a market order. */
  flatten(userId: string, commodity: string, clientOrderId?: string): Promise<SubmitOutcome> {
    if (this.failed) return Promise.resolve(STOPPED);
    const result = this.deps.exchange.flatten(userId, commodity, { nowMs: this.deps.now() }, clientOrderId);
    return this.settle(result, commodity);
  }

  private async settle(result: OrderResult, commodity: string | undefined, times?: PathTimes, replayedAlready?: boolean): Promise<SubmitOutcome> {
    traceMatch(times, wallClock(), result);
    const replayed = replayedAlready ?? (result.ok && result.journal.length === 0 && result.events.length === 0);
    if (!(await this.commit(result, times))) {
      return { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'The order could not be stored' } };
    }
    if (commodity && !replayed) this.dirty.add(commodity);
    if (result.ok) return { ok: true, order: result.order, replayed };
    return { ok: false, error: result.error, order: result.order };
  }

  /**
   * Persists a batch's journal and logs its events in one transaction, then emits them; queued
   * behind the commits before it (an empty batch too: it resolves once they are stored).
   */
  private async commit(batch: EngineBatch, times?: PathTimes): Promise<boolean> {
    const items: PublishItem[] = batch.events.map((e) => ({ event: e.event, payload: e.payload, userId: 'userId' in e ? e.userId : undefined }));
    try {
      await this.deps.committer.commit(items, { journal: batch.journal, fence: this.deps.fence?.(), prints: batch.prints, statuses: batch.marketStatus, times });
      this.count(batch);
      // a halt (a velocity halt comes with a trade) ends at a time of its own
      if (batch.marketStatus?.length) this.scheduleControls();
      return !this.failed;
    } catch (err) {
      // the engine has moved on but the store has not: stop trading and let a restart restore
      if (!this.failed) {
        this.failed = true;
        this.deps.logger.fatal({ err }, 'could not persist a trading operation');
        this.deps.onFatal(err);
      }
      return false;
    }
  }

  /** Counts the batch's order and trade changes, and logs each one at debug. */
  private count(batch: EngineBatch): void {
    this.counts.trades += batch.prints?.length ?? 0;
    const { logger } = this.deps;
    const debug = logger.isLevelEnabled('debug');
    for (const e of batch.events) {
      if (e.event === 'order-update') {
        this.counts.orderUpdates++;
        if (debug) {
          const o = e.payload;
          logger.debug({ orderId: o.id, userId: o.userId, commodity: o.commodity, status: o.status, filled: o.filledQuantity, remaining: o.remainingQuantity, reason: o.reason }, 'order %s', o.status);
        }
      } else if (e.event === 'trade-update' && debug) {
        const t = e.payload;
        logger.debug({ tradeId: t.id, orderId: t.orderId, userId: t.userId, commodity: t.commodity, side: t.side, quantity: t.quantity, price: t.price, liquidity: t.liquidity }, 'trade %s', t.status);
      }
    }
  }

  /**
   * The simulated market trades between agents, whose trades are not journaled: the session's
   * last price and volume come back from the last market-update stored (same session only), so
   * a restart continues the day's price, change and volume instead of starting again.
   */
  private resumeMarketData(): void {
    const { exchange, committer } = this.deps;
    for (const c of exchange.commodities()) {
      const last = committer.latestMarketPayload(c.symbol);
      if (last) exchange.resumeSession(c.symbol, last);
    }
  }

  private logSessionRoll(at: number, expiredOrders: number): void {
    const { exchange, logger } = this.deps;
    const reference = Object.fromEntries(exchange.commodities().map((c) => [c.symbol, exchange.marketData(c.symbol, at)?.price]));
    logger.info({ sessionStartedAt: new Date(at).toISOString(), expiredDayOrders: expiredOrders, reference }, 'trading session rolled');
  }

  /** The books' deltas and the market data of the commodities that changed. */
  private publishMarketData(): void {
    if (this.failed) return;
    this.deps.books?.tick();
    if (this.dirty.size === 0) return;
    const nowMs = this.deps.now();
    const items: PublishItem[] = [];
    for (const commodity of this.dirty) {
      const payload = this.deps.exchange.marketData(commodity, nowMs);
      if (payload) items.push({ event: 'market-update', payload });
    }
    this.dirty.clear();
    this.deps.committer.commit(items).catch((err: unknown) => this.deps.logger.error({ err }, 'market data not published'));
  }

  private sessionStartedToday(): boolean {
    const market = this.deps.exchange.commodities()[0];
    if (!market) return true;
    const startedAt = this.deps.exchange.market(market.symbol)?.sessionStartedAt ?? null;
    return startedAt !== null && startedAt >= this.calendar.previousOpen(this.deps.now());
  }

  /** The close of a session with a break after it: the day's orders expire and every market shows closed. */
  private closeSession(nowMs: number): EngineBatch {
    const expired = this.deps.exchange.expireDayOrders(nowMs);
    const closed = this.deps.exchange.closeSession(undefined, { nowMs });
    return merge(expired, closed);
  }

  /** At each close (day orders expire; without a break the next session starts at once) and each open. */
  private scheduleSession(): void {
    const nowMs = this.deps.now();
    const next = this.calendar.next(nowMs);
    this.sessionTimer = setTimeout(() => {
      const t = this.deps.now();
      // timers may fire a millisecond early against the wall clock (or the wait was capped): wait on
      if (t < next.at) return this.scheduleSession();
      const { exchange } = this.deps;
      if (next.what === 'close' && this.calendar.hasBreak) {
        const batch = this.closeSession(t);
        void this.commit(batch);
        this.deps.logger.info({ at: new Date(t).toISOString(), expiredDayOrders: batch.events.filter((e) => e.event === 'order-update').length }, 'trading session closed');
      } else {
        const expired = next.what === 'close' ? exchange.expireDayOrders(t) : null;
        if (expired) void this.commit(expired);
        void this.commit(exchange.startSession(t));
        this.logSessionRoll(t, expired?.events.filter((e) => e.event === 'order-update').length ?? 0);
      }
      for (const c of exchange.commodities()) this.dirty.add(c.symbol);
      this.scheduleSession();
    }, Math.min(next.at - nowMs, 2_147_483_647));
    this.sessionTimer.unref();
  }

  // ---- trading safety -------------------------------------------------------------------------

  /** The connection's cancel-on-disconnect (`off` forgets it). */
  async setCancelOnDisconnect(userId: string, connection: string, node: string, scope: CancelOnDisconnectScope): Promise<Outcome<{ scope: CancelOnDisconnectScope }>> {
    if (this.failed) return STOPPED as Outcome<never>;
    const record = this.guard.register(connection, userId, node, scope, this.deps.now());
    if (!record) return { ok: false, error: wireError('FORBIDDEN', 'This connection belongs to another user') };
    if (!(await this.commit({ events: [], journal: [connectionJournal(record)] }))) return UNSTORED;
    return { ok: true, scope };
  }

  /** A connection ended: what it asked to cancel on disconnect is cancelled after the grace, unless it comes back. */
  async connectionLost(connection: string): Promise<void> {
    const record = this.guard.lost(connection, this.deps.now());
    if (!record) return;
    await this.commit({ events: [], journal: [connectionJournal(record)] });
    this.scheduleControls();
  }

  /** A connection came back (recovered, on `node`): nothing of it is cancelled. */
  async connectionRestored(connection: string, node: string): Promise<void> {
    const record = this.guard.restored(connection, node, this.deps.now());
    if (record) await this.commit({ events: [], journal: [connectionJournal(record)] });
  }

  /** The dead-man's switch: all the user's open orders are cancelled unless it is called again within `timeoutMs` (0 disarms). */
  async cancelAllAfter(userId: string, timeoutMs: number): Promise<Outcome<{ timeoutMs: number; firesAt: number | null }>> {
    if (this.failed) return STOPPED as Outcome<never>;
    const result = this.deps.exchange.armCancelAllAfter(userId, timeoutMs, { nowMs: this.deps.now() });
    if (!(await this.commit(result))) return UNSTORED;
    this.scheduleControls();
    return result.ok ? { ok: true, timeoutMs, firesAt: result.firesAt } : { ok: false, error: result.error };
  }

  /** The kill switch: a risk manager stops (or allows again) a user's trading; stopping cancels the user's open orders. */
  async setTradingEnabled(userId: string, enabled: boolean, reason: string, by: string): Promise<Outcome<{ userId: string; enabled: boolean; reason: string; cancelled: OrderUpdatePayload[] }>> {
    if (this.failed) return STOPPED as Outcome<never>;
    const result = this.deps.exchange.setTradingEnabled(userId, enabled, { reason, by }, { nowMs: this.deps.now() });
    if (!(await this.commit(result))) return UNSTORED;
    if (!result.ok) return { ok: false, error: result.error };
    const cancelled = result.events.flatMap((e) => (e.event === 'order-update' && e.payload.status === 'cancelled' ? [e.payload] : []));
    for (const o of cancelled) if (o.commodity) this.dirty.add(o.commodity);
    this.deps.logger.info({ by, userId, enabled, reason, cancelledOrders: cancelled.length }, enabled ? 'trading enabled for a user' : 'trading disabled for a user (kill switch)');
    return { ok: true, userId, enabled, reason, cancelled };
  }

  /** An operator halts a commodity, for `durationMs` or until reopened (null). */
  async halt(commodity: string, reason: string, durationMs: number | null, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    if (this.failed) return STOPPED as Outcome<never>;
    const nowMs = this.deps.now();
    const result = this.deps.exchange.halt(commodity, { reason, untilMs: durationMs === null ? null : nowMs + durationMs }, { nowMs });
    return this.statusChange(result, commodity, by, 'market halted by an operator');
  }

  /** An operator reopens a halted (or closed) commodity. */
  async reopen(commodity: string, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    if (this.failed) return STOPPED as Outcome<never>;
    const result = this.deps.exchange.reopen(commodity, { nowMs: this.deps.now() });
    return this.statusChange(result, commodity, by, 'market reopened by an operator');
  }

  /** Every commodity's market status as the exchange holds it. */
  marketStatuses(): MarketStatusPayload[] {
    return this.deps.exchange.marketStatuses().map(statusPayload);
  }

  private async statusChange(result: ReturnType<Exchange['reopen']>, commodity: string, by: string, what: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    if (!(await this.commit(result))) return UNSTORED;
    if (!result.ok) return { ok: false, error: result.error };
    this.scheduleControls();
    const view = this.deps.exchange.marketStatus(commodity);
    this.deps.logger.info({ by, commodity, status: view?.status, reason: view?.reason, until: view?.until === null || !view ? null : new Date(view.until).toISOString() }, what);
    return { ok: true, status: statusPayload(view!) };
  }

  /** Runs what came due: dead-man's switches, the end of halts, lost connections past their grace; then waits for the next. */
  private scheduleControls(): void {
    if (this.closed || this.failed) return;
    if (this.controlsTimer) clearTimeout(this.controlsTimer);
    this.controlsTimer = null;
    const { exchange } = this.deps;
    const next = [exchange.nextDeadManDeadline(), exchange.nextStatusChange(), this.guard.nextDue()].filter((t): t is number => t !== null);
    if (next.length === 0) return;
    const delay = Math.min(Math.max(0, Math.min(...next) - this.deps.now()), 2_147_483_647);
    this.controlsTimer = setTimeout(() => void this.runControls(), delay);
    this.controlsTimer.unref();
  }

  private async runControls(): Promise<void> {
    this.controlsTimer = null;
    if (this.closed || this.failed) return;
    const { exchange, now } = this.deps;
    const t = now();
    const firing = exchange.fireDeadManSwitches(t);
    if (firing.fired.length) this.deps.logger.info({ users: firing.fired }, "dead-man's switch fired: open orders cancelled");
    await this.commit(firing);
    await this.commit(exchange.tick(t));
    for (const due of this.guard.due(t)) {
      const journal: JournalRecord[] = [connectionJournal(due.record)];
      let batch: EngineBatch = { events: [], journal: [] };
      if (due.cancel && 'orders' in due.cancel) batch = exchange.cancelOrders(due.cancel.userId, due.cancel.orders, CANCEL_ON_DISCONNECT_REASON, { nowMs: t });
      else if (due.cancel) batch = exchange.cancelAll(due.cancel.userId, undefined, { nowMs: t, reason: CANCEL_ON_DISCONNECT_REASON });
      const cancelled = batch.events.filter((e) => e.event === 'order-update').length;
      if (due.cancel) this.deps.logger.info({ userId: due.record.userId, connection: due.record.id, node: due.record.node, cancelledOrders: cancelled }, 'cancel-on-disconnect fired');
      await this.commit({ ...batch, journal: [...batch.journal, ...journal] });
    }
    this.scheduleControls();
  }

  /** The nodes that hold connections: a dead one's connections are lost now. */
  private async checkNodes(): Promise<void> {
    const nodes = [...this.guard.liveNodes()];
    if (nodes.length === 0 || !this.deps.liveNodes) return;
    const alive = await this.deps.liveNodes(nodes).catch(() => null);
    if (!alive || this.closed) return;
    const t = this.deps.now();
    const lost = nodes.filter((n) => !alive.has(n)).flatMap((n) => this.guard.nodeLost(n, t));
    if (lost.length === 0) return;
    this.deps.logger.warn({ nodes: nodes.filter((n) => !alive.has(n)), connections: lost.length }, 'a node holding connections with cancel-on-disconnect is gone');
    await this.commit({ events: [], journal: lost.map(connectionJournal) });
    this.scheduleControls();
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.deps.logger.error({ err }, 'trading timer failed');
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** The times so far, with the engine's start stamped on (absent when the caller is not timing the path). */
function started_(times: PathTimes | undefined): PathTimes | undefined {
  return times ? { ...times, startedAt: wallClock() } : undefined;
}

const UNSTORED: Outcome<never> = { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'The change could not be stored' } };

function isOpenStatus(status: string): boolean {
  return status === 'new' || status === 'partially_filled';
}

function connectionJournal(connection: ConnectionRecord): JournalRecord {
  return { kind: 'connection', connection };
}

function statusPayload(v: MarketStatusView): MarketStatusPayload {
  return { commodity: v.commodity, status: v.status, reason: v.reason, since: new Date(v.since).toISOString(), until: v.until === null ? null : new Date(v.until).toISOString(), seq: v.seq };
}

/** Two batches as one (committed together). */
function merge(a: EngineBatch, b: EngineBatch): EngineBatch {
  const out: EngineBatch = { events: [...a.events, ...b.events], journal: [...a.journal, ...b.journal] };
  const prints = [...(a.prints ?? []), ...(b.prints ?? [])];
  const statuses = [...(a.marketStatus ?? []), ...(b.marketStatus ?? [])];
  if (prints.length) out.prints = prints;
  if (statuses.length) out.marketStatus = statuses;
  return out;
}
