/**
 * A Redis Cluster of a test's own: 3 masters and 3 replicas (`redis-server --cluster-enabled yes`
 * on free ports, no persistence, joined by `redis-cli --cluster create --cluster-replicas 1`), with
 * a short node timeout so that a killed master's replica takes over within seconds. Tests that
 * need one call `redisClusterOrSkip(t)`: it skips with a message when redis-server or redis-cli is
 * not installed, except in CI (CI=true), where that is a failure. Every process is killed and the
 * cluster's files removed when the test ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import { freePort } from './redis-test-server.js';

/** how long a silent node takes to be failed over (cluster-node-timeout) */
export const NODE_TIMEOUT_MS = 1500;

/** null when redis-server and redis-cli both run, else why not */
export function redisClusterMissing(): string | null {
  for (const bin of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (probe.error) return `${bin}: ${probe.error.message}`;
    if (probe.status !== 0) return `${bin}: ${(probe.stderr || `exit ${probe.status}`).trim()}`;
  }
  return null;
}

export interface ClusterNodeProcess {
  port: number;
  child: ChildProcess;
  output: string;
}

export class RedisClusterTestServer {
  readonly nodes: ClusterNodeProcess[] = [];
  private readonly clients: (RedisClientType | RedisClusterType)[] = [];

  private constructor(private readonly dir: string) {}

  /** `redis+cluster://` URL of every node (the seeds) */
  get url(): string {
    return `redis+cluster://${this.seeds}`;
  }

  /** `host:port,…` of every node (REDIS_CLUSTER_NODES) */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async start(opts: { masters?: number } = {}): Promise<RedisClusterTestServer> {
    const masters = opts.masters ?? 3;
    const cluster = new RedisClusterTestServer(mkdtempSync(join(tmpdir(), 'qx-redis-cluster-')));
    try {
      for (let i = 0; i < masters * 2; i++) await cluster.spawnNode();
      const create = await run('redis-cli', ['--cluster', 'create', ...cluster.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], 30_000);
      if (create.code !== 0) throw new Error(`redis-cli --cluster create failed (${create.code}): ${create.output}`);
      await cluster.waitUntilServing(20_000);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** A cluster client for the test to look with (destroyed at stop). */
  async client(): Promise<RedisClusterType> {
    const client = createCluster({ rootNodes: this.live().map((n) => ({ socket: { host: '127.0.0.1', port: n.port } })) }) as unknown as RedisClusterType;
    client.on('error', () => {});
    client.on('node-error', () => {});
    await client.connect();
    this.clients.push(client);
    return client;
  }

  /** A plain client to one node (CLUSTER commands, PUBSUB SHARDNUMSUB). */
  async nodeClient(port: number): Promise<RedisClientType> {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } }) as RedisClientType;
    client.on('error', () => {});
    await client.connect();
    this.clients.push(client);
    return client;
  }

  /** The port of the master that serves `key` now (asked of a live node). */
  async masterOf(key: string): Promise<number> {
    const probe = await this.nodeClient(this.live()[0]!.port);
    try {
      const slot = Number(await probe.sendCommand(['CLUSTER', 'KEYSLOT', key]));
      return slotMaster(await probe.sendCommand(['CLUSTER', 'SLOTS']), slot);
    } finally {
      probe.destroy();
    }
  }

  /** Ports of the masters that serve slots now. */
  async masters(): Promise<number[]> {
    const probe = await this.nodeClient(this.live()[0]!.port);
    try {
      const slots = await probe.sendCommand<[number, number, [string, number]][]>(['CLUSTER', 'SLOTS']);
      return [...new Set(slots.map((s) => Number(s[2][1])))].sort((a, b) => a - b);
    } finally {
      probe.destroy();
    }
  }

  /** kill -9 of one node. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    await killChild(node.child);
  }

  /**
   * Waits until another node serves `key`'s slot in place of the master on `deadPort` and every
   * live node says the cluster is ok; returns the new master's port.
   */
  async waitForFailover(deadPort: number, key: string, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const port = await this.masterOf(key);
        if (port !== deadPort && (await this.allOk())) return port;
      } catch {
        /* a node still settling */
      }
      if (Date.now() > deadline) throw new Error(`no failover of the master on port ${deadPort} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills every node, removes the cluster's files. */
  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) {
      try {
        c.destroy();
      } catch {
        /* closed already */
      }
    }
    await Promise.all(this.nodes.map((n) => killChild(n.child)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private live(): ClusterNodeProcess[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  private async allOk(): Promise<boolean> {
    for (const n of this.live()) {
      const c = await this.nodeClient(n.port);
      try {
        const info = await c.sendCommand<string>(['CLUSTER', 'INFO']);
        if (!info.includes('cluster_state:ok')) return false;
      } finally {
        c.destroy();
      }
    }
    return true;
  }

  private async spawnNode(): Promise<void> {
    const port = await freePort();
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    // prettier-ignore
    const args = [
      '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
      '--appendonly', 'no', '--save', '', '--repl-diskless-sync-delay', '0', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const node: ClusterNodeProcess = { port, child, output: '' };
    child.stdout?.on('data', (d: Buffer) => (node.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (node.output += d.toString()));
    this.nodes.push(node);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited: ${node.output.trim()}`);
      try {
        const c = await this.nodeClient(port);
        c.destroy();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start: ${node.output.trim()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /** every node says cluster_state:ok, and every replica is in sync with its master */
  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ready = await this.allOk().catch(() => false);
      for (const n of this.nodes) {
        if (!ready) break;
        const c = await this.nodeClient(n.port);
        try {
          const info = await c.sendCommand<string>(['INFO', 'replication']);
          if (info.includes('role:slave') && !info.includes('master_link_status:up')) ready = false;
        } finally {
          c.destroy();
        }
      }
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The master port of `slot` in a CLUSTER SLOTS reply. */
function slotMaster(reply: unknown, slot: number): number {
  for (const [from, to, master] of reply as [number, number, [string, number]][]) {
    if (slot >= Number(from) && slot <= Number(to)) return Number(master[1]);
  }
  throw new Error(`slot ${slot} is not served`);
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts a Redis Cluster for test `t` (stopped when the test ends), or skips the test with a
 * message when redis-server or redis-cli is not installed — except when CI=true, where that fails.
 */
export async function redisClusterOrSkip(t: TestContext): Promise<RedisClusterTestServer | null> {
  const missing = redisClusterMissing();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`redis-server and redis-cli are required in CI: ${missing}`);
    t.skip(`no Redis Cluster: ${missing}`);
    return null;
  }
  const cluster = await RedisClusterTestServer.start();
  t.after(() => cluster.stop());
  return cluster;
}
