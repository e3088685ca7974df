/**
 * An engine node of the cluster. Every engine campaigns for leadership; the leader restores the
 * trading core from PostgreSQL (books with their priority, positions, counters), republishes the
 * events of the last moments (the old leader may have committed some it never published), starts
 * the simulated market and serves the gateways' commands. Every write carries its term: when
 * another node has taken over, the write is refused and this node steps down to standby.
 */
import type { Logger } from 'pino';
import { Exchange, MarketSimulator, mulberry32 } from '@qx/engine';
import { orderAmendSchema, orderRequestSchema, describeZodError } from '@qx/protocol';
import { roomOfStream } from './bus-bridge.js';
import type { ClusterConfig, Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { Publisher } from '../realtime/publisher.js';
import { TradingService, type SubmitOutcome } from '../trading/trading-service.js';
import type { LoggedEvent, Store } from '../store/store.js';
import { BusOutbox } from './bus-outbox.js';
import type { BusEvent } from './bus-message.js';
import type { RedisBus } from './redis-bus.js';
import { EngineCommandError, type CommandMeta, type CommandQueue, type EngineCommand } from './command-queue.js';
import type { EngineLeadership } from './leadership.js';
import type { PgStore } from '../store/pg-store.js';
import { PgMarketTrades } from '../store/pg-market-trades.js';
import { TapeFeed } from '../realtime/tape-feed.js';
import { BookPublisher } from './book-mirror.js';
import type { Redis } from './redis-connection.js';

/** Events committed this long before an election are published again by the new leader. */
const REPUBLISH_WINDOW_MS = 30_000;
/** Commands the leader takes at once; they run in arrival order and commit in that order. */
const COMMAND_CONCURRENCY = 64;

export interface EngineNodeDeps {
  config: Config;
  cluster: ClusterConfig;
  store: PgStore;
  leadership: EngineLeadership;
  bus: RedisBus;
  redis: Redis;
  commands: CommandQueue;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

interface Reign {
  term: number;
  exchange: Exchange;
  trading: TradingService;
  publisher: Publisher;
  outbox: BusOutbox;
  books: BookPublisher;
}

export class EngineNode {
  private reign: Reign | null = null;
  /** the term being taken up (restore in progress) */
  private rising: number | null = null;
  private serving = false;
  private closed = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly deps: EngineNodeDeps) {
    deps.leadership.on('elected', (term: number) => this.queue(() => this.lead(term)));
    deps.leadership.on('lost', (reason: string) => this.queue(() => this.stepDown(reason)));
  }

  /** leading and able to take orders */
  get ready(): boolean {
    return this.serving && this.reign !== null;
  }

  get leader(): boolean {
    return this.deps.leadership.isLeader;
  }

  get term(): number | null {
    return this.reign?.term ?? this.rising;
  }

  /** The trading core while this node leads (tests and the all-in-one node read it). */
  get exchange(): Exchange | null {
    return this.reign?.exchange ?? null;
  }

  start(): void {
    this.deps.leadership.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transition;
    await this.stepDown('shutting down');
    await this.deps.leadership.stop();
  }

  private queue(fn: () => Promise<void>): void {
    this.transition = this.transition.then(fn).catch((err: unknown) => this.deps.logger.error({ err }, 'engine leadership transition failed'));
  }

  private async lead(term: number): Promise<void> {
    if (this.closed) return;
    if (this.reign) await this.stepDown('re-elected');
    const { config, cluster, store, leadership, bus, metrics, logger, now } = this.deps;
    const started = now();
    this.rising = term;
    const writer: Store = leadership.writer(store);
    const outbox = new BusOutbox({ publish: (events) => bus.publish(events), logger: logger.child({ part: 'outbox' }) });
    const commodities = new Set(config.commodities.map((c) => c.symbol));
    const publisher = new Publisher({ store: writer, sink: outbox, metrics, now, commodities, logger: logger.child({ part: 'publisher' }) });
    const exchange = new Exchange({ clock: now, commodities: config.commodities, compliance: config.trading.compliance });
    // the public tape: stored in PostgreSQL (gateways read candles there), sent to the gateways on the bus
    const tape = new PgMarketTrades(store.pool);
    const tapeFeed = new TapeFeed({ hub: outbox, priceOf: (commodity, ticks) => exchange.market(commodity)?.grid.fromTicks(ticks) ?? ticks });
    const createSimulator = config.simulator.enabled
      ? () => new MarketSimulator({ exchange, random: mulberry32((config.simulator.seed ?? now()) % 2_147_483_647) })
      : null;
    const trading = new TradingService({
      exchange,
      createSimulator,
      store: writer,
      publisher,
      fence: () => ({ term }),
      logger: logger.child({ part: 'trading' }),
      now,
      marketUpdatesPerSecond: config.simulator.updatesPerSecond,
      sessionCloseMinuteUtc: config.trading.sessionCloseMinuteUtc,
      tape: {
        store: tape,
        publish: (entries) => {
          tapeFeed.publish(entries);
          outbox.flushAll();
        },
      },
      // a refused write (fenced: another node leads) or a lost connection: stop leading
      onFatal: (err) => {
        logger.error({ err }, 'engine write failed: stepping down');
        this.queue(() => this.stepDown('write failed'));
        leadership.resign('a write failed');
      },
    });
    try {
      await publisher.start();
      await tape.reloadSeqs();
      await this.republish(outbox, started - REPUBLISH_WINDOW_MS);
      await trading.start();
    } catch (err) {
      logger.error({ err, term }, 'could not take up leadership');
      trading.close();
      outbox.close();
      this.rising = null;
      leadership.resign('restore failed');
      return;
    }
    this.rising = null;
    if (!leadership.isLeader || leadership.term !== term) {
      trading.close();
      outbox.close();
      return;
    }
    // the books, for the gateways' subscribe-book, as often as the market updates
    const books = new BookPublisher({
      redis: this.deps.redis,
      commodities: [...commodities],
      book: (commodity, depth) => exchange.book(commodity, depth),
      intervalMs: Math.max(1, Math.floor(1000 / config.simulator.updatesPerSecond)),
      logger: logger.child({ part: 'books' }),
    });
    books.start();
    this.reign = { term, exchange, trading, publisher, outbox, books };
    this.deps.commands.serve((command, meta) => this.handle(command, meta));
    this.serving = true;
    logger.info({ term, nodeId: cluster.nodeId, tookMs: now() - started }, 'engine leading');
  }

  private async stepDown(reason: string): Promise<void> {
    const reign = this.reign;
    this.serving = false;
    this.reign = null;
    await this.deps.commands.stop();
    if (!reign) return;
    reign.books.stop();
    reign.trading.close();
    // what is committed is published, if Redis lets us, before the next leader republishes it anyway
    await reign.outbox.idle(1000);
    reign.outbox.close();
    this.deps.logger.warn({ term: reign.term, reason }, 'engine stepped down');
  }

  /** Publishes the recent events again: duplicates are dropped by the history and the gateways. */
  private async republish(outbox: BusOutbox, sinceMs: number): Promise<void> {
    const events: LoggedEvent[] = await this.deps.store.eventsSince(sinceMs, 100_000);
    if (events.length === 0) return;
    const bus: BusEvent[] = events.map((e) => ({ room: roomOfStream(e.stream), stream: e.stream, seq: e.seq, event: e.event, envelope: e.envelope }));
    await this.deps.bus.publish(bus).catch((err: unknown) => this.deps.logger.warn({ err, events: bus.length }, 'republish failed (gateways read the store)'));
    void outbox;
    this.deps.logger.info({ events: bus.length }, 'recent events republished');
  }

  private async handle(command: EngineCommand, meta: CommandMeta): Promise<unknown> {
    const reign = this.reign;
    if (!reign || !this.serving) throw new EngineCommandError('not the leader', 'ENGINE_UNAVAILABLE');
    // the gateway has answered 503 by now: the order must not execute
    if (this.deps.now() > meta.deadline) throw new EngineCommandError('command expired', 'ENGINE_UNAVAILABLE');
    switch (command.type) {
      case 'submit-order': {
        const body = orderRequestSchema.safeParse(command.body);
        if (!body.success) {
          const { field, message } = describeZodError(body.error);
          return { ok: false, error: { code: 'INVALID_ORDER', message, ...(field ? { field } : {}) } } satisfies SubmitOutcome;
        }
        return reign.trading.submit(command.userId, body.data);
      }
      case 'cancel-order':
        return reign.trading.cancel(command.userId, command.orderId);
      case 'amend-order': {
        const body = orderAmendSchema.safeParse(command.body);
        if (!body.success) {
          const { field, message } = describeZodError(body.error);
          return { ok: false, error: { code: 'INVALID_ORDER', message, ...(field ? { field } : {}) } } satisfies SubmitOutcome;
        }
        return reign.trading.amend(command.userId, command.orderId, body.data);
      }
      case 'cancel-all':
        return reign.trading.cancelAll(command.userId, command.commodity);
      case 'flatten':
        return reign.trading.flatten(command.userId, command.commodity, command.clientOrderId);
      case 'positions':
        return reign.exchange.positions(command.userId);
      case 'book':
        return reign.exchange.book(command.commodity, command.depth);
    }
  }
}

/** Concurrency the leader serves commands with (exported for the wiring). */
export { COMMAND_CONCURRENCY };
