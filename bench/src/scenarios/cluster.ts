/**
 * Cluster fan-out: clients spread over the ports of 4 gateway processes (no balancer), the engine
 * role behind them (simulator off), Redis as the bus; offered load through the publish API of
 * gateway 1 (the engine has no publish API: in cluster mode a gateway commits the event and
 * publishes it on the bus, and every gateway fans it out to its own sockets). Measured in the same
 * run against the peer (4 stock Socket.IO processes with `@socket.io/redis-adapter`) and the
 * single-node gateway, at the cluster's size when one process can hold it and at one node's share
 * (the same per-node load). CPU and memory are summed over every server process, Redis included.
 */
import { Histogram, type LatencySummary } from '../lib/histogram.js';
import { sampleProcess } from '../lib/proc-stats.js';
import { writeText } from '../lib/results.js';
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { measureMarket, type MarketMeasurement } from '../harness/measure-market.js';
import { ClusterSession } from '../cluster/cluster-session.js';
import { clusterInfraMissing } from '../cluster/infra.js';
import { startCluster, type ClusterKind } from '../cluster/start-cluster.js';
import { gatewayBuilt, startTarget } from '../targets/start-target.js';
import { COMMODITY } from './cells.js';
import { socketColumns } from './latency.js';
import { hopTable, medianHops, type HopStats } from '../harness/order-path.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

export const GATEWAYS = 4;

interface Plan {
  /** gateway processes (4; the test suite's tiny run uses 2 to stay short) */
  gateways: number;
  clients: number[];
  /** offered deliveries per second, the same for every target of a size */
  offered: number;
  probesPerGateway: number;
  warmupMs: number;
  measureMs: number;
  /** REST orders/s during the window (private path) */
  orderRate: number;
  /** the single-node gateway is run at the cluster's size up to this many clients (fd limit: 20,000) */
  singleMax: number;
}

const PLANS = {
  tiny: { gateways: 2, clients: [40], offered: 400, probesPerGateway: 2, warmupMs: 500, measureMs: 2000, orderRate: 10, singleMax: 0 },
  quick: { gateways: GATEWAYS, clients: [2000, 4000], offered: 20_000, probesPerGateway: 5, warmupMs: 1000, measureMs: 4000, orderRate: 20, singleMax: 4000 },
  full: { gateways: GATEWAYS, clients: [10_000, 20_000, 40_000], offered: 20_000, probesPerGateway: 5, warmupMs: 3000, measureMs: 15_000, orderRate: 20, singleMax: 10_000 },
} satisfies Record<string, Plan>;

export type ClusterTargetName = 'cluster' | 'socketio-cluster' | 'gateway' | 'gateway-per-node';

export interface ClusterRow {
  target: ClusterTargetName;
  /** server processes measured (gateways + engine + redis-server, or one) */
  processes: number;
  clients: number;
  rate: number;
  deliveredPerSec: number;
  deliveredPct: number;
  serverCpuPct: number;
  serverUsPerMsg: number;
  serverRssMiB: number;
  kibPerConnection: number;
  loadCpuMaxPct: number;
  probeP50Ms: number;
  probeP99Ms: number;
  /** probe p99 on each gateway's sockets */
  probeP99ByGatewayMs: number[];
  orderP50Ms: number;
  orderP99Ms: number;
  orders: number;
  /** place-order over the socket (on gateway 2, where the socket is): ack and own order-update */
  socketAckP99Ms: number;
  socketUpdateP50Ms: number;
  socketUpdateP99Ms: number;
  foreignCpuPct: number;
  /** the order path hop by hop (median over runs), as the gateways timed it */
  hops: HopStats[];
  totalsOk: boolean;
  connectWallMs: number;
}

interface Cell1 {
  target: ClusterTargetName;
  clients: number;
  rate: number;
}

interface RunResult {
  m: MarketMeasurement;
  processes: number;
  kibPerConnection: number;
  subscribers: number;
  connectWallMs: number;
}

function rssKiB(pids: readonly number[]): number {
  return pids.reduce((s, pid) => s + sampleProcess(pid).rssKiB, 0);
}

