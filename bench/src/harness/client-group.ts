/**
 * A group of client worker processes (load clients or probes) against one target, at most
 * `perProcess` sockets each so no process nears its fd limit. Each process connects from its own
 * 127.0.0.x source address, which keeps ephemeral ports plentiful at 10,000+ sockets.
 */
import { forkEntry, stopChild } from '../lib/children.js';
import { IpcClient } from '../lib/ipc.js';
import { LIFETIME_ENV } from '../lib/lifetime.js';
import type { RunningTarget } from '../targets/target.js';
import type { ConnectResult, CycleResult, FleetConfig, OrderProbeConfig, OrderProbeStats, WorkerStats } from '../loadgen/worker-protocol.js';
import type { ChildProcess } from 'node:child_process';

export interface GroupOptions {
  role: 'load' | 'probe' | 'stall' | 'dead';
  total: number;
  perProcess: number;
  /** first octet-4 of the source addresses (127.0.0.x); groups in one run must not overlap */
  sourceBase: number;
  fleet: Omit<FleetConfig, 'baseUrl' | 'secret' | 'userPrefix' | 'count' | 'localAddress'>;
  lifetimeMs: number;
  /** prefix of the userIds, so groups on several gateways of one cluster do not share users */
  namespace?: string;
}

export interface GroupConnectResult extends ConnectResult {
  /** wall time from the first connect to the last socket ready, measured by the harness */
  wallMs: number;
}

interface Worker {
  child: ChildProcess;
  ipc: IpcClient;
  count: number;
}

function userPrefix(options: GroupOptions, workerIndex: number): string {
  return `${options.namespace ?? ''}${options.role}${workerIndex}-`;
}

export class ClientGroup {
  private constructor(
    readonly options: GroupOptions,
    private readonly target: RunningTarget,
    private readonly workers: Worker[],
  ) {}

  static start(target: RunningTarget, options: GroupOptions): ClientGroup {
    const workers: Worker[] = [];
    for (let left = options.total, i = 0; left > 0; i++) {
      const count = Math.min(options.perProcess, left);
      left -= count;
      const child = forkEntry('loadgen/client-worker', { [LIFETIME_ENV]: String(options.lifetimeMs) });
      child.stdout?.resume();
      workers.push({ child, ipc: new IpcClient(child, `${options.role} worker ${i}`), count });
    }
    return new ClientGroup(options, target, workers);
  }

  /** The userIds of the group's sockets, as the workers name them. */
  userIds(): string[] {
    return this.workers.flatMap((w, i) => Array.from({ length: w.count }, (_, j) => `${userPrefix(this.options, i)}${j}`));
  }

  get processes(): number {
    return this.workers.length;
  }

  async connect(timeoutMs = 120_000): Promise<GroupConnectResult> {
    const started = performance.now();
    const results = await Promise.all(
      this.workers.map((w, i) => {
        const config: FleetConfig = {
          ...this.options.fleet,
          baseUrl: this.target.baseUrl,
          secret: this.target.jwtSecret,
          userPrefix: userPrefix(this.options, i),
          count: w.count,
          localAddress: `127.0.0.${this.options.sourceBase + i}`,
        };
        return w.ipc.request<ConnectResult>({ type: 'connect', config }, timeoutMs);
      }),
    );
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    return {
      ready: results.reduce((s, r) => s + r.ready, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
      wallMs: performance.now() - started,
      errors,
    };
  }

  stats(resetLatency: boolean): Promise<WorkerStats[]> {
    return Promise.all(this.workers.map((w) => w.ipc.request<WorkerStats>({ type: 'stats', resetLatency })));
  }

  /** Makes `count` sockets stop reading, spread over the processes. */
  async pause(count: number): Promise<void> {
    let left = count;
    await Promise.all(
      this.workers.map((w) => {
        const n = Math.min(left, w.count);
        left -= n;
        return n > 0 ? w.ipc.request({ type: 'pause', count: n }) : Promise.resolve();
      }),
    );
  }

  /** Drops and reconnects `count` sockets, spread over the processes (see Fleet.cycle). */
  async cycle(count: number): Promise<CycleResult> {
    const total = this.workers.reduce((s, w) => s + w.count, 0);
    let left = count;
    const results = await Promise.all(
      this.workers.map((w, i) => {
        const n = i === this.workers.length - 1 ? left : Math.min(left, Math.round((count * w.count) / Math.max(1, total)));
        left -= n;
        return n > 0 ? w.ipc.request<CycleResult>({ type: 'cycle', count: n }, 120_000) : Promise.resolve({ dropped: 0, reconnected: 0, failed: 0 });
      }),
    );
    return { dropped: results.reduce((s, r) => s + r.dropped, 0), reconnected: results.reduce((s, r) => s + r.reconnected, 0), failed: results.reduce((s, r) => s + r.failed, 0) };
  }

  async resume(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ipc.request({ type: 'resume' })));
  }

  /** Marks every process (see the worker's `mark`). */
  async mark(sentAt: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ipc.request({ type: 'mark', sentAt })));
  }

  get baseUrl(): string {
    return this.target.baseUrl;
  }

  /** Runs the private-path probe on the first process (probes live in one). */
  orders(config: OrderProbeConfig): Promise<OrderProbeStats> {
    const first = this.workers[0];
    if (!first) throw new Error('no workers');
    return first.ipc.request<OrderProbeStats>({ type: 'orders', config }, config.durationMs + 30_000);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        await w.ipc.request({ type: 'close' }, 5000).catch(() => undefined);
        await stopChild(w.child, 3000);
      }),
    );
  }
}
