/**
 * A cluster under test, on this machine: a redis-server of its own, and either
 *   - `cluster`: the gateway in cluster mode — N `ROLE=gateway` processes and `ROLE=engine`
 *     processes (simulator off) on a fresh PostgreSQL database; or
 *   - `socketio-cluster`: the peer — N stock Socket.IO 4.8 processes joined by the official
 *     `@socket.io/redis-adapter` (sharded pub/sub), doing `io.to(room).emit`.
 * Every gateway is a RunningTarget (same JWT secret and publish key), so the single-node client
 * groups and publisher work against any of them. `serverPids()` is every server process, Redis
 * included, for CPU and memory.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkEntry, spawnTracked, stopChild } from '../lib/children.js';
import { freePort } from '../lib/free-port.js';
import { getStatus } from '../lib/http.js';
import { gatewayBuilt, gatewayEnv, gatewayMain, serverRoot as defaultRoot } from '../targets/start-target.js';
import type { RunningTarget } from '../targets/target.js';
import { waitListening } from '../targets/wait-listening.js';
import { BenchRedis, createDatabase, type BenchDatabase } from './infra.js';

export type ClusterKind = 'cluster' | 'socketio-cluster';
const HOST = '127.0.0.1';

export interface ClusterProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  baseUrl: string;
}

export interface ClusterPlan {
  gateways: number;
  /** engines (the first leads, the others stand by); `cluster` only */
  engines: number;
  /** extra env for every node */
  env?: Record<string, string>;
  /** the checkout whose build runs the nodes (default: this one) */
  serverRoot?: string;
}

export interface RunningCluster {
  kind: ClusterKind;
  redis: BenchRedis;
  gateways: RunningTarget[];
  engines: ClusterProcess[];
  /** live gateways + engines + redis-server */
  serverPids(): number[];
  /** kill -9 of gateway `index` (resolves once it has exited) */
  killGateway(index: number): Promise<void>;
  /** the engine whose /ready is 200 (it leads), waiting up to `timeoutMs` */
  leader(timeoutMs?: number): Promise<ClusterProcess>;
  /** kill -9 of an engine */
  killEngine(engine: ClusterProcess): Promise<void>;
  /** one more engine (it stands by while another leads) */
  startEngine(): Promise<ClusterProcess>;
  stop(): Promise<void>;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function kill9(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

/** Polls `path` until it answers 200; rejects when the process exits or after `timeoutMs`. */
async function waitFor(child: ChildProcess, baseUrl: string, path: string, label: string, timeoutMs: number): Promise<void> {
  child.stdout?.resume();
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!alive(child)) throw new Error(`${label} exited (${child.signalCode ?? child.exitCode}) before it was up`);
    if ((await getStatus(new URL(path, baseUrl))) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${label}: GET ${path} not 200 after ${timeoutMs} ms`);
}

export async function startCluster(kind: ClusterKind, plan: ClusterPlan): Promise<RunningCluster> {
  const root = plan.serverRoot ?? defaultRoot;
  if (kind === 'cluster' && !gatewayBuilt(root)) throw new Error(`gateway not built: ${gatewayMain(root)} is missing (npm run build)`);
  const jwtSecret = randomBytes(32).toString('hex');
  const publishApiKey = randomBytes(16).toString('hex');
  const redis = await BenchRedis.start();
  let db: BenchDatabase | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-bench-cluster-'));
  const processes: ClusterProcess[] = [];
  const gateways: RunningTarget[] = [];
  const engines: ClusterProcess[] = [];
  let engineCount = 0;

  const stopAll = async (): Promise<void> => {
    await Promise.all(processes.map((p) => stopChild(p.child, 5000)));
    await redis.stop();
    await db?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const nodeEnv = (port: number, role: 'gateway' | 'engine', name: string): Record<string, string> => ({
    ...gatewayEnv(port, jwtSecret, publishApiKey, join(dataDir, name)),
    ROLE: role,
    NODE_ID: name,
    DATABASE_URL: db?.url ?? '',
    REDIS_URL: redis.url,
    ...plan.env,
  });

  const spawnNode = async (role: 'gateway' | 'engine', name: string): Promise<ClusterProcess> => {
    const port = await freePort(HOST);
    const baseUrl = `http://${HOST}:${port}`;
    const nodeArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = spawnTracked(process.execPath, [...nodeArgs, gatewayMain(root)], {
      cwd: root,
      env: { ...process.env, ...nodeEnv(port, role, name) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const node: ClusterProcess = { name, child, pid: child.pid ?? 0, baseUrl };
    processes.push(node);
    return node;
  };

  const startEngine = async (): Promise<ClusterProcess> => {
    const node = await spawnNode('engine', `engine-${++engineCount}`);
    // a standby answers /ready 503: /health says it is up
    await waitFor(node.child, node.baseUrl, '/health', node.name, 90_000);
    engines.push(node);
    return node;
  };

  const leader = async (timeoutMs = 30_000): Promise<ClusterProcess> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (const e of engines) {
        if (alive(e.child) && (await getStatus(new URL('/ready', e.baseUrl))) === 200) return e;
      }
      if (performance.now() > deadline) throw new Error(`no engine leads after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const target = (node: ClusterProcess): RunningTarget => ({
    name: kind === 'cluster' ? 'gateway' : 'plain-socketio',
    baseUrl: node.baseUrl,
    pid: node.pid,
    jwtSecret,
    publishApiKey,
    hasOrders: kind === 'cluster',
    hasBackpressurePolicy: kind === 'cluster',
    stop: () => stopChild(node.child, 5000),
  });

  try {
    if (kind === 'cluster') {
      db = await createDatabase();
      // the first engine migrates the schema and leads; the others stand by
      await startEngine();
      await leader(90_000);
      for (let i = 1; i < plan.engines; i++) await startEngine();
      const nodes = await Promise.all(Array.from({ length: plan.gateways }, (_, i) => spawnNode('gateway', `gateway-${i + 1}`)));
      await Promise.all(nodes.map((n) => waitListening(n.child, n.baseUrl, n.name, 90_000)));
      gateways.push(...nodes.map(target));
    } else {
      const nodes = await Promise.all(
        Array.from({ length: plan.gateways }, async (_, i) => {
          const port = await freePort(HOST);
          const child = forkEntry('baselines/plain-socketio-server', {
            PORT: String(port),
            HOST,
            JWT_SECRET: jwtSecret,
            PUBLISH_API_KEY: publishApiKey,
            REDIS_URL: redis.url,
          });
          const node: ClusterProcess = { name: `socketio-${i + 1}`, child, pid: child.pid ?? 0, baseUrl: `http://${HOST}:${port}` };
          processes.push(node);
          return node;
        }),
      );
      await Promise.all(nodes.map((n) => waitListening(n.child, n.baseUrl, n.name, 90_000)));
      gateways.push(...nodes.map(target));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    kind,
    redis,
    gateways,
    engines,
    serverPids: () => {
      const pids = processes.filter((p) => alive(p.child)).map((p) => p.pid);
      return [...pids, redis.pid];
    },
    async killGateway(index) {
      const node = processes.find((p) => p.baseUrl === gateways[index]?.baseUrl);
      if (!node) throw new Error(`no gateway ${index}`);
      await kill9(node.child);
    },
    leader,
    killEngine: (engine) => kill9(engine.child),
    startEngine,
    stop: stopAll,
  };
}
