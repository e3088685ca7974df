/**
 * Durable order throughput: many users placing resting limit orders and cancelling them over REST,
 * every answer given only once the order (or its cancel) is committed. First closed loop — each of
 * `concurrency` loops places then cancels as fast as it is answered: the orders/s the deployment
 * sustains; then open loop at 50 % and 90 % of that rate: the latency a trader sees below
 * saturation. One process (SQLite) and the cluster (2 gateways, an engine, Redis, PostgreSQL);
 * with `BENCH_BEFORE_ROOT=<a built checkout>` the same cells run on that version too, in the same
 * run, so the two compare as ratios.
 */
import { Histogram, type LatencySummary, type SparseCounts } from '../lib/histogram.js';
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { signUserToken } from '../lib/tokens.js';
import { clusterInfraMissing } from '../cluster/infra.js';
import { startCluster } from '../cluster/start-cluster.js';
import { OrderLoadHandle } from '../harness/order-load-handle.js';
import type { OrderLoadConfig, OrderLoadStats } from '../loadgen/order-load-protocol.js';
import { gatewayBuilt, serverRoot, startTarget } from '../targets/start-target.js';
import type { Scenario, ScenarioContext, ScenarioReport } from './scenario.js';

interface Plan {
  /** closed-loop place+cancel loops */
  concurrency: number;
  users: number;
  warmupMs: number;
  closedMs: number;
  openMs: number;
  /** gateways of the cluster (orders go round-robin over them) */
  gateways: number;
}

const PLANS = {
  tiny: { concurrency: 8, users: 4, warmupMs: 300, closedMs: 1500, openMs: 1000, gateways: 2 },
  quick: { concurrency: 64, users: 32, warmupMs: 1000, closedMs: 5000, openMs: 5000, gateways: 2 },
  full: { concurrency: 128, users: 64, warmupMs: 2000, closedMs: 15_000, openMs: 15_000, gateways: 2 },
} satisfies Record<string, Plan>;

/** A resting bid far under the market: placed, never filled, then cancelled. */
const ORDER: OrderLoadConfig['order'] = { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 1, price: 60, timeInForce: 'gtc' };
const SHARES = [0.5, 0.9] as const;

type Deployment = 'one process' | 'cluster';

interface Target {
  version: string;
  root: string;
  deployment: Deployment;
}

interface Phase {
  /** place answered 201 per second */
  ordersPerSec: number;
  place: LatencySummary;
  cancel: LatencySummary;
  failures: number;
  shed: number;
}

interface RunResult {
  closed: Phase;
  open: Phase[];
}

export interface OrdersRow {
  version: string;
  deployment: Deployment;
  ordersPerSec: number;
  closedP99Ms: number;
  /** per share of the closed-loop rate: offered orders/s, place p50 and p99 */
  open: Array<{ share: number; offered: number; ordersPerSec: number; p50Ms: number; p99Ms: number; cancelP99Ms: number }>;
  failures: number;
}

function summary(sparse: SparseCounts): LatencySummary {
  const h = new Histogram();
  h.addSparse(sparse);
  return h.summary();
}

function phase(stats: OrderLoadStats): Phase {
  return {
    ordersPerSec: (stats.placed * 1000) / stats.elapsedMs,
    place: summary(stats.placeLatency),
    cancel: summary(stats.cancelLatency),
    failures: Object.values(stats.failures).reduce((s, n) => s + n, 0),
    shed: stats.shed,
  };
}

async function runOnce(context: ScenarioContext, plan: Plan, target: Target): Promise<RunResult> {
  const single = target.deployment === 'one process' ? await startTarget('gateway', {}, target.root) : null;
  const cluster = single ? null : await startCluster('cluster', { gateways: plan.gateways, engines: 1, serverRoot: target.root });
  const gateways = single ? [single] : cluster!.gateways;
  const load = OrderLoadHandle.start(10 * 60_000);
  try {
    const secret = gateways[0]!.jwtSecret;
    const tokens = await Promise.all(Array.from({ length: plan.users }, (_, i) => signUserToken(secret, `bench-orders-${i + 1}`)));
    const base = { urls: gateways.map((g) => g.baseUrl), tokens, order: ORDER, concurrency: plan.concurrency, rate: 0 };
    await load.run({ ...base, mode: 'closed', durationMs: plan.warmupMs });
    const closed = phase(await load.run({ ...base, mode: 'closed', durationMs: plan.closedMs }));
    const open: Phase[] = [];
    for (const share of SHARES) {
      const rate = Math.max(1, closed.ordersPerSec * share);
      open.push(phase(await load.run({ ...base, mode: 'open', rate, durationMs: plan.openMs })));
    }
    const failed = closed.failures + open.reduce((s, p) => s + p.failures, 0);
    context.log(
      `  orders ${target.version} ${target.deployment}: ${Math.round(closed.ordersPerSec).toLocaleString('en-US')} orders/s closed loop ` +
        `(place p99 ${closed.place.p99Ms} ms); ` +
        open.map((p, i) => `${SHARES[i]! * 100}%: p50 ${p.place.p50Ms} / p99 ${p.place.p99Ms} ms`).join(', ') +
        (failed > 0 ? `; ${failed} failed` : ''),
    );
    return { closed, open };
  } finally {
    await load.stop();
    await cluster?.stop();
    await single?.stop();
  }
}

