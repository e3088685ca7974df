/**
 * Which nodes of the cluster are alive: each gateway heartbeats a key of its own in Redis (see
 * gateway/presence.ts), which expires a lease after its last beat. The engine reads it to fire the
 * cancel-on-disconnect of the connections a dead gateway held.
 */
import type { RedisClient, RedisConnection } from './redis-connection.js';

export const PRESENCE_PREFIX = 'qx:presence:';
/** the set of nodes that have written presence */
export const presenceNodes = `${PRESENCE_PREFIX}nodes`;
/** a node's heartbeat key */
export const aliveKey = (node: string): string => `${PRESENCE_PREFIX}alive:${node}`;

/** How long a node that stopped heartbeating still counts as alive (its sockets too), by default. */
export const PRESENCE_LEASE_MS = 5000;

/**
 * Which of `nodes` are alive: their heartbeat key exists. Null when that cannot be told: Redis (the
 * shard of a heartbeat key, on a Redis Cluster) is away, or it restarted less than two leases ago
 * (its keys are gone until every node has beaten again), so nobody is taken for dead because Redis
 * forgot them.
 */
export async function aliveNodes(redis: RedisConnection, nodes: readonly string[], leaseMs = PRESENCE_LEASE_MS): Promise<Set<string> | null> {
  try {
    const clients = new Set<RedisClient>(await Promise.all(nodes.map((n) => redis.clientFor(aliveKey(n)))));
    for (const client of clients) {
      const uptime = Number(/uptime_in_seconds:(\d+)/.exec(await client.info('server'))?.[1] ?? 0);
      if (uptime * 1000 < leaseMs * 2) return null;
    }
    const exists = await Promise.all(nodes.map((n) => redis.commands.exists(aliveKey(n))));
    return new Set(nodes.filter((_, i) => exists[i] === 1));
  } catch {
    return null;
  }
}
