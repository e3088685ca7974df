/**
 * An engine node of the cluster. Every engine campaigns for leadership; the leader builds the
 * trading core (core/trading-core.ts, as the single process does) on its fenced connection,
 * restores it from PostgreSQL (books with their priority, positions, counters), republishes the
 * events of the last moments (the old leader may have committed some it never published), starts
 * the simulated market and serves the gateways' commands. Every write carries its term: when
 * another node has taken over, the write is refused and this node steps down to standby.
 */
import type { Logger } from 'pino';
import { DATA_EVENTS, dataPayloadSchemas, describeStream, orderAmendSchema, orderRequestSchema, describeZodError, roomOfStream, streams, type DataEventName } from '@qx/protocol';
import type { ClusterConfig, Config } from '../../../config.js';
import type { Metrics } from '../../../metrics.js';
import type { SubmitOutcome } from '../../../core/outcomes.js';
import { createTradingCore, type TradingCore } from '../../../core/trading-core.js';
import type { BookState } from '../../../core/book-ticker.js';
import type { PublishItem } from '../../../core/event-committer.js';
import type { BusEvent } from '../../backplane.js';
import type { LoggedEvent } from '../../../store/store.js';
import { BusOutbox } from '../shared/bus-outbox.js';
import type { RedisBus } from '../shared/redis-bus.js';
import { EngineCommandError, type CommandMeta, type CommandQueue, type EngineCommand } from '../shared/command-queue.js';
import type { EngineLeadership } from './leadership.js';
import type { PgStore } from '../../../store/postgres/pg-store.js';
import type { RedisConnection } from '../shared/redis-connection.js';
import { aliveNodes } from '../shared/node-liveness.js';

/** Events committed this long before an election are published again by the new leader. */
const REPUBLISH_WINDOW_MS = 30_000;

export interface EngineNodeDeps {
  config: Config;
  cluster: ClusterConfig;
  store: PgStore;
  leadership: EngineLeadership;
  bus: RedisBus;
  redis: RedisConnection;
  commands: CommandQueue;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

interface Reign {
  term: number;
  core: TradingCore;
  outbox: BusOutbox;
  /** wakes the outbox when Redis is back */
  onReconnected: () => void;
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
  get exchange(): TradingCore['exchange'] | null {
    return this.reign?.core.exchange ?? null;
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
    const outbox = new BusOutbox({ publish: (events) => bus.publish(events), logger: logger.child({ part: 'outbox' }) });
    const onReconnected = () => outbox.retryNow();
    bus.on('reconnected', onReconnected);
    const core = createTradingCore({
      config,
      store: leadership.writer(store),
      bus: outbox,
      metrics,
      logger,
      now,
      fence: () => ({ term }),
      // the numbers the old leader published, as the bus last saw them: market data and books go on after them
      published: {
        marketSeqs: async () => {
          const seqs = new Map<string, number>();
          for (const [stream, m] of await bus.marketLatest(config.commodities.map((c) => streams.market(c.symbol)))) {
            const info = describeStream(stream);
            if (info?.kind === 'market') seqs.set(info.commodity, m.seq);
          }
          return seqs;
        },
        books: async () => [...(await bus.bookLatest(config.commodities.map((c) => streams.book(c.symbol)))).values()].flatMap((text) => parseBook(text)),
      },
      tapeSeqs: () => store.tape.lastSeqs(),
      // a gateway is alive while its presence heartbeat is: its connections' cancel-on-disconnect waits for it
      liveNodes: (nodes) => aliveNodes(this.deps.redis, nodes),
      // a refused write (fenced: another node leads) or a lost connection: stop leading
      onFatal: (err) => {
        logger.error({ err }, 'engine write failed: stepping down');
        this.queue(() => this.stepDown('write failed'));
        leadership.resign('a write failed');
      },
    });
    try {
      await this.republish(started - REPUBLISH_WINDOW_MS);
      await core.start();
    } catch (err) {
      logger.error({ err, term }, 'could not take up leadership');
      await core.close().catch(() => undefined);
      outbox.close();
      bus.off('reconnected', onReconnected);
      this.rising = null;
      leadership.resign('restore failed');
      return;
    }
    this.rising = null;
    if (!leadership.isLeader || leadership.term !== term) {
      await core.close().catch(() => undefined);
      outbox.close();
      bus.off('reconnected', onReconnected);
      return;
    }
    this.reign = { term, core, outbox, onReconnected };
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
    await reign.core.close();
    // what is committed is published, if Redis lets us, before the next leader republishes it anyway
    await reign.outbox.idle(1000);
    reign.outbox.close();
    this.deps.bus.off('reconnected', reign.onReconnected);
    this.deps.logger.warn({ term: reign.term, reason }, 'engine stepped down');
  }