function toRow(target: Target, runs: RunResult[]): OrdersRow {
  const m = (f: (r: RunResult) => number): number => median(runs.map(f));
  return {
    version: target.version,
    deployment: target.deployment,
    ordersPerSec: round(m((r) => r.closed.ordersPerSec), 0),
    closedP99Ms: round(m((r) => r.closed.place.p99Ms), 2),
    open: SHARES.map((share, i) => ({
      share,
      offered: round(m((r) => r.closed.ordersPerSec * share), 0),
      ordersPerSec: round(m((r) => r.open[i]!.ordersPerSec), 0),
      p50Ms: round(m((r) => r.open[i]!.place.p50Ms), 2),
      p99Ms: round(m((r) => r.open[i]!.place.p99Ms), 2),
      cancelP99Ms: round(m((r) => r.open[i]!.cancel.p99Ms), 2),
    })),
    failures: runs.reduce((s, r) => s + r.closed.failures + r.open.reduce((t, p) => t + p.failures + p.shed, 0), 0),
  };
}

/** This checkout, and the one named by BENCH_BEFORE_ROOT when it is built; each as one process and (when Redis and PostgreSQL are here) a cluster. */
function targetsOf(clusterOk: boolean): Target[] {
  const roots: Array<{ version: string; root: string }> = [];
  const before = process.env['BENCH_BEFORE_ROOT'];
  if (before) {
    if (!gatewayBuilt(before)) throw new Error(`BENCH_BEFORE_ROOT=${before} is not a built checkout (apps/server/dist/main.js missing)`);
    roots.push({ version: 'before', root: before });
  }
  roots.push({ version: before ? 'now' : 'this', root: serverRoot });
  const deployments: Deployment[] = clusterOk ? ['one process', 'cluster'] : ['one process'];
  return deployments.flatMap((deployment) => roots.map((r) => ({ ...r, deployment })));
}

export const orders: Scenario = {
  name: 'orders',
  description: 'durable order throughput: users placing and cancelling resting orders over REST (closed loop), then p50/p99 at 50 % and 90 % of that rate',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    if (!gatewayBuilt()) throw new Error('the orders scenario needs the gateway built (npm run build)');
    if (!context.targets.includes('gateway')) {
      context.log('  skipped: orders need the gateway target');
      return { scenario: 'orders', tables: [], data: { skipped: 'gateway not among the targets' } };
    }
    const plan: Plan = PLANS[context.mode];
    const missing = await clusterInfraMissing();
    if (missing !== null) context.log(`  cluster cells skipped: ${missing}`);
    const rows: OrdersRow[] = [];
    for (const target of targetsOf(missing === null)) {
      const runs: RunResult[] = [];
      for (let run = 1; run <= context.runs; run++) runs.push(await runOnce(context, plan, target));
      rows.push(toRow(target, runs));
    }
    const ratio = (row: OrdersRow): number => {
      const base = rows.find((r) => r.version === 'before' && r.deployment === row.deployment);
      return base && row.version !== 'before' ? round(row.ordersPerSec / base.ordersPerSec, 2) : Number.NaN;
    };
    const table: Cell[][] = rows.map((r) => [
      r.version,
      r.deployment,
      r.ordersPerSec,
      ratio(r),
      r.closedP99Ms,
      ...r.open.flatMap((o) => [o.offered, `${o.p50Ms} / ${o.p99Ms}`, o.cancelP99Ms]),
      r.failures,
    ]);
    return {
      scenario: 'orders',
      tables: [
        {
          title:
            `Durable order throughput (median of ${context.runs} run(s); ${plan.users} users, ${plan.concurrency} place+cancel loops over REST; ` +
            `every 201/200 answered after the commit; latency = place → 201)`,
          columns: [
            'version',
            'deployment',
            'orders/s',
            '÷ before',
            'closed p99 ms',
            ...SHARES.flatMap((s) => [`@${s * 100}% orders/s`, `@${s * 100}% p50 / p99 ms`, `@${s * 100}% cancel p99 ms`]),
            'failed',
          ],
          rows: table,
        },
      ],
      data: { plan, rows },
    };
  },
};
