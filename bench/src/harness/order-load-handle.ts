/** The order-load process, seen from the harness. */
import type { ChildProcess } from 'node:child_process';
import { forkEntry, stopChild } from '../lib/children.js';
import { IpcClient } from '../lib/ipc.js';
import { LIFETIME_ENV } from '../lib/lifetime.js';
import type { OrderLoadConfig, OrderLoadStats } from '../loadgen/order-load-protocol.js';

export class OrderLoadHandle {
  private readonly ipc: IpcClient;

  private constructor(private readonly child: ChildProcess) {
    this.ipc = new IpcClient(child, 'order-load');
  }

  static start(lifetimeMs: number): OrderLoadHandle {
    const child = forkEntry('loadgen/order-load', { [LIFETIME_ENV]: String(lifetimeMs) });
    child.stdout?.resume();
    return new OrderLoadHandle(child);
  }

  /** Runs the load; settles with its counts when the run (and its drain) is over. */
  run(config: OrderLoadConfig): Promise<OrderLoadStats> {
    return this.ipc.request<OrderLoadStats>({ type: 'run', config }, config.durationMs + 60_000);
  }

  async stop(): Promise<void> {
    await this.ipc.request({ type: 'stop' }, 2000).catch(() => undefined);
    await stopChild(this.child, 2000);
  }
}
