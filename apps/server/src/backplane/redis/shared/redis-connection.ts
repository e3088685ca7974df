/**
 * Redis connections for the cluster parts (node-redis 5), on one Redis or a Redis Cluster: the one
 * place that chooses which (from the URL, see redis-url.ts). Every part takes a `RedisSource` — a
 * URL (`redis://` or `redis+cluster://`), a node-redis client or cluster the caller made, or a
 * `RedisConnection` — and opens the connections it needs of its own: pub/sub and blocking
 * commands (BLPOP) each need a connection nothing else writes on, so those are always duplicates.
 * node-redis reconnects by itself and crashes the process on an 'error' event nobody listens to,
 * so every client made here has a listener that logs (once per outage).
 */
import { createClient, createCluster } from 'redis';
import type { Logger } from 'pino';
import { parseRedisUrl } from './redis-url.js';
import { reconnectDelay, RedisConnection, watchErrors, type RedisClient, type RedisCluster, type RedisSource } from './connection.js';
import { SingleConnection } from './single-connection.js';
import { ClusterConnection } from './cluster-connection.js';

export * from './connection.js';
export { SingleConnection, ClusterConnection };

/**
 * Opens `source` for a part named `name`: a URL becomes a new connection; a caller's client,
 * cluster or connection is used as it is (connected first if it is not); `duplicate` makes a
 * connection of its own either way.
 */
export async function openRedis(source: RedisSource, logger: Logger, name: string, opts: { duplicate?: boolean } = {}): Promise<RedisConnection> {
  const log = logger.child({ redis: name });
  let conn: RedisConnection;
  if (typeof source === 'string') conn = connectionForUrl(source, name, log);
  else if (source instanceof RedisConnection) conn = opts.duplicate ? source.duplicate(name) : source.acquire();
  else {
    const wrapped = isCluster(source) ? new ClusterConnection(source, false, log) : new SingleConnection(source, false, log);
    conn = opts.duplicate ? wrapped.duplicate(name) : wrapped;
  }
  await conn.open();
  return conn;
}

function connectionForUrl(url: string, name: string, logger: Logger): RedisConnection {
  const target = parseRedisUrl(url);
  if ('error' in target) throw new Error(`bad Redis URL: ${target.error}`);
  const socket = { reconnectStrategy: reconnectDelay, connectTimeout: 5000 };
  if (target.mode === 'single') {
    const client = createClient({ url, name, socket }) as RedisClient;
    watchErrors(client, logger);
    return new SingleConnection(client, true, logger);
  }
  const cluster = createCluster({
    rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
    defaults: {
      name,
      // a command for a node that is down fails at once (queued, it would wait for the failover)
      disableOfflineQueue: true,
      socket: { ...socket, ...(target.tls ? { tls: true as const } : {}) },
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
    },
  }) as unknown as RedisCluster;
  return new ClusterConnection(cluster, true, logger);
}

function isCluster(source: RedisClient | RedisCluster): source is RedisCluster {
  return '_slots' in source;
}
