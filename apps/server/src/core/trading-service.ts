/**
 * The trading core's driver. The engine is the single writer of every book: each operation (an
 * order, a cancel, a simulator step, a session roll) returns its journal, its events and its
 * trades; all are committed in one store transaction, in engine order (the committer's queue),
 * and only then are the events published and the caller answered. Market data and the books'
 * deltas are published from the books at most N times per second per commodity (the latest state
 * wins), without waiting on the store.
 */
import type { Logger } from 'pino';
import type { AmendRequest, EngineBatch, Exchange, MarketSimulator, OrderResult } from '@qx/engine';
import type { OrderRequestBody, OrderUpdatePayload, WireError } from '@qx/protocol';
import type { PathTimes } from '../backplane/backplane.js';
import type { Fence, Store } from '../store/store.js';
import type { EventCommitter, PublishItem } from './event-committer.js';
import type { BookTicker } from './book-ticker.js';
import { wallClock } from './wall-clock.js';

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
  /** the store could not be written: the process must stop rather than diverge from it */
  onFatal: (err: unknown) => void;
}

export type SubmitOutcome =
  | { ok: true; order: OrderUpdatePayload; replayed: boolean }
  | { ok: false; error: WireError; order?: OrderUpdatePayload | undefined };

export type CancelAllOutcome = { ok: true; cancelled: OrderUpdatePayload[] } | { ok: false; error: WireError };

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
  private failed = false;

  constructor(private readonly deps: TradingServiceDeps) {}

  /** Restores the engine from the store and starts the market. */
  async start(): Promise<void> {
    const { exchange, store, logger, now } = this.deps;
    const restored = exchange.restore(await store.loadForRestore());
    if (!restored.ok) throw new Error(`cannot restore the trading state: ${restored.error}`);
    logger.info(restored.summary, 'trading state restored');
    // this process makes the market: its last market data is its own, to continue from
    if (this.deps.createSimulator) this.resumeMarketData();
    if (!this.sessionStartedToday()) {
      if (!(await this.commit(exchange.startSession(now())))) throw new Error('cannot store the start of the trading session');
      this.logSessionRoll(now(), 0);
    }
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
    this.scheduleSessionClose();
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
  }

  /** Places an order; answers once its step is committed (a retry by clientOrderId, once the original is). */
  submit(userId: string, body: OrderRequestBody, times?: PathTimes): Promise<SubmitOutcome> {
    if (this.failed) return Promise.resolve(STOPPED);
    const started = started_(times);
    const result = this.deps.exchange.submit(userId, body, { nowMs: this.deps.now() });
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

  private async settle(result: OrderResult, commodity: string | undefined, times?: PathTimes): Promise<SubmitOutcome> {
    const replayed = result.ok && result.journal.length === 0 && result.events.length === 0;
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
      await this.deps.committer.commit(items, { journal: batch.journal, fence: this.deps.fence?.(), prints: batch.prints, times });
      this.count(batch);
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
    return startedAt !== null && startedAt > this.previousClose(this.deps.now());
  }

  private previousClose(nowMs: number): number {
    const day = 86_400_000;
    const closeOffset = this.deps.sessionCloseMinuteUtc * 60_000;
    const todayClose = Math.floor(nowMs / day) * day + closeOffset;
    return todayClose <= nowMs ? todayClose : todayClose - day;
  }

  private scheduleSessionClose(): void {
    const nowMs = this.deps.now();
    const next = this.previousClose(nowMs) + 86_400_000;
    this.sessionTimer = setTimeout(() => {
      const t = this.deps.now();
      // timers may fire a millisecond early against the wall clock (or the wait was capped): wait on
      if (t < next) return this.scheduleSessionClose();
      const expired = this.deps.exchange.expireDayOrders(t);
      void this.commit(expired);
      void this.commit(this.deps.exchange.startSession(t));
      this.logSessionRoll(t, expired.events.filter((e) => e.event === 'order-update').length);
      for (const c of this.deps.exchange.commodities()) this.dirty.add(c.symbol);
      this.scheduleSessionClose();
    }, Math.min(next - nowMs, 2_147_483_647));
    this.sessionTimer.unref();
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
