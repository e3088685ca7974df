/**
 * Scenario 2, latency: probe clients (own process, every message timed from the `sentAt` the
 * publisher stamped) while load clients hold the rest; and the private path, REST order →
 * `order-update` at the client, under that market load (targets with orders only).
 */
import { Histogram, type LatencySummary, type SparseCounts } from '../lib/histogram.js';
import type { OrderProbeStats } from '../loadgen/worker-protocol.js';
import { hopTable, medianHops, type HopStats } from '../harness/order-path.js';
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import type { MarketMeasurement } from '../harness/measure-market.js';
import type { TargetName } from '../targets/target.js';
import { COMMODITY, runMarketCell } from './cells.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

interface Cellspec {
  clients: number;
  rate: number;
}

interface Plan {
  cells: Cellspec[];
  probes: number;
  warmupMs: number;
  measureMs: number;
  orderRate: number;
}

/**
 * The issue asks for 1,000 and 5,000 clients × 100 updates/s. On a 2-core machine that offers
 * 100k and 500k deliveries/s, past what server + load generator can process together, so the
 * default cells hold the delivered load at 20k/s (latency with headroom); `--rate 100` runs the
 * issue's figure as a saturation point.
 */
const PLANS = {
  tiny: { cells: [{ clients: 20, rate: 10 }], probes: 2, warmupMs: 500, measureMs: 1500, orderRate: 10 },
  quick: { cells: [{ clients: 1000, rate: 20 }], probes: 20, warmupMs: 1000, measureMs: 3000, orderRate: 40 },
  full: {
    cells: [
      { clients: 1000, rate: 20 },
      { clients: 5000, rate: 4 },
      { clients: 1000, rate: 100 },
    ],
    probes: 50,
    warmupMs: 3000,
    measureMs: 15_000,
    orderRate: 100,
  },
} satisfies Record<string, Plan>;

export interface LatencyRow {
  target: TargetName;
  clients: number;
  rate: number;
  deliveredPerSec: number;
  deliveredPct: number;
  probeSamples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  serverCpuPct: number;
  loadCpuMaxPct: number;
  foreignCpuPct: number;
  orders: string;
  orderP50Ms: number;
  orderP99Ms: number;
  orderP999Ms: number;
  /** `place-order` over the socket, in the same window as REST (on the other half of the probes) */
  socketOrders: number;
  socketAckP50Ms: number;
  socketAckP99Ms: number;
  socketUpdateP50Ms: number;
  socketUpdateP99Ms: number;
  /** the order path hop by hop (median over runs), as the gateway timed it */
  hops: HopStats[];
}

function toRow(target: TargetName, spec: Cellspec, runs: MarketMeasurement[]): LatencyRow {
  const m = (f: (x: MarketMeasurement) => number): number => median(runs.map(f));
  const orderRuns = runs.map((r) => r.orders).filter((o) => o !== null);
  const orderStatus = orderRuns.length === 0 ? 'not run' : orderRuns.some((o) => o.status === 'n/a') ? 'n/a' : 'ok';
  const orderSummary = (o: (typeof orderRuns)[number]) => {
    const h = new Histogram();
    h.addSparse(o.latency);
    return h.summary();
  };
  const om = (f: (s: ReturnType<typeof orderSummary>) => number): number =>
    orderStatus === 'ok' ? median(orderRuns.map((o) => f(orderSummary(o)))) : Number.NaN;
  return {
    target,
    clients: spec.clients,
    rate: spec.rate,
    deliveredPerSec: round(m((x) => x.window.deliveredPerSec), 0),
    deliveredPct: round(m((x) => (100 * x.window.deliveries) / Math.max(1, x.expectedDeliveries)), 1),
    probeSamples: m((x) => x.window.probeLatency.count),
    p50Ms: round(m((x) => x.window.probeLatency.p50Ms), 2),
    p99Ms: round(m((x) => x.window.probeLatency.p99Ms), 2),
    p999Ms: round(m((x) => x.window.probeLatency.p999Ms), 2),
    maxMs: round(m((x) => x.window.probeLatency.maxMs), 2),
    serverCpuPct: round(m((x) => x.window.serverCpuPct), 0),
    loadCpuMaxPct: round(m((x) => x.window.loadCpuMaxPct), 0),
    foreignCpuPct: round(m((x) => x.window.foreignCpuPct), 0),
    orders: orderStatus,
    orderP50Ms: round(om((s) => s.p50Ms), 2),
    orderP99Ms: round(om((s) => s.p99Ms), 2),
    orderP999Ms: round(om((s) => s.p999Ms), 2),
    ...socketColumns(orderRuns),
    hops: medianHops(runs.map((r) => r.hops)),
  };
}