async function runCell(context: ScenarioContext, plan: Plan, cell: Cell1): Promise<RunResult> {
  const lifetimeMs = 20 * 60_000;
  const clustered = cell.target === 'cluster' || cell.target === 'socketio-cluster';
  const single = clustered ? null : await startTarget('gateway');
  const cluster = clustered ? await startCluster(cell.target as ClusterKind, { gateways: plan.gateways, engines: 1 }) : null;
  const targets = cluster?.gateways ?? [single!];
  const serverPids = (): number[] => cluster?.serverPids() ?? [single!.pid];
  try {
    const empty = rssKiB(serverPids());
    const hasOrders = targets[0]!.hasOrders;
    const session = await ClusterSession.open({
      targets,
      serverPids,
      publishTo: 0,
      loadClients: cell.clients,
      // as many probes in total as the cluster's, so latency samples compare
      probesPerTarget: clustered ? plan.probesPerGateway : plan.probesPerGateway * plan.gateways,
      perProcess: PER_PROCESS,
      markets: [COMMODITY],
      // the private path crosses nodes in the cluster: orders on gateway 1, sockets on gateway 2
      ordersOn: hasOrders ? (targets.length > 1 ? 1 : 0) : null,
      orderVia: hasOrders ? 0 : null,
      connectConcurrency: 64,
      lifetimeMs,
    });
    try {
      const connectedRss = rssKiB(serverPids());
      const m = await measureMarket(session, {
        rate: cell.rate,
        warmupMs: plan.warmupMs,
        measureMs: plan.measureMs,
        commodities: [COMMODITY],
        maxInFlight: 8,
        orderRate: hasOrders ? plan.orderRate : 0,
        orderVia: ['rest', 'socket'],
      });
      return {
        m,
        processes: serverPids().length,
        kibPerConnection: (connectedRss - empty) / session.subscribers,
        subscribers: session.subscribers,
        connectWallMs: session.connected.load.wallMs,
      };
    } finally {
      await session.close();
    }
  } finally {
    await cluster?.stop();
    await single?.stop();
  }
}

function summary(sparse: Parameters<Histogram['addSparse']>[0]): LatencySummary {
  const h = new Histogram();
  h.addSparse(sparse);
  return h.summary();
}

function toRow(cell: Cell1, runs: RunResult[]): ClusterRow {
  const m = (f: (x: RunResult) => number): number => median(runs.map(f));
  const gateways = runs[0]?.m.probeLatencyByProcess.length ?? 0;
  return {
    target: cell.target,
    processes: runs[0]?.processes ?? 0,
    clients: cell.clients,
    rate: cell.rate,
    deliveredPerSec: round(m((x) => x.m.window.deliveredPerSec), 0),
    deliveredPct: round(m((x) => (100 * x.m.window.deliveries) / Math.max(1, x.m.expectedDeliveries)), 1),
    serverCpuPct: round(m((x) => x.m.window.serverCpuPct), 1),
    serverUsPerMsg: round(m((x) => x.m.window.serverCpuUsPerMsg), 2),
    serverRssMiB: round(m((x) => x.m.window.serverRssMiB), 1),
    kibPerConnection: round(m((x) => x.kibPerConnection), 1),
    loadCpuMaxPct: round(m((x) => x.m.window.loadCpuMaxPct), 0),
    probeP50Ms: round(m((x) => x.m.window.probeLatency.p50Ms), 2),
    probeP99Ms: round(m((x) => x.m.window.probeLatency.p99Ms), 2),
    probeP99ByGatewayMs: Array.from({ length: gateways }, (_, i) => round(m((x) => x.m.probeLatencyByProcess[i]?.p99Ms ?? Number.NaN), 1)),
    orderP50Ms: round(m((x) => (x.m.orders ? summary(x.m.orders.latency).p50Ms : Number.NaN)), 2),
    orderP99Ms: round(m((x) => (x.m.orders ? summary(x.m.orders.latency).p99Ms : Number.NaN)), 2),
    orders: m((x) => x.m.orders?.answered ?? Number.NaN),
    ...pick(socketColumns(runs.flatMap((x) => (x.m.orders ? [x.m.orders] : [])))),
    foreignCpuPct: round(m((x) => x.m.window.foreignCpuPct), 0),
    hops: medianHops(runs.map((x) => x.m.hops)),
    totalsOk: runs.every((x) => x.m.totals.delivered === x.m.totals.accepted * x.subscribers),
    connectWallMs: round(m((x) => x.connectWallMs), 0),
  };
}

function pick(c: ReturnType<typeof socketColumns>): Pick<ClusterRow, 'socketAckP99Ms' | 'socketUpdateP50Ms' | 'socketUpdateP99Ms'> {
  return { socketAckP99Ms: c.socketAckP99Ms, socketUpdateP50Ms: c.socketUpdateP50Ms, socketUpdateP99Ms: c.socketUpdateP99Ms };
}

function ratio(rows: ClusterRow[], row: ClusterRow, base: ClusterTargetName, field: 'serverUsPerMsg' | 'probeP50Ms' | 'probeP99Ms' | 'orderP99Ms' | 'socketUpdateP99Ms'): number {
  const b = rows.find((r) => r.target === base && r.rate === row.rate && (base === 'gateway-per-node' || r.clients === row.clients));
  return b ? round(row[field] / b[field], 2) : Number.NaN;
}

/** Every cell of a size: the cluster, its peer, the single node at the same size (when it holds it) and at one node's share. */
function cellsOf(context: ScenarioContext, plan: Plan, clients: number): Cell1[] {
  const probes = plan.probesPerGateway * plan.gateways;
  const rate = context.rate ?? round(plan.offered / (clients + probes), 3);
  const cells: Cell1[] = [
    { target: 'cluster', clients, rate },
    { target: 'socketio-cluster', clients, rate },
  ];
  if (gatewayBuilt() && clients <= plan.singleMax) cells.push({ target: 'gateway', clients, rate });
  if (gatewayBuilt()) cells.push({ target: 'gateway-per-node', clients: Math.round(clients / plan.gateways), rate });
  return cells;
}

