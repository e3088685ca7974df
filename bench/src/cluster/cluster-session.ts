/**
 * Clients spread over several gateways (no balancer: each group connects to one gateway's port),
 * a probe process per gateway, and one publisher posting to one of them. With one target it is
 * the single-node session measured the same way, so a cluster and its baseline share one code path.
 */
import type { FleetConfig, OrderProbeConfig, OrderProbeStats, WorkerStats } from '../loadgen/worker-protocol.js';
import type { RunningTarget } from '../targets/target.js';
import { ClientGroup, type GroupConnectResult } from '../harness/client-group.js';
import type { MarketSession } from '../harness/measure-market.js';
import { PublisherHandle } from '../harness/publisher-handle.js';
import type { StatsSource } from '../harness/snapshot.js';

export interface ClusterSessionPlan {
  targets: readonly RunningTarget[];
  serverPids: () => number[];
  /** the gateway the publisher posts to */
  publishTo: number;
  /** load clients in total, spread evenly over the targets */
  loadClients: number;
  probesPerTarget: number;
  perProcess: number;
  markets: string[];
  /** probes on this gateway also follow their orders; orders are placed over REST on `orderVia` */
  ordersOn: number | null;
  orderVia: number | null;
  connectConcurrency: number;
  lifetimeMs: number;
  /** load clients only: e.g. fail-over reconnects (`reconnectUrls`), order subscriptions */
  loadFleet?: Partial<GroupFleet>;
}

type GroupFleet = Omit<FleetConfig, 'baseUrl' | 'secret' | 'userPrefix' | 'count' | 'localAddress'>;

/** Several client groups seen as one; `stats` keeps their order (probes: one entry per gateway). */
export class MultiGroup implements StatsSource {
  constructor(
    readonly groups: readonly ClientGroup[],
    private readonly orderGroup: ClientGroup | null = null,
  ) {}

  async stats(resetLatency: boolean): Promise<WorkerStats[]> {
    return (await Promise.all(this.groups.map((g) => g.stats(resetLatency)))).flat();
  }

  orders(config: OrderProbeConfig): Promise<OrderProbeStats> {
    if (!this.orderGroup) throw new Error('no probe group follows its orders');
    return this.orderGroup.orders(config);
  }

  async mark(sentAt: number): Promise<void> {
    await Promise.all(this.groups.map((g) => g.mark(sentAt)));
  }

  userIds(): string[] {
    return this.groups.flatMap((g) => g.userIds());
  }

  get processes(): number {
    return this.groups.reduce((s, g) => s + g.processes, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.close()));
  }
}

function sum(results: readonly GroupConnectResult[]): GroupConnectResult {
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    ready: results.reduce((s, r) => s + r.ready, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    elapsedMs: Math.max(0, ...results.map((r) => r.elapsedMs)),
    wallMs: Math.max(0, ...results.map((r) => r.wallMs)),
    errors,
  };
}

export class ClusterSession implements MarketSession {
  private constructor(
    private readonly plan: ClusterSessionPlan,
    readonly load: MultiGroup,
    readonly probes: MultiGroup,
    readonly publisher: PublisherHandle,
    readonly connected: { load: GroupConnectResult; probes: GroupConnectResult },
  ) {}

  static async open(plan: ClusterSessionPlan): Promise<ClusterSession> {
    const fleet = (overrides: Partial<GroupFleet>): GroupFleet => ({
      auth: 'handshake',
      markets: plan.markets,
      orders: false,
      latency: 'sampled',
      sampleEvery: 0,
      trackSeq: false,
      connectConcurrency: plan.connectConcurrency,
      connectTimeoutMs: 90_000,
      ...overrides,
    });
    const n = plan.targets.length;
    const loadGroups: ClientGroup[] = [];
    const probeGroups: ClientGroup[] = [];
    // source addresses: probes 127.0.0.2…, load processes from 127.0.0.20 on, none shared
    let sourceBase = 20;
    for (const [i, target] of plan.targets.entries()) {
      const total = Math.floor(plan.loadClients / n) + (i < plan.loadClients % n ? 1 : 0);
      if (total > 0) {
        const group = ClientGroup.start(target, {
          role: 'load',
          namespace: `g${i}`,
          total,
          perProcess: plan.perProcess,
          sourceBase,
          fleet: fleet(plan.loadFleet ?? {}),
          lifetimeMs: plan.lifetimeMs,
        });
        sourceBase += group.processes;
        loadGroups.push(group);
      }
      if (plan.probesPerTarget > 0) {
        probeGroups.push(
          ClientGroup.start(target, {
            role: 'probe',
            namespace: `g${i}`,
            total: plan.probesPerTarget,
            perProcess: plan.probesPerTarget,
            sourceBase: 2 + i,
            fleet: fleet({ latency: 'all', orders: plan.ordersOn === i }),
            lifetimeMs: plan.lifetimeMs,
          }),
        );
      }
    }
    if (sourceBase > 250) throw new Error('too many load processes for 127.0.0.x source addresses');
    const load = new MultiGroup(loadGroups);
    const probes = new MultiGroup(probeGroups, plan.ordersOn === null ? null : (probeGroups[plan.ordersOn] ?? null));
    const publisher = PublisherHandle.start(plan.lifetimeMs);
    try {
      const [loadResults, probeResults] = await Promise.all([
        Promise.all(loadGroups.map((g) => g.connect(900_000))),
        Promise.all(probeGroups.map((g) => g.connect(900_000))),
      ]);
      const connected = { load: sum(loadResults), probes: sum(probeResults) };
      const failed = connected.load.failed + connected.probes.failed;
      if (failed > 0) {
        throw new Error(`${failed} clients failed to connect: ${JSON.stringify({ ...connected.load.errors, ...connected.probes.errors })}`);
      }
      return new ClusterSession(plan, load, probes, publisher, connected);
    } catch (error) {
      await Promise.all([load.close(), probes.close(), publisher.stop()]);
      throw error;
    }
  }

  get publishTarget(): RunningTarget {
    const target = this.plan.targets[this.plan.publishTo];
    if (!target) throw new Error('no publish target');
    return target;
  }

  get serverPids(): number[] {
    return this.plan.serverPids();
  }

  /** where the order path's hops are timed (each gateway times the orders it writes) */
  get gatewayUrls(): string[] {
    return this.plan.targets.map((t) => t.baseUrl);
  }

  get orderBaseUrl(): string | undefined {
    return this.plan.orderVia === null ? undefined : this.plan.targets[this.plan.orderVia]?.baseUrl;
  }

  get subscribers(): number {
    return this.connected.load.ready + this.connected.probes.ready;
  }

  async close(): Promise<void> {
    await Promise.all([this.load.close(), this.probes.close(), this.publisher.stop()]);
  }
}
