/**
 * A gateway's backplane in a cluster: PostgreSQL the system of record (read here; the engine leader
 * writes), Redis the bus (stream channels, the recent history, the latest market data and books),
 * recovery sessions, presence and control messages in Redis, and the trading core on the engine
 * leader, reached through the command queue.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { PriceGrid } from '@qx/engine';
import { roomOfStream, streams } from '@qx/protocol';
import type { Config } from '../../../config.js';
import type { Metrics } from '../../../metrics.js';
import type { PgStore } from '../../../store/postgres/pg-store.js';
import type { Backplane, BusEvent, GatewayPort } from '../../backplane.js';
import { EventCommitter, type EventSink } from '../../../core/event-committer.js';
import { busStreamOfRoom, type BusMessage } from '../shared/bus-message.js';
import { BusOutbox } from '../shared/bus-outbox.js';
import { closeAll, openCommon } from '../shared/cluster-common.js';
import type { RedisConnection } from '../shared/redis-connection.js';
import { RoomSubscriptions } from './room-subscriptions.js';
import { RedisSessionStore } from './session-store.js';
import { ClusterPresence } from './presence.js';
import { ControlChannel } from './control-channel.js';
import { RedisStreamFeed, readHistoryFirst } from './redis-feed.js';
import { RemoteTrading } from './remote-trading.js';
import { clusterRecoveryAdapter, type SessionTracker } from './recovery-adapter.js';

/** What /health says of an engine running in this process too (ROLE=all). */
export interface EngineStatus {
  readonly leader: boolean;
  readonly term: number | null;
}

const DEMO_SECRET_KEY = 'qx:demo:secret';
const PUBLISH_KEY_KEY = 'qx:demo:publish-key';

/** A random value every node of the cluster shares (set once, by whichever node comes first). */
async function shared(redis: RedisConnection, key: string, bytes: number): Promise<string | null> {
  await redis.commands.set(key, randomBytes(bytes).toString('hex'), { NX: true });
  return redis.commands.get(key);
}

export interface RedisBackplaneOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** the engine node in this process too (ROLE=all), for /health */
  engine?: EngineStatus | undefined;
}