export const cluster: Scenario = {
  name: 'cluster',
  description: `fan-out over ${GATEWAYS} gateways + engine + Redis vs Socket.IO with its Redis adapter and the single node; cross-node private path`,
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const missing = await clusterInfraMissing();
    if (missing !== null) {
      context.log(`  skipped: ${missing}`);
      return { scenario: 'cluster', tables: [], data: { skipped: missing } };
    }
    if (!gatewayBuilt()) throw new Error('the cluster scenario needs the gateway built (npm run build)');
    const plan: Plan = PLANS[context.mode];
    const rows: ClusterRow[] = [];
    const raw: Record<string, unknown[]> = {};
    for (const clients of context.clients ?? plan.clients) {
      for (const cell of cellsOf(context, plan, clients)) {
        const label = `cluster-${cell.target}-${cell.clients}c-${cell.rate}hz`;
        const runs: RunResult[] = [];
        for (let run = 1; run <= context.runs; run++) {
          const r = await runCell(context, plan, cell);
          runs.push(r);
          const w = r.m.window;
          context.log(
            `  ${label} run ${run}: ${Math.round(w.deliveredPerSec).toLocaleString('en-US')} msg/s, server ${w.serverCpuUsPerMsg.toFixed(2)} µs/msg ` +
              `(${w.serverCpuPct.toFixed(0)}% cpu over ${r.processes} processes), ${r.kibPerConnection.toFixed(1)} KiB/conn, load ${w.loadCpuMaxPct.toFixed(0)}% cpu, ` +
              `probe p99 ${w.probeLatency.p99Ms} ms, other ${w.foreignCpuPct.toFixed(0)}% cpu`,
          );
          if (context.resultsDir) writeText(`${label}-run${run}.hgrm`, r.m.probeHistogram.percentileDistribution(), context.resultsDir);
        }
        raw[label] = runs.map(({ m: { probeHistogram: _h, ...rest }, ...more }) => ({ ...more, m: rest }));
        rows.push(toRow(cell, runs));
      }
    }
    const table: Cell[][] = rows.map((r) => [
      r.target,
      r.processes,
      r.clients,
      r.rate,
      r.deliveredPerSec,
      r.deliveredPct,
      r.serverCpuPct,
      r.serverUsPerMsg,
      ratio(rows, r, 'gateway', 'serverUsPerMsg'),
      ratio(rows, r, 'gateway-per-node', 'serverUsPerMsg'),
      ratio(rows, r, 'socketio-cluster', 'serverUsPerMsg'),
      r.serverRssMiB,
      r.kibPerConnection,
      r.loadCpuMaxPct,
      r.probeP50Ms,
      ratio(rows, r, 'gateway-per-node', 'probeP50Ms'),
      r.probeP99Ms,
      ratio(rows, r, 'gateway-per-node', 'probeP99Ms'),
      r.probeP99ByGatewayMs.join(' / '),
      Number.isFinite(r.orderP50Ms) ? `${r.orderP50Ms} / ${r.orderP99Ms} (${r.orders})` : 'n/a',
      ratio(rows, r, 'gateway-per-node', 'orderP99Ms'),
      Number.isFinite(r.socketUpdateP50Ms) ? `${r.socketAckP99Ms} / ${r.socketUpdateP50Ms} / ${r.socketUpdateP99Ms}` : 'n/a',
      ratio(rows, r, 'gateway-per-node', 'socketUpdateP99Ms'),
      r.foreignCpuPct,
    ]);
    return {
      scenario: 'cluster',
      tables: [
        {
          title:
            `Cluster fan-out (median of ${context.runs} run(s); µs/msg = CPU of every server process per delivered message; ` +
            `gateway-per-node = one gateway with a quarter of the clients at the same rate; order → update: REST on gateway 1, socket on gateway 2)`,
          columns: [
            'target',
            'procs',
            'clients',
            'upd/s',
            'delivered/s',
            'deliv %',
            'srv cpu %',
            'srv µs/msg',
            '÷ gateway',
            '÷ per-node',
            '÷ sio+redis',
            'srv RSS MiB',
            'KiB/conn',
            'load cpu % (max)',
            'probe p50 ms',
            'p50 ÷ per-node',
            'probe p99 ms',
            'p99 ÷ per-node',
            'p99 per gateway ms',
            'REST order→update p50 / p99 ms (n)',
            'p99 ÷ per-node',
            'socket ack p99 / order→update p50 / p99 ms',
            'p99 ÷ per-node',
            'other cpu %',
          ],
          rows: table,
        },
        hopTable(
          `Order path hop by hop (median of ${context.runs} run(s); qx_order_path_seconds from every gateway over the window, REST and socket orders together; mean / p99 ms, p99 interpolated within the histogram's buckets)`,
          rows.filter((r) => r.hops.length > 0).map((r) => ({ label: `${r.target} ${r.clients}c`, hops: r.hops })),
        ),
      ],
      data: { rows, runs: raw },
    };
  },
};
