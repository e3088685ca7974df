/** The publisher process, seen from the harness. */
import type { ChildProcess } from 'node:child_process';
import { forkEntry, stopChild } from '../lib/children.js';
import { IpcClient } from '../lib/ipc.js';
import { LIFETIME_ENV } from '../lib/lifetime.js';
import type { PublishConfig, PublisherStats } from '../loadgen/publisher-protocol.js';
import type { RunningTarget } from '../targets/target.js';

export type PublishPlan = Omit<PublishConfig, 'baseUrl' | 'apiKey'>;

export class PublisherHandle {
  private readonly ipc: IpcClient;

  private constructor(private readonly child: ChildProcess) {
    this.ipc = new IpcClient(child, 'publisher');
  }

  static start(lifetimeMs: number): PublisherHandle {
    const child = forkEntry('loadgen/publisher', { [LIFETIME_ENV]: String(lifetimeMs) });
    child.stdout?.resume();
    return new PublisherHandle(child);
  }

  /** Starts publishing; the promise settles when the run is over. */
  run(target: RunningTarget, plan: PublishPlan): Promise<PublisherStats> {
    const config: PublishConfig = { ...plan, baseUrl: target.baseUrl, apiKey: target.publishApiKey };
    return this.ipc.request<PublisherStats>({ type: 'run', config }, plan.durationMs + 30_000);
  }

  stats(): Promise<PublisherStats> {
    return this.ipc.request<PublisherStats>({ type: 'stats' });
  }

  /** Ends the current run early (its `run` promise then settles with the final counts). */
  async halt(): Promise<void> {
    await this.ipc.request({ type: 'stop' }, 2000);
  }

  async stop(): Promise<void> {
    await this.ipc.request({ type: 'stop' }, 2000).catch(() => undefined);
    await stopChild(this.child, 2000);
  }
}