/** A gateway's backplane in a cluster: PostgreSQL the system of record, Redis the bus. */
export async function openRedisBackplane(opts: RedisBackplaneOptions): Promise<Backplane> {
  const { config, logger, metrics } = opts;
  const cluster = config.cluster!;
  const { common, closers } = await openCommon(cluster, logger, 'gateway');
  const close = closeAll(closers);
  try {
    const { store, redis, bus, commands } = common;
    // one random demo secret and publish key for the whole cluster: what one gateway issues, every other accepts
    const demoSecret = config.auth.demo ? await shared(redis, DEMO_SECRET_KEY, 32) : null;
    const publishApiKey = config.publishApiKey ? null : await shared(redis, PUBLISH_KEY_KEY, 24);
    const grids = new Map(config.commodities.map((c) => [c.symbol, new PriceGrid(c.tickSize)]));
    const priceOf = (commodity: string, ticks: number) => grids.get(commodity)?.fromTicks(ticks) ?? ticks;
    let feed: RedisStreamFeed | null = null;
    const subscriptions = await RoomSubscriptions.open({
      redis,
      logger: logger.child({ part: 'subscriptions' }),
      onMessage: (msg) => feed?.sequencer.onMessage(msg),
      // the rooms whose messages may have been missed (a cluster: those of the shards that were away)
      onResubscribed: (rooms) => {
        if (rooms === undefined) feed?.sequencer.recheck();
        else for (const room of rooms) feed?.sequencer.recheck(busStreamOfRoom(room));
      },
    });
    closers.push(() => subscriptions.close());
    feed = new RedisStreamFeed({ bus, subscriptions, store, priceOf, commodities: config.commodities.map((c) => c.symbol), logger });
    closers.push(() => Promise.resolve(feed?.close()));
    // Redis lost a stream's keys: its history is gone, and so may be messages published meanwhile
    bus.on('epoch-changed', (_epoch, _previous, stream) => feed?.sequencer.recheck(stream));
    const sessions = await RedisSessionStore.open({ redis, logger: logger.child({ part: 'sessions' }) });
    closers.push(() => sessions.close());
    const presence = await ClusterPresence.open({ redis, logger: logger.child({ part: 'presence' }), nodeId: cluster.nodeId });
    closers.push(() => presence.close());
    let port: GatewayPort | null = null;
    const control = await ControlChannel.open({ redis, logger: logger.child({ part: 'control' }), nodeId: cluster.nodeId, onMessage: (m) => port?.control(m) });
    closers.push(() => control.close());
    // the publish API's private events and alerts: committed here, published on the bus
    const outbox = new BusOutbox({ publish: (events) => bus.publish(events), logger: logger.child({ part: 'outbox' }) });
    bus.on('reconnected', () => outbox.retryNow());
    closers.push(async () => {
      await outbox.idle(2000);
      outbox.close();
    });
    const committer = new EventCommitter({ store, bus: outbox, metrics, now: Date.now, logger: logger.child({ part: 'committer' }), priceOf });
    const trading = new RemoteTrading(commands, cluster.engineTimeoutMs, logger.child({ part: 'trading' }));
    // market data is numbered by the engine leader: a publish that carries any goes there, whole
    const sink: EventSink = {
      commit: (items, options) => (items.some((i) => i.event === 'market-update') ? trading.publish(items) : committer.commit(items, options)),
    };
    const history = { bus, store, logger: logger.child({ part: 'history' }) };
    let closed = false;
    return {
      name: 'redis',
      store: { ...storeView(store), readEvents: (stream, afterSeq, limit) => readHistoryFirst(history, stream, afterSeq, limit) },
      tape: store.tape,
      sink,
      trading,
      feed,
      control,
      presence,
      sessions: {
        adapter: (canRecover) => clusterRecoveryAdapter({ sessions, windowMs: config.recoveryWindowMs, canRecover }),
        touch: (socket) => (socket.nsp.adapter as unknown as SessionTracker).touch(socket),
      },
      demoSecret,
      publishApiKey,
      local: null,
      describe: () => ({ role: config.role, nodeId: cluster.nodeId, ...(opts.engine ? { leader: opts.engine.leader, term: opts.engine.term } : {}) }),
      ready: () => true,
      async start(gateway) {
        port = gateway;
        // the latest price of each commodity: what the bus holds, else what the store kept —
        const latest = new Map<string, BusEvent>();
        for (const snap of await store.loadMarketSnapshots()) {
          const stream = streams.market(snap.commodity);
          latest.set(stream, { room: roomOfStream(stream), stream, seq: snap.seq, event: 'market-update', envelope: snap.envelope });
        }
        // and its market status, as the engine last published them
        const stateStreams = config.commodities.flatMap((c) => [streams.market(c.symbol), streams.status(c.symbol)]);
        const onBus = await bus.marketLatest(stateStreams).catch(() => new Map<string, BusMessage>());
        for (const [stream, m] of onBus) {
          if ((latest.get(stream)?.seq ?? 0) < m.seq) latest.set(stream, { room: m.room, stream, seq: m.seq, event: m.event, envelope: m.envelope });
        }
        gateway.deliver([...latest.values()]);
        await feed.start(gateway, new Map([...latest].map(([stream, e]) => [stream, e.seq])));
      },
      stopping: () => undefined,
      async close() {
        if (closed) return;
        closed = true;
        port = null;
        await committer.drain();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The store's own methods, bound (a view the backplane can override one of). */
function storeView(store: PgStore): Backplane['store'] {
  return {
    kind: store.kind,
    tape: store.tape,
    commit: (write, fence) => store.commit(write, fence),
    saveMarketSnapshots: (s) => store.saveMarketSnapshots(s),
    readEvents: (s, a, l) => store.readEvents(s, a, l),
    lastSeq: (s) => store.lastSeq(s),
    pruneEvents: (c) => store.pruneEvents(c),
    loadForRestore: () => store.loadForRestore(),
    loadMarketSnapshots: () => store.loadMarketSnapshots(),
    order: (id) => store.order(id),
    orders: (q) => store.orders(q),
    trades: (q) => store.trades(q),
    close: () => store.close(),
  };
}