/** Medians over runs of the socket-placed orders' ack and own-update latency (NaN where none ran). */
export function socketColumns(orderRuns: readonly OrderProbeStats[]): Pick<LatencyRow, 'socketOrders' | 'socketAckP50Ms' | 'socketAckP99Ms' | 'socketUpdateP50Ms' | 'socketUpdateP99Ms'> {
  const socketRuns = orderRuns.map((o) => o.socket).filter((s) => s !== null);
  const of = (sparse: SparseCounts): LatencySummary => {
    const h = new Histogram();
    h.addSparse(sparse);
    return h.summary();
  };
  const m = (f: (s: (typeof socketRuns)[number]) => number): number => (socketRuns.length ? median(socketRuns.map(f)) : Number.NaN);
  return {
    socketOrders: m((s) => s.answered),
    socketAckP50Ms: round(m((s) => of(s.ack).p50Ms), 2),
    socketAckP99Ms: round(m((s) => of(s.ack).p99Ms), 2),
    socketUpdateP50Ms: round(m((s) => of(s.update).p50Ms), 2),
    socketUpdateP99Ms: round(m((s) => of(s.update).p99Ms), 2),
  };
}

function p99Ratio(rows: LatencyRow[], row: LatencyRow, baseline: TargetName): number {
  const base = rows.find((r) => r.target === baseline && r.clients === row.clients && r.rate === row.rate);
  return base ? round(row.p99Ms / base.p99Ms, 2) : Number.NaN;
}

export const latency: Scenario = {
  name: 'latency',
  description: 'probe publish→receive p50/p99/p99.9 under load; private path REST order → order-update',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const plan: Plan = PLANS[context.mode];
    const cells: Cellspec[] = context.clients
      ? context.clients.map((clients) => ({ clients, rate: context.rate ?? 100 }))
      : plan.cells.map((c) => ({ clients: c.clients, rate: context.rate ?? c.rate }));
    const rows: LatencyRow[] = [];
    const raw: Record<string, unknown[]> = {};
    for (const spec of cells) {
      for (const target of context.targets) {
        const label = `latency-${target}-${spec.clients}c-${spec.rate}hz`;
        const runs = await runMarketCell(
          context,
          {
            target,
            loadClients: spec.clients,
            probeClients: plan.probes,
            perProcess: PER_PROCESS,
            markets: [COMMODITY],
            probeOrders: true,
            sampleEvery: 100,
            trackSeq: false,
            connectConcurrency: 64,
            lifetimeMs: 5 * 60_000,
          },
          {
            rate: spec.rate,
            warmupMs: plan.warmupMs,
            measureMs: plan.measureMs,
            commodities: [COMMODITY],
            maxInFlight: 8,
            orderRate: plan.orderRate,
            orderVia: ['rest', 'socket'],
          },
          label,
        );
        raw[label] = runs.map(({ probeHistogram: _histogram, ...rest }) => rest);
        rows.push(toRow(target, spec, runs));
      }
    }
    const table: Cell[][] = rows.map((r) => [
      r.target,
      r.clients,
      r.rate,
      r.deliveredPerSec,
      r.deliveredPct,
      r.p50Ms,
      r.p99Ms,
      r.p999Ms,
      r.maxMs,
      p99Ratio(rows, r, 'raw-ws'),
      p99Ratio(rows, r, 'plain-socketio'),
      r.serverCpuPct,
      r.loadCpuMaxPct,
      r.foreignCpuPct,
      r.orders === 'ok' ? r.orderP50Ms : r.orders,
      r.orders === 'ok' ? r.orderP99Ms : r.orders,
      r.orders === 'ok' ? `${r.socketAckP50Ms} / ${r.socketAckP99Ms}` : r.orders,
      r.orders === 'ok' ? `${r.socketUpdateP50Ms} / ${r.socketUpdateP99Ms}` : r.orders,
    ]);
    return {
      scenario: 'latency',
      tables: [
        {
          title: `Latency, publish → receive on ${plan.probes} probe clients (median of ${context.runs} run(s)); private path: REST order → order-update, and place-order over the socket → ack and → own order-update, side by side`,
          columns: ['target', 'clients', 'upd/s', 'delivered/s', 'deliv %', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 ÷ raw ws', 'p99 ÷ plain sio', 'srv cpu %', 'load cpu %', 'other cpu %', 'REST order→update p50 ms', 'p99 ms', 'socket ack p50 / p99 ms', 'socket order→update p50 / p99 ms'],
          rows: table,
        },
        hopTable(
          `Order path hop by hop (median of ${context.runs} run(s); qx_order_path_seconds over the window, REST and socket orders together; mean / p99 ms)`,
          rows.filter((r) => r.hops.length > 0).map((r) => ({ label: `${r.target} ${r.clients}c × ${r.rate}/s`, hops: r.hops })),
        ),
      ],
      data: { rows, runs: raw },
    };
  },
};
