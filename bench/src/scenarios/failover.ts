/**
 * Fail-over, on one real cluster (3 gateways, 2 engines, Redis, PostgreSQL) with the production defaults (ENGINE_LEASE_MS, ENGINE_TIMEOUT_MS):
 *   - engine: kill -9 of the leading engine while orders arrive every 20 ms → how long until an
 *     order sent after the kill is answered 201 (the standby took over); repeated, median;
 *   - gateway: kill -9 of a gateway holding N sockets that follow their orders while private
 *     events stream to them through another gateway → how long until every socket has reconnected
 *     to another gateway and resumed by seq, and how many private events never arrived (must be 0);
 *   - Redis: kill -9 and restart (empty, a new epoch) while market data flows → how long until an
 *     update published after the restart reaches sockets on another gateway than the publisher's.
 */
import { nowMs } from '../lib/clock.js';
import { median, round } from '../lib/stats.js';
import { signUserToken } from '../lib/tokens.js';
import type { Cell } from '../lib/table.js';
import { ClusterSession } from '../cluster/cluster-session.js';
import { clusterInfraMissing } from '../cluster/infra.js';
import { startCluster, type RunningCluster } from '../cluster/start-cluster.js';
import { gatewayBuilt } from '../targets/start-target.js';
import { ORDER_BODY } from '../harness/measure-market.js';
import { COMMODITY } from './cells.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

interface Plan {
  engineKills: number;
  gatewaySockets: number;
  /** private events/s to the victim's sockets, through a surviving gateway */
  privateRate: number;
  redisRestarts: number;
}

const PLANS = {
  tiny: { engineKills: 1, gatewaySockets: 30, privateRate: 30, redisRestarts: 1 },
  quick: { engineKills: 3, gatewaySockets: 1000, privateRate: 100, redisRestarts: 1 },
  full: { engineKills: 5, gatewaySockets: 5000, privateRate: 200, redisRestarts: 3 },
} satisfies Record<string, Plan>;

const LIFETIME_MS = 10 * 60_000;
const GIVE_UP_MS = 60_000;

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = GIVE_UP_MS, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface EngineKill {
  /** kill -9 → first 201 for an order sent after the kill */
  firstAcceptedMs: number;
  /** orders sent after the kill answered something else before that (503 while no engine led) */
  refusedMeanwhile: number;
}

