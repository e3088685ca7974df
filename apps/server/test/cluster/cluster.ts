/**
 * A real cluster for a test: a Redis of its own (or, with `redisCluster`, a Redis Cluster of 3
 * masters and 3 replicas), a fresh PostgreSQL database, engines and gateways as child processes
 * (apps/server/src/main.ts, as `npm start` runs it), optionally nginx in front. Skips (with a
 * message) when Redis, PostgreSQL or nginx is missing, unless CI=true. Everything it starts is
 * stopped, and the database dropped, when the test ends.
 */
import type { TestContext } from 'node:test';
import { io as connect, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { SecretTokenVerifier } from '../../src/auth/token-verifier.js';
import { testDatabaseOrSkip, type TestDatabase } from '../pg-test-db.js';
import { redisServerOrSkip, type RedisTestServer } from '../redis-test-server.js';
import { redisClusterOrSkip, type RedisClusterTestServer } from '../redis-cluster-test-server.js';
import { spawnServer, type SpawnedServer } from '../spawn.js';
import { nginxAvailable, startNginx, type Nginx } from './nginx.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export const CLUSTER_SECRET = 'cluster-test-secret-0123456789-abcdefghij';
export const CLUSTER_PUBLISH_KEY = 'cluster-publish-key-0123456789';

export interface ClusterNode extends SpawnedServer {
  name: string;
  role: 'gateway' | 'engine';
  env: Record<string, string>;
}

export interface Cluster {
  /** the Redis of the cluster (throws when it runs on a Redis Cluster: see redisCluster) */
  readonly redis: RedisTestServer;
  /** the Redis Cluster it runs on (with `redisCluster: true`), else null */
  redisCluster: RedisClusterTestServer | null;
  db: TestDatabase;
  gateways: ClusterNode[];
  engines: ClusterNode[];
  nginx: Nginx | null;
  /** the proxy every node reaches PostgreSQL through (with `pgProxy: true`) */
  pgProxy: TcpProxy | null;
  env: Record<string, string>;
  sign(userId: string, opts?: { roles?: string[]; ttlSeconds?: number }): Promise<string>;
  startGateway(name?: string, env?: Record<string, string>): Promise<ClusterNode>;
  startEngine(name?: string, env?: Record<string, string>): Promise<ClusterNode>;
  /** the engine whose /health says leader (waits up to `timeoutMs`) */
  leader(timeoutMs?: number): Promise<ClusterNode>;
  client(url: string, opts?: Partial<ManagerOptions & SocketOptions>): Socket;
  http(url: string, path: string, init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any }>;
}

export interface ClusterOptions {
  gateways?: number;
  engines?: number;
  nginx?: boolean;
  /** nodes reach PostgreSQL through a proxy the test can cut */
  pgProxy?: boolean;
  /** the bus on a Redis Cluster of the test's own (REDIS_URL=redis+cluster://…) rather than one Redis */
  redisCluster?: boolean;
  env?: Record<string, string>;
}

const signer = new SecretTokenVerifier(CLUSTER_SECRET);

export async function startCluster(t: TestContext, opts: ClusterOptions = {}): Promise<Cluster | null> {
  if (opts.nginx && !nginxAvailable()) {
    if (process.env['CI'] === 'true') throw new Error('nginx is required in CI (apt-get install nginx)');
    t.skip('nginx not installed');
    return null;
  }
  const db = await testDatabaseOrSkip(t);
  if (!db) return null;
  const redis = opts.redisCluster ? null : await redisServerOrSkip(t);
  const redisCluster = opts.redisCluster ? await redisClusterOrSkip(t) : null;
  if (!redis && !redisCluster) return null;
  let pgProxy: TcpProxy | null = null;
  let databaseUrl = db.url;
  if (opts.pgProxy) {
    const u = new URL(db.url);
    pgProxy = await startTcpProxy(Number(u.port || 5432), u.hostname);
    u.host = `127.0.0.1:${pgProxy.port}`;
    databaseUrl = u.toString();
  }
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis?.url ?? redisCluster!.url,
    JWT_SECRET: CLUSTER_SECRET,
    PUBLISH_API_KEY: CLUSTER_PUBLISH_KEY,
    LOG_LEVEL: process.env['TEST_LOG'] ?? 'info',
    ENGINE_LEASE_MS: '1500',
    ...opts.env,
  };
  const sockets: Socket[] = [];
  const nodes: ClusterNode[] = [];
  // the processes go before the database (registered last: run first)
  db.cleanup(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all(
      nodes.map(async (n) => {
        if (n.child.exitCode === null && n.child.signalCode === null) {
          n.child.kill('SIGCONT');
          n.child.kill('SIGKILL');
        }
        await n.exited;
      }),
    );
    await cluster.nginx?.close();
    await pgProxy?.close();
  });
  let count = { gateway: 0, engine: 0 };
  const start = async (role: 'gateway' | 'engine', name: string | undefined, extra: Record<string, string>): Promise<ClusterNode> => {
    count = { ...count, [role]: count[role] + 1 };
    const nodeName = name ?? `${role}-${count[role]}`;
    const nodeEnv = { ...env, ROLE: role, NODE_ID: nodeName, ...extra };
    const server = await spawnServer(nodeEnv, 90_000);
    const node: ClusterNode = { ...server, name: nodeName, role, env: nodeEnv };
    nodes.push(node);
    return node;
  };
  const cluster: Cluster = {
    get redis(): RedisTestServer {
      if (!redis) throw new Error('this cluster runs on a Redis Cluster: use redisCluster');
      return redis;
    },
    redisCluster,
    db,
    gateways: [],
    engines: [],
    nginx: null,
    pgProxy,
    env,
    sign: (userId, o = {}) => signer.sign(userId, { roles: o.roles ?? [], ttlSeconds: o.ttlSeconds ?? 3600 }),
    async startGateway(name, extra = {}) {
      const node = await start('gateway', name, extra);
      cluster.gateways.push(node);
      return node;
    },
    async startEngine(name, extra = {}) {
      const node = await start('engine', name, extra);
      cluster.engines.push(node);
      return node;
    },
    async leader(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const e of cluster.engines) {
          if (e.child.exitCode !== null || e.child.signalCode !== null) continue;
          const ready = await fetch(`${e.adminUrl ?? e.url}/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
          if (ready?.status === 200) return e;
        }
        if (Date.now() > deadline) throw new Error('no engine leads');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    client(url, o = {}) {
      const s = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...o });
      sockets.push(s);
      return s;
    },
    async http(url, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers['authorization'] = `Bearer ${init.token}`;
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + path, { method: init.method ?? 'GET', headers, body: init.json !== undefined ? JSON.stringify(init.json) : null });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body };
    },
  };
  for (let i = 0; i < (opts.engines ?? 1); i++) await cluster.startEngine();
  await Promise.all(Array.from({ length: opts.gateways ?? 2 }, () => cluster.startGateway()));
  if (opts.nginx) cluster.nginx = await startNginx(cluster.gateways.map((g) => g.port));
  return cluster;
}
