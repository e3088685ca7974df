/**
 * The trading core, built one way wherever it runs: in the single process (the in-process
 * backplane) and on a cluster's engine leader. The books, the simulated market, the committer that
 * numbers, stores and publishes every event, and the books' deltas; all writes go through
 * `store` (a cluster: the leader's fenced connection) and every event out through `bus`.
 */
import type { Logger } from 'pino';
import { Exchange, MarketSimulator, mulberry32 } from '@qx/engine';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Fence, Store } from '../store/store.js';
import type { EventBus } from './bus-event.js';
import { EventCommitter } from './event-committer.js';
import { BookTicker, type BookState } from './book-ticker.js';
import { TradingService } from './trading-service.js';

export interface TradingCoreDeps {
  config: Config;
  /** where the core writes (and reads to restore) */
  store: Store;
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** the leader's term for every commit (a cluster) */
  fence?: (() => Fence | undefined) | undefined;
  /** the last numbers already published (a cluster: as the bus last saw them; a new leader goes on after them) */
  published?: {
    marketSeqs(): Promise<ReadonlyMap<string, number>>;
    books(): Promise<readonly BookState[]>;
  } | undefined;
  /** the last tape seq per commodity in the store */
  tapeSeqs: () => Promise<ReadonlyMap<string, number>>;
  /** which of the nodes are alive (null: cannot tell now): cancel-on-disconnect fires for a dead node's connections */
  liveNodes: (nodes: readonly string[]) => Promise<ReadonlySet<string> | null>;
  /** the store refused a write: the core has stopped and this process must not go on as if it had not */
  onFatal: (err: unknown) => void;
}

export interface TradingCore {
  readonly exchange: Exchange;
  readonly trading: TradingService;
  readonly committer: EventCommitter;
  readonly books: BookTicker;
  /** restores from the store, then starts the market (listen only after it resolves) */
  start(): Promise<void>;
  /** stops trading and the market; waits for what is being committed, and persists the market state */
  close(): Promise<void>;
}

export function createTradingCore(deps: TradingCoreDeps): TradingCore {
  const { config, now } = deps;
  const exchange = new Exchange({ clock: now, commodities: config.commodities, compliance: config.trading.compliance, velocity: config.trading.velocity ?? false });
  const committer = new EventCommitter({
    store: deps.store,
    bus: deps.bus,
    metrics: deps.metrics,
    now,
    logger: deps.logger.child({ part: 'committer' }),
    priceOf: (commodity, ticks) => exchange.market(commodity)?.grid.fromTicks(ticks) ?? ticks,
    marketFloor: deps.published ? () => deps.published!.marketSeqs() : undefined,
    tapeSeqs: deps.tapeSeqs,
  });
  const books = new BookTicker({ commodities: config.commodities.map((c) => c.symbol), book: (c, depth) => exchange.book(c, depth), bus: deps.bus });
  const createSimulator = config.simulator.enabled
    ? () => new MarketSimulator({ exchange, random: mulberry32(config.simulator.seed ?? now() % 2_147_483_647) })
    : null;
  const trading = new TradingService({
    exchange,
    createSimulator,
    store: deps.store,
    committer,
    books,
    fence: deps.fence,
    logger: deps.logger.child({ part: 'trading' }),
    now,
    marketUpdatesPerSecond: config.simulator.updatesPerSecond,
    sessionCloseMinuteUtc: config.trading.sessionCloseMinuteUtc,
    sessionOpenMinuteUtc: config.trading.sessionOpenMinuteUtc,
    cancelOnDisconnectGraceMs: config.trading.cancelOnDisconnectGraceMs,
    liveNodes: deps.liveNodes,
    onFatal: deps.onFatal,
  });
  return {
    exchange,
    trading,
    committer,
    books,
    async start() {
      await committer.start();
      if (deps.published) books.resume(await deps.published.books());
      await trading.start();
    },
    async close() {
      trading.close();
      await committer.drain();
      await committer.flushSnapshots().catch((err: unknown) => deps.logger.warn({ err }, 'market snapshots not persisted at stop'));
    },
  };
}