/** Orders every 20 ms on gateway 1; kill -9 the leader; the first 201 for an order sent after it. */
async function engineKill(cluster: RunningCluster, token: string, again: boolean): Promise<EngineKill> {
  const leader = await cluster.leader();
  const url = new URL('/api/v1/trading/orders', cluster.gateways[0]!.baseUrl);
  const killedAt = { t: Number.POSITIVE_INFINITY };
  let firstAccepted: number | null = null;
  let refused = 0;
  let stop = false;
  const inFlight = new Set<Promise<void>>();
  const place = async (): Promise<void> => {
    const sentAt = nowMs();
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(ORDER_BODY),
      signal: AbortSignal.timeout(15_000),
    }).catch(() => null);
    await res?.arrayBuffer().catch(() => undefined);
    if (sentAt < killedAt.t) return;
    if (res?.status === 201) firstAccepted = Math.min(firstAccepted ?? Number.POSITIVE_INFINITY, nowMs());
    else refused++;
  };
  const loop = (async () => {
    while (!stop) {
      const p = place().finally(() => inFlight.delete(p));
      inFlight.add(p);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    // orders flow (and are accepted) before the kill
    await new Promise((r) => setTimeout(r, 500));
    killedAt.t = nowMs();
    await cluster.killEngine(leader);
    await until('an order accepted after the engine kill', () => Promise.resolve(firstAccepted));
  } finally {
    stop = true;
    await loop;
    await Promise.all(inFlight);
  }
  // the killed engine comes back as the standby of the next round
  if (again) await cluster.startEngine();
  return { firstAcceptedMs: round((firstAccepted ?? Number.NaN) - killedAt.t, 0), refusedMeanwhile: refused };
}

export interface GatewayKill {
  sockets: number;
  /** kill -9 → the last socket resumed on another gateway */
  allResumedMs: number;
  /** kill -9 → the first socket saw its connection end, and the first resumed */
  firstLostMs: number;
  firstResumedMs: number;
  resumed: number;
  reconnectAttempts: number;
  privateAccepted: number;
  privateReceived: number;
  /** accepted by the publish API and never received (must be 0) */
  privateLost: number;
  duplicates: number;
  publishErrors: Record<string, number>;
}

/**
 * kill -9 of gateway 1 holding `gatewaySockets` sockets that follow their orders, while private
 * events stream to them through gateway 2: every socket reconnects to a survivor and resumes by seq.
 */
export async function gatewayKill(
  cluster: RunningCluster,
  plan: Pick<Plan, 'gatewaySockets' | 'privateRate'> & { perProcess?: number },
  context: ScenarioContext,
): Promise<GatewayKill> {
  {
    const [victim, ...survivors] = cluster.gateways;
    const session = await ClusterSession.open({
      targets: [victim!],
      serverPids: () => cluster.serverPids(),
      publishTo: 0,
      loadClients: plan.gatewaySockets,
      probesPerTarget: 0,
      perProcess: plan.perProcess ?? PER_PROCESS,
      markets: [],
      ordersOn: null,
      orderVia: null,
      connectConcurrency: 64,
      lifetimeMs: LIFETIME_MS,
      // every client reconnects on its own, at once (as Socket.IO clients do), not 64 at a time
      loadFleet: { orders: true, reconnectUrls: survivors.map((g) => g.baseUrl), reconnectConcurrency: plan.gatewaySockets },
    });
    try {
      const users = session.load.userIds();
      const run = session.publisher.run(survivors[0]!, {
        rate: 0,
        durationMs: 5 * 60_000,
        commodities: [COMMODITY],
        maxInFlight: 16,
        privateUsers: users,
        privateRate: plan.privateRate,
      });
      await new Promise((r) => setTimeout(r, 1500));
      const killedAt = nowMs();
      await cluster.killGateway(0);
      const done = await until(
        'every socket resumed on another gateway',
        async () => {
          const stats = await session.load.stats(false);
          const lost = stats.reduce((s, w) => s + w.failover.lost, 0);
          const resumed = stats.reduce((s, w) => s + w.failover.resumed, 0);
          return lost >= users.length && resumed >= lost ? stats : null;
        },
        GIVE_UP_MS,
        100,
      );
      const allResumedAt = Math.max(...done.map((w) => w.failover.lastResumedAt));
      // private events keep flowing to the resumed sockets for a while, then everything drains
      await new Promise((r) => setTimeout(r, 1500));
      await session.publisher.halt();
      const published = await run;
      await new Promise((r) => setTimeout(r, 1500));
      const final = await session.load.stats(false);
      const received = final.reduce((s, w) => s + w.failover.distinctOrders, 0);
      const result: GatewayKill = {
        sockets: users.length,
        allResumedMs: round(allResumedAt - killedAt, 0),
        firstLostMs: round(Math.min(...done.map((w) => w.failover.firstLostAt || Number.POSITIVE_INFINITY)) - killedAt, 0),
        firstResumedMs: round(Math.min(...done.map((w) => w.failover.firstResumedAt || Number.POSITIVE_INFINITY)) - killedAt, 0),
        resumed: final.reduce((s, w) => s + w.failover.resumed, 0),
        reconnectAttempts: final.reduce((s, w) => s + w.failover.reconnectAttempts, 0),
        privateAccepted: published.privateAccepted,
        privateReceived: received,
        privateLost: Math.max(0, published.privateAccepted - received),
        duplicates: final.reduce((s, w) => s + w.failover.duplicateOrders, 0),
        publishErrors: Object.fromEntries(Object.entries(published.statuses).filter(([k]) => !k.startsWith('2'))),
      };
      context.log(`  gateway kill: ${result.sockets} sockets cut off after ${result.firstLostMs} ms, first resumed ${result.firstResumedMs} ms, all ${result.allResumedMs} ms (${result.reconnectAttempts} attempts), private ${result.privateReceived}/${result.privateAccepted} received, lost ${result.privateLost}`);
      return result;
    } finally {
      await session.close();
    }
  }
}

export interface RedisRestart {
  /** kill -9 → the new redis-server answers PING */
  downMs: number;
  /** restart → first update published after it received on another gateway */
  resumedAfterRestartMs: number;
  /** kill -9 → that update */
  totalMs: number;
}

async function redisRestarts(cluster: RunningCluster, plan: Plan, context: ScenarioContext): Promise<RedisRestart[]> {
  const results: RedisRestart[] = [];
  {
    const session = await ClusterSession.open({
      targets: cluster.gateways.slice(0, 2),
      serverPids: () => cluster.serverPids(),
      publishTo: 0,
      loadClients: 0,
      probesPerTarget: 5,
      perProcess: PER_PROCESS,
      markets: [COMMODITY],
      ordersOn: null,
      orderVia: null,
      connectConcurrency: 16,
      lifetimeMs: LIFETIME_MS,
    });
    try {
      const run = session.publisher.run(cluster.gateways[0]!, {
        rate: 50,
        durationMs: 5 * 60_000,
        commodities: [COMMODITY],
        maxInFlight: 32,
        privateUsers: [],
        privateRate: 0,
      });
      // the probes on gateway 2 (not the publisher's) are the ones that need the bus
      const remote = session.probes.groups[1]!;
      for (let i = 0; i < plan.redisRestarts; i++) {
        await new Promise((r) => setTimeout(r, 1500));
        const killedAt = nowMs();
        await cluster.redis.crash();
        await cluster.redis.startAgain();
        const upAt = nowMs();
        await remote.mark(upAt);
        const receivedAt = await until('delivery after the Redis restart', async () => {
          const stats = await remote.stats(false);
          const at = Math.min(...stats.map((w) => (w.markReceivedAt > 0 ? w.markReceivedAt : Number.POSITIVE_INFINITY)));
          return Number.isFinite(at) ? at : null;
        });
        const r = { downMs: round(upAt - killedAt, 0), resumedAfterRestartMs: round(receivedAt - upAt, 0), totalMs: round(receivedAt - killedAt, 0) };
        context.log(`  redis restart ${i + 1}: down ${r.downMs} ms, delivery resumed ${r.resumedAfterRestartMs} ms after the restart`);
        results.push(r);
      }
      await session.publisher.halt();
      await run;
    } finally {
      await session.close();
    }
  }
  return results;
}

async function engineKills(cluster: RunningCluster, plan: Plan, context: ScenarioContext): Promise<EngineKill[]> {
  const results: EngineKill[] = [];
  const token = await signUserToken(cluster.gateways[0]!.jwtSecret, 'failover-trader');
  for (let i = 0; i < plan.engineKills; i++) {
    const r = await engineKill(cluster, token, i + 1 < plan.engineKills);
    context.log(`  engine kill ${i + 1}: first order accepted ${r.firstAcceptedMs} ms after the kill (${r.refusedMeanwhile} refused meanwhile)`);
    results.push(r);
  }
  return results;
}

export interface FailoverData {
  engine: EngineKill[];
  gateway: GatewayKill;
  redis: RedisRestart[];
  summary: { engineMedianMs: number; gatewayAllResumedMs: number; privateLost: number; redisResumedMedianMs: number; redisTotalMedianMs: number };
}

export const failover: Scenario = {
  name: 'failover',
  description: 'cluster fail-over: engine leader kill -9 → first 201; gateway kill -9 → all resumed, private events lost; Redis restart → delivery resumes',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const missing = await clusterInfraMissing();
    if (missing !== null) {
      context.log(`  skipped: ${missing}`);
      return { scenario: 'failover', tables: [], data: { skipped: missing } };
    }
    if (!gatewayBuilt()) throw new Error('the failover scenario needs the gateway built (npm run build)');
    const plan: Plan = PLANS[context.mode];
    // one cluster for the three: 3 gateways, a leading engine and its standby; the gateway dies last
    const cluster = await startCluster('cluster', { gateways: 3, engines: 2 });
    let engine: EngineKill[];
    let gateway: GatewayKill;
    let redis: RedisRestart[];
    try {
      redis = await redisRestarts(cluster, plan, context);
      engine = await engineKills(cluster, plan, context);
      gateway = await gatewayKill(cluster, plan, context);
    } finally {
      await cluster.stop();
    }
    const data: FailoverData = {
      engine,
      gateway,
      redis,
      summary: {
        engineMedianMs: median(engine.map((e) => e.firstAcceptedMs)),
        gatewayAllResumedMs: gateway.allResumedMs,
        privateLost: gateway.privateLost,
        redisResumedMedianMs: median(redis.map((r) => r.resumedAfterRestartMs)),
        redisTotalMedianMs: median(redis.map((r) => r.totalMs)),
      },
    };
    const rows: Cell[][] = [
      ['engine leader kill -9 → first order 201', `${engine.length} kills`, data.summary.engineMedianMs, engine.map((e) => e.firstAcceptedMs).join(' / '), '≤ 5,000 ms'],
      [
        'gateway kill -9 → all sockets resumed elsewhere',
        `${gateway.sockets} sockets`,
        gateway.allResumedMs,
        `${gateway.resumed} resumed (first after ${gateway.firstResumedMs} ms), ${gateway.reconnectAttempts} attempts`,
        '≤ 10,000 ms',
      ],
      [
        'gateway kill -9 → private events lost',
        `${gateway.privateAccepted} accepted`,
        gateway.privateLost,
        `${gateway.privateReceived} received, ${gateway.duplicates} duplicates`,
        '0',
      ],
      ['Redis kill -9 + restart → delivery resumes (after restart)', `${redis.length} restarts`, data.summary.redisResumedMedianMs, redis.map((r) => r.resumedAfterRestartMs).join(' / '), 'n/a'],
      ['Redis kill -9 → delivery resumes (whole outage)', `${redis.length} restarts`, data.summary.redisTotalMedianMs, redis.map((r) => r.totalMs).join(' / '), 'n/a'],
    ];
    return {
      scenario: 'failover',
      tables: [{ title: 'Fail-over (ms; median over the repetitions; production defaults: ENGINE_LEASE_MS 2000, ENGINE_TIMEOUT_MS 3000)', columns: ['event', 'size', 'median', 'each', 'goal'], rows }],
      data,
    };
  },
};
