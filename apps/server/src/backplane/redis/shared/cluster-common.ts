/**
 * What every cluster node opens first: the PostgreSQL store (migrated), one Redis connection that
 * the bus parts share (pub/sub and blocking parts duplicate it; one Redis or a Redis Cluster, as
 * REDIS_URL says), the bus and the command queue.
 * Everything opened is closed by the returned closers, in reverse order.
 */
import type { Logger } from 'pino';
import type { ClusterConfig } from '../../../config.js';
import { PgStore } from '../../../store/postgres/pg-store.js';
import { RedisBus } from './redis-bus.js';
import { CommandQueue } from './command-queue.js';
import { openRedis, type RedisConnection } from './redis-connection.js';

export interface ClusterCommon {
  cluster: ClusterConfig;
  store: PgStore;
  redis: RedisConnection;
  bus: RedisBus;
  commands: CommandQueue;
}

export type Closer = () => Promise<unknown>;

export async function openCommon(cluster: ClusterConfig, logger: Logger, role: string): Promise<{ common: ClusterCommon; closers: Closer[] }> {
  const closers: Closer[] = [];
  const store = await PgStore.open({ connectionString: cluster.databaseUrl, applicationName: `quantenergx-${role}-${cluster.nodeId}` });
  closers.push(() => store.close());
  let redis: RedisConnection;
  try {
    redis = await openRedis(cluster.redisUrl, logger, `qx-${role}-${cluster.nodeId}`);
    await requireShardedPubSub(redis);
  } catch (err) {
    await store.close();
    throw err;
  }
  closers.push(() => redis.release());
  const bus = await RedisBus.open({ redis, logger: logger.child({ part: 'bus' }), historyMaxLen: cluster.historyMaxLen, historyTtlSeconds: cluster.historyTtlSeconds });
  closers.push(() => bus.close());
  const commands = await CommandQueue.open({ redis, logger: logger.child({ part: 'commands' }), nodeId: cluster.nodeId, concurrency: COMMAND_CONCURRENCY });
  closers.push(() => commands.close());
  return { common: { cluster, store, redis, bus, commands }, closers };
}

/** The bus publishes with SPUBLISH (sharded pub/sub, Redis 7): say so at start rather than fail on the first event. */
async function requireShardedPubSub(redis: RedisConnection): Promise<void> {
  try {
    await redis.commands.sPublish('qx:{probe}:ch', '');
  } catch (err) {
    await redis.release();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(/unknown command/i.test(message) ? 'Redis 7 or later is needed (SPUBLISH, sharded pub/sub)' : message, { cause: err });
  }
}

/** Commands the engine leader takes at once; they run in arrival order and commit in that order (group commit). */
export const COMMAND_CONCURRENCY = 64;

export function closeAll(closers: Closer[]): () => Promise<void> {
  return async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
}

