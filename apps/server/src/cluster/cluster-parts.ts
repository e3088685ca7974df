/**
 * Opens what a cluster node needs before it is built: the PostgreSQL store (migrated), one Redis
 * connection that the bus parts share (pub/sub and blocking parts duplicate it), and the parts of
 * the node's role. Everything opened here is closed by `close()`, in reverse order.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config.js';
import { PgStore } from '../store/pg-store.js';
import { RedisBus } from './redis-bus.js';
import { RoomSubscriptions } from './room-subscriptions.js';
import { StreamSequencer, type SequencedEvent } from './stream-sequencer.js';
import { RedisSessionStore } from './session-store.js';
import { ClusterPresence } from './presence.js';
import { ControlChannel, type ControlMessage } from './control-channel.js';
import { CommandQueue } from './command-queue.js';
import { EngineLeadership } from './leadership.js';
import { BusOutbox } from './bus-outbox.js';
import { BookMirror } from './book-mirror.js';
import { openRedis, type OpenedRedis, type Redis } from './redis-connection.js';

export interface ClusterCommon {
  cluster: ClusterConfig;
  store: PgStore;
  redis: Redis;
  bus: RedisBus;
  commands: CommandQueue;
  /** the demo secret shared by every node (demo mode only) */
  demoSecret: string | null;
  /** the random PUBLISH_API_KEY shared by every gateway (when none is configured) */
  publishApiKey: string | null;
  close(): Promise<void>;
}

export interface GatewayParts extends ClusterCommon {
  subscriptions: RoomSubscriptions;
  sequencer: StreamSequencer;
  sessions: RedisSessionStore;
  presence: ClusterPresence;
  control: ControlChannel;
  outbox: BusOutbox;
  /** the engine leader's order books, as last sent (subscribe-book) */
  books: BookMirror;
  /** set by the gateway once built: where sequenced events and control messages go */
  bind(handlers: { deliver: (e: SequencedEvent) => void; control: (m: ControlMessage, from: string) => void }): void;
}

export interface EngineParts extends ClusterCommon {
  leadership: EngineLeadership;
}

const DEMO_SECRET_KEY = 'qx:demo:secret';
const PUBLISH_KEY_KEY = 'qx:demo:publish-key';

async function openCommon(cluster: ClusterConfig, logger: Logger, demo: boolean, role: string, randomPublishKey = false): Promise<{ common: Omit<ClusterCommon, 'close'>; closers: (() => Promise<unknown>)[] }> {
  const closers: (() => Promise<unknown>)[] = [];
  const store = await PgStore.open({ connectionString: cluster.databaseUrl, applicationName: `quantenergx-${role}-${cluster.nodeId}` });
  closers.push(() => store.close());
  let base: OpenedRedis;
  try {
    base = await openRedis(cluster.redisUrl, logger, `qx-${role}-${cluster.nodeId}`);
  } catch (err) {
    await store.close();
    throw err;
  }
  closers.push(() => base.release());
  const redis = base.client;
  let demoSecret: string | null = null;
  if (demo) {
    // one random demo secret for the whole cluster: a token from any gateway works on every other
    await redis.set(DEMO_SECRET_KEY, randomBytes(32).toString('hex'), { NX: true });
    demoSecret = await redis.get(DEMO_SECRET_KEY);
  }
  let publishApiKey: string | null = null;
  if (randomPublishKey) {
    // no PUBLISH_API_KEY: one random key for every gateway, so a publish works through any of them
    await redis.set(PUBLISH_KEY_KEY, randomBytes(24).toString('hex'), { NX: true });
    publishApiKey = await redis.get(PUBLISH_KEY_KEY);
  }
  const bus = await RedisBus.open({ redis, logger: logger.child({ part: 'bus' }), historyMaxLen: cluster.historyMaxLen, historyTtlSeconds: cluster.historyTtlSeconds });
  closers.push(() => bus.close());
  const commands = await CommandQueue.open({ redis, logger: logger.child({ part: 'commands' }), nodeId: cluster.nodeId, concurrency: 64 });
  closers.push(() => commands.close());
  return { common: { cluster, store, redis, bus, commands, demoSecret, publishApiKey }, closers };
}

function closeAll(closers: (() => Promise<unknown>)[]): () => Promise<void> {
  return async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
}

/** `randomPublishKey`: no PUBLISH_API_KEY is configured (the gateways share a random one). */
export async function openGatewayParts(cluster: ClusterConfig, logger: Logger, demo: boolean, randomPublishKey = false): Promise<GatewayParts> {
  const { common, closers } = await openCommon(cluster, logger, demo, 'gateway', randomPublishKey);
  const close = closeAll(closers);
  try {
    let deliver: (e: SequencedEvent) => void = () => undefined;
    let control: (m: ControlMessage, from: string) => void = () => undefined;
    const bus = common.bus;
    const sequencer = new StreamSequencer({
      logger: logger.child({ part: 'sequencer' }),
      history: (stream, afterSeq, limit) => bus.history(stream, afterSeq, limit),
      fallback: (stream, afterSeq, limit) => common.store.readEvents(stream, afterSeq, limit),
      lastSeq: (stream) => common.store.lastSeq(stream),
      deliver: (e) => deliver(e),
    });
    closers.push(() => Promise.resolve(sequencer.close()));
    const subscriptions = await RoomSubscriptions.open({
      redis: common.redis,
      logger: logger.child({ part: 'subscriptions' }),
      onMessage: (msg) => sequencer.onMessage(msg),
      onResubscribed: () => sequencer.recheck(),
    });
    closers.push(() => subscriptions.close());
    // Redis lost its data: the history is gone, and so may be messages published meanwhile
    bus.on('epoch-changed', () => sequencer.recheck());
    const sessions = await RedisSessionStore.open({ redis: common.redis, logger: logger.child({ part: 'sessions' }) });
    closers.push(() => sessions.close());
    const presence = await ClusterPresence.open({ redis: common.redis, logger: logger.child({ part: 'presence' }), nodeId: cluster.nodeId });
    closers.push(() => presence.close());
    const controlChannel = await ControlChannel.open({
      redis: common.redis,
      logger: logger.child({ part: 'control' }),
      nodeId: cluster.nodeId,
      onMessage: (m, from) => control(m, from),
    });
    closers.push(() => controlChannel.close());
    const books = await BookMirror.open(common.redis, logger.child({ part: 'books' }));
    closers.push(() => books.close());
    const outbox = new BusOutbox({ publish: (events) => bus.publish(events), logger: logger.child({ part: 'outbox' }) });
    closers.push(async () => {
      await outbox.idle(2000);
      outbox.close();
    });
    return {
      ...common,
      subscriptions,
      sequencer,
      sessions,
      presence,
      control: controlChannel,
      outbox,
      books,
      bind(handlers) {
        deliver = handlers.deliver;
        control = handlers.control;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function openEngineParts(cluster: ClusterConfig, logger: Logger): Promise<EngineParts> {
  const { common, closers } = await openCommon(cluster, logger, false, 'engine');
  const leadership = new EngineLeadership({
    connectionString: cluster.databaseUrl,
    nodeId: cluster.nodeId,
    leaseMs: cluster.engineLeaseMs,
    logger: logger.child({ part: 'leadership' }),
  });
  closers.push(() => leadership.stop());
  return { ...common, leadership, close: closeAll(closers) };
}
