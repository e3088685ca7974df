/**
 * One target with its clients connected: load clients (many, lean, sampled), probes (few, every
 * message timed, in their own process) and a publisher. Every scenario cell opens a fresh one,
 * so no run inherits another's heap or sockets.
 */
import type { FleetConfig } from '../loadgen/worker-protocol.js';
import { startTarget } from '../targets/start-target.js';
import type { RunningTarget, TargetName } from '../targets/target.js';
import { ClientGroup, type GroupConnectResult } from './client-group.js';
import { PublisherHandle } from './publisher-handle.js';

export interface SessionPlan {
  target: TargetName;
  loadClients: number;
  probeClients: number;
  perProcess: number;
  markets: string[];
  /** probes also subscribe to their own orders room (private path) */
  probeOrders: boolean;
  /** load clients time 1 in N market updates (0: none) */
  sampleEvery: number;
  trackSeq: boolean;
  connectConcurrency: number;
  /** upper bound on every child's life */
  lifetimeMs: number;
}

export class Session {
  private constructor(
    readonly target: RunningTarget,
    readonly load: ClientGroup,
    readonly probes: ClientGroup,
    readonly publisher: PublisherHandle,
    readonly connected: { load: GroupConnectResult; probes: GroupConnectResult },
  ) {}

  static async open(plan: SessionPlan): Promise<Session> {
    const target = await startTarget(plan.target);
    const fleet = (overrides: Partial<FleetConfig>): GroupFleet => ({
      auth: 'handshake',
      markets: plan.markets,
      orders: false,
      latency: 'sampled',
      sampleEvery: plan.sampleEvery,
      trackSeq: plan.trackSeq,
      connectConcurrency: plan.connectConcurrency,
      connectTimeoutMs: 60_000,
      ...overrides,
    });
    const load = ClientGroup.start(target, {
      role: 'load',
      total: plan.loadClients,
      perProcess: plan.perProcess,
      sourceBase: 10,
      fleet: fleet({}),
      lifetimeMs: plan.lifetimeMs,
    });
    const probes = ClientGroup.start(target, {
      role: 'probe',
      total: plan.probeClients,
      perProcess: plan.probeClients,
      sourceBase: 2,
      fleet: fleet({ latency: 'all', orders: plan.probeOrders }),
      lifetimeMs: plan.lifetimeMs,
    });
    const publisher = PublisherHandle.start(plan.lifetimeMs);
    try {
      const [loadResult, probeResult] = await Promise.all([load.connect(), probes.connect()]);
      if (loadResult.failed > 0 || probeResult.failed > 0) {
        const errors = JSON.stringify({ ...loadResult.errors, ...probeResult.errors });
        throw new Error(`${plan.target}: ${loadResult.failed + probeResult.failed} clients failed to connect: ${errors}`);
      }
      return new Session(target, load, probes, publisher, { load: loadResult, probes: probeResult });
    } catch (error) {
      await Promise.all([load.close(), probes.close(), publisher.stop()]);
      await target.stop();
      throw error;
    }
  }

  get publishTarget(): RunningTarget {
    return this.target;
  }

  get serverPids(): number[] {
    return [this.target.pid];
  }

  /** where the order path's hops are timed */
  get gatewayUrls(): string[] {
    return [this.target.baseUrl];
  }

  get subscribers(): number {
    return this.connected.load.ready + this.connected.probes.ready;
  }

  async close(): Promise<void> {
    await Promise.all([this.load.close(), this.probes.close(), this.publisher.stop()]);
    await this.target.stop();
  }
}

type GroupFleet = Omit<FleetConfig, 'baseUrl' | 'secret' | 'userPrefix' | 'count' | 'localAddress'>;
