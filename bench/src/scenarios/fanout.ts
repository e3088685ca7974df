/**
 * Scenario 1, fan-out: N clients on one market, a fixed offered load (deliveries/s), and the
 * figure that measures the server: its CPU time per delivered message. Delivered/s and the load
 * generator's own CPU are shown so a reader sees when the client side is the limit.
 */
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import type { MarketMeasurement } from '../harness/measure-market.js';
import type { TargetName } from '../targets/target.js';
import { COMMODITY, runMarketCell } from './cells.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

interface Plan {
  clients: number[];
  /** offered deliveries per second (rate = this / clients) */
  offered: number[];
  probes: number;
  warmupMs: number;
  measureMs: number;
}

const PLANS = {
  tiny: { clients: [20], offered: [200], probes: 2, warmupMs: 500, measureMs: 1000 },
  quick: { clients: [1000, 2500], offered: [20_000], probes: 20, warmupMs: 1000, measureMs: 3000 },
  full: { clients: [1000, 5000, 10_000], offered: [20_000, 50_000], probes: 20, warmupMs: 3000, measureMs: 10_000 },
} satisfies Record<string, Plan>;

export interface FanoutRow {
  target: TargetName;
  clients: number;
  rate: number;
  offeredPerSec: number;
  deliveredPerSec: number;
  deliveredPct: number;
  serverCpuPct: number;
  serverUsPerMsg: number;
  serverRssMiB: number;
  loadCpuMaxPct: number;
  loadUsPerMsg: number;
  probeP50Ms: number;
  probeP99Ms: number;
  foreignCpuPct: number;
  publisherLate: number;
  totalsOk: boolean;
}

function toRow(target: TargetName, clients: number, rate: number, subscribers: number, runs: MarketMeasurement[]): FanoutRow {
  const m = (f: (x: MarketMeasurement) => number): number => median(runs.map(f));
  return {
    target,
    clients,
    rate,
    offeredPerSec: rate * subscribers,
    deliveredPerSec: round(m((x) => x.window.deliveredPerSec), 0),
    deliveredPct: round(m((x) => (100 * x.window.deliveries) / Math.max(1, x.expectedDeliveries)), 1),
    serverCpuPct: round(m((x) => x.window.serverCpuPct), 1),
    serverUsPerMsg: round(m((x) => x.window.serverCpuUsPerMsg), 2),
    serverRssMiB: round(m((x) => x.window.serverRssMiB), 1),
    loadCpuMaxPct: round(m((x) => x.window.loadCpuMaxPct), 0),
    loadUsPerMsg: round(m((x) => x.window.loadCpuUsPerMsg), 2),
    probeP50Ms: round(m((x) => x.window.probeLatency.p50Ms), 2),
    probeP99Ms: round(m((x) => x.window.probeLatency.p99Ms), 2),
    foreignCpuPct: round(m((x) => x.window.foreignCpuPct), 0),
    publisherLate: m((x) => x.publisherLate),
    totalsOk: runs.every((x) => x.totals.delivered === x.totals.accepted * subscribers),
  };
}

function ratio(rows: FanoutRow[], row: FanoutRow, baseline: TargetName): number {
  const base = rows.find((r) => r.target === baseline && r.clients === row.clients && r.rate === row.rate);
  return base ? round(row.serverUsPerMsg / base.serverUsPerMsg, 2) : Number.NaN;
}

export const fanout: Scenario = {
  name: 'fanout',
  description: 'server CPU µs per delivered message at fixed offered loads, 1k/5k/10k clients',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const plan: Plan = PLANS[context.mode];
    const clientsList = context.clients ?? plan.clients;
    const rows: FanoutRow[] = [];
    const raw: Record<string, unknown[]> = {};
    for (const clients of clientsList) {
      for (const offered of plan.offered) {
        const subscribers = clients + plan.probes;
        const rate = context.rate ?? Math.max(1, Math.round(offered / subscribers));
        for (const target of context.targets) {
          const label = `fanout-${target}-${clients}c-${rate}hz`;
          const runs = await runMarketCell(
            context,
            {
              target,
              loadClients: clients,
              probeClients: plan.probes,
              perProcess: PER_PROCESS,
              markets: [COMMODITY],
              probeOrders: false,
              sampleEvery: 0,
              trackSeq: false,
              connectConcurrency: 64,
              lifetimeMs: 5 * 60_000,
            },
            { rate, warmupMs: plan.warmupMs, measureMs: plan.measureMs, commodities: [COMMODITY], maxInFlight: 8, orderRate: 0 },
            label,
          );
          raw[label] = runs.map(({ probeHistogram: _histogram, ...rest }) => rest);
          rows.push(toRow(target, clients, rate, subscribers, runs));
        }
      }
    }
    const table: Cell[][] = rows.map((r) => [
      r.target,
      r.clients,
      r.rate,
      r.deliveredPerSec,
      r.deliveredPct,
      r.serverCpuPct,
      r.serverUsPerMsg,
      ratio(rows, r, 'raw-ws'),
      ratio(rows, r, 'plain-socketio'),
      r.serverRssMiB,
      r.loadCpuMaxPct,
      r.loadUsPerMsg,
      r.probeP50Ms,
      r.probeP99Ms,
      r.foreignCpuPct,
    ]);
    return {
      scenario: 'fanout',
      tables: [
        {
          title: `Fan-out (median of ${context.runs} run(s); µs/msg = server CPU time per delivered message)`,
          columns: ['target', 'clients', 'upd/s', 'delivered/s', 'deliv %', 'srv cpu %', 'srv µs/msg', '÷ raw ws', '÷ plain sio', 'srv RSS MiB', 'load cpu % (max)', 'load µs/msg', 'probe p50 ms', 'probe p99 ms', 'other cpu %'],
          rows: table,
        },
      ],
      data: { rows, runs: raw },
    };
  },
};