  /** Publishes the recent events again: duplicates are dropped by the history and the gateways. */
  private async republish(sinceMs: number): Promise<void> {
    const events: LoggedEvent[] = await this.deps.store.eventsSince(sinceMs, 100_000);
    if (events.length === 0) return;
    const bus: BusEvent[] = events.map((e) => ({ room: roomOfStream(e.stream), stream: e.stream, seq: e.seq, event: e.event, envelope: e.envelope }));
    await this.deps.bus.publish(bus).catch((err: unknown) => this.deps.logger.warn({ err, events: bus.length }, 'republish failed (gateways read the store)'));
    this.deps.logger.info({ events: bus.length }, 'recent events republished');
  }

  private async handle(command: EngineCommand, meta: CommandMeta): Promise<unknown> {
    const reign = this.reign;
    if (!reign || !this.serving) throw new EngineCommandError('not the leader', 'ENGINE_UNAVAILABLE');
    // the gateway has answered 503 by now: the order must not execute
    if (this.deps.now() > meta.deadline) throw new EngineCommandError('command expired', 'ENGINE_UNAVAILABLE');
    const { trading, exchange, committer } = reign.core;
    switch (command.type) {
      case 'submit-order': {
        const body = orderRequestSchema.safeParse(command.body);
        if (!body.success) return invalidOrder(body.error);
        return trading.submit(command.userId, body.data, command.times, command.origin);
      }
      case 'cancel-order':
        return trading.cancel(command.userId, command.orderId, command.times);
      case 'amend-order': {
        const body = orderAmendSchema.safeParse(command.body);
        if (!body.success) return invalidOrder(body.error);
        return trading.amend(command.userId, command.orderId, body.data, command.times);
      }
      case 'cancel-all':
        return trading.cancelAll(command.userId, command.commodity);
      case 'flatten':
        return trading.flatten(command.userId, command.commodity, command.clientOrderId);
      case 'positions':
        return exchange.positions(command.userId);
      case 'book':
        return exchange.book(command.commodity, command.depth);
      case 'cancel-on-disconnect':
        return trading.setCancelOnDisconnect(command.userId, command.connection, command.node, command.scope);
      case 'connection-lost':
        await trading.connectionLost(command.connection);
        return true;
      case 'connection-restored':
        await trading.connectionRestored(command.connection, command.node);
        return true;
      case 'cancel-all-after':
        return trading.cancelAllAfter(command.userId, command.timeoutMs);
      case 'trading-control':
        return trading.setTradingEnabled(command.userId, command.enabled, command.reason, command.by);
      case 'halt':
        return trading.halt(command.commodity, command.reason, command.durationMs, command.by);
      case 'reopen':
        return trading.reopen(command.commodity, command.by);
      case 'publish': {
        const items = publishItems(command.items);
        if (!items) throw new EngineCommandError('malformed publish items', 'INVALID_PAYLOAD');
        return committer.commit(items);
      }
    }
  }
}

function invalidOrder(error: Parameters<typeof describeZodError>[0]): SubmitOutcome {
  const { field, message } = describeZodError(error);
  return { ok: false, error: { code: 'INVALID_ORDER', message, ...(field ? { field } : {}) } };
}

/** The publish API's events as a gateway forwarded them (checked there; checked again here, at the engine's door). */
function publishItems(raw: readonly unknown[]): PublishItem[] | null {
  const items: PublishItem[] = [];
  for (const r of raw) {
    const item = r as { event?: unknown; payload?: unknown; userId?: unknown };
    if (!(DATA_EVENTS as readonly unknown[]).includes(item.event)) return null;
    const event = item.event as DataEventName;
    const payload = dataPayloadSchemas[event].safeParse(item.payload);
    if (!payload.success || (item.userId !== undefined && typeof item.userId !== 'string')) return null;
    items.push({ event, payload: payload.data, userId: item.userId });
  }
  return items;
}

function parseBook(text: string): BookState[] {
  try {
    const state = JSON.parse(text) as BookState;
    return typeof state.commodity === 'string' && Number.isSafeInteger(state.seq) ? [state] : [];
  } catch {
    return [];
  }
}
