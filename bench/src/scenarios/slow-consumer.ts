/**
 * Scenario 4, slow consumers: some clients stop reading while the rest go on. Checks that server
 * memory stays bounded, the others' latency is unaffected, market data to the slow ones is
 * conflated (they skip to the latest), no private event to them is lost, and a client past the
 * limit is disconnected with its reason. "stall" clients stop reading for a while and resume;
 * "dead" clients never read again until the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from '../lib/histogram.js';
import { readRssKiB } from '../lib/proc-stats.js';
import { round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { ClientGroup } from '../harness/client-group.js';
import { Session } from '../harness/session.js';
import type { GroupStats, WorkerStats } from '../loadgen/worker-protocol.js';
import type { TargetName } from '../targets/target.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

interface Plan {
  clients: number;
  probes: number;
  stalled: number;
  dead: number;
  rate: number;
  privateRate: number;
  beforeMs: number;
  stallMs: number;
  afterMs: number;
}

const PLANS = {
  tiny: { clients: 20, probes: 2, stalled: 2, dead: 2, rate: 20, privateRate: 4, beforeMs: 800, stallMs: 1500, afterMs: 800 },
  quick: { clients: 200, probes: 10, stalled: 10, dead: 10, rate: 100, privateRate: 20, beforeMs: 1500, stallMs: 5000, afterMs: 2000 },
  full: { clients: 300, probes: 20, stalled: 50, dead: 50, rate: 100, privateRate: 50, beforeMs: 5000, stallMs: 60_000, afterMs: 5000 },
} satisfies Record<string, Plan>;

const MARKETS = ['crude_oil', 'brent', 'natural_gas', 'power'];

export interface SlowConsumerRow {
  target: TargetName;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** RSS growth over the second half of the stall */
  rssSlopeMiBPerMin: number;
  probeP99BeforeMs: number;
  probeP99DuringMs: number;
  normalGaps: number;
  stalledMarketPct: number;
  stalledGaps: number;
  stalledCaughtUp: boolean;
  privateExpected: number;
  privateReceived: number;
  privateGaps: number;
  deadDisconnected: number;
  deadReasons: string;
}

/** Sums groups of sockets; a socket counts in `normal` until it is paused, in `slow` after. */
function merge(groups: GroupStats[]): GroupStats {
  const out: GroupStats = { sockets: 0, open: 0, marketUpdates: 0, orderUpdates: 0, otherEvents: {}, marketSeqGaps: 0, orderSeqGaps: 0, lastMarketSeq: {}, closes: {} };
  for (const g of groups) {
    out.sockets += g.sockets;
    out.open += g.open;
    out.marketUpdates += g.marketUpdates;
    out.orderUpdates += g.orderUpdates;
    out.marketSeqGaps += g.marketSeqGaps;
    out.orderSeqGaps += g.orderSeqGaps;
    for (const [k, v] of Object.entries(g.closes)) out.closes[k] = (out.closes[k] ?? 0) + v;
    for (const [k, v] of Object.entries(g.lastMarketSeq)) out.lastMarketSeq[k] = Math.min(out.lastMarketSeq[k] ?? v, v);
  }
  return out;
}

function p99(stats: WorkerStats[]): number {
  const h = new Histogram();
  for (const w of stats) h.addSparse(w.latency);
  return h.summary().p99Ms;
}

/** MiB per minute, least squares over the samples' second half. */
function slope(samples: Array<[number, number]>): number {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 2) return Number.NaN;
  const n = half.length;
  const mx = half.reduce((s, [t]) => s + t, 0) / n;
  const my = half.reduce((s, [, v]) => s + v, 0) / n;
  const num = half.reduce((s, [t, v]) => s + (t - mx) * (v - my), 0);
  const den = half.reduce((s, [t]) => s + (t - mx) ** 2, 0);
  return den > 0 ? (num / den) * 60_000 : Number.NaN;
}

async function runOnce(target: TargetName, plan: Plan): Promise<{ row: SlowConsumerRow; rssSeries: Array<[number, number]> }> {
  const session = await Session.open({
    target,
    loadClients: plan.clients,
    probeClients: plan.probes,
    perProcess: PER_PROCESS,
    markets: MARKETS,
    probeOrders: false,
    sampleEvery: 0,
    trackSeq: true,
    connectConcurrency: 64,
    lifetimeMs: 10 * 60_000,
  });
  const slowGroup = (role: 'stall' | 'dead', total: number, sourceBase: number): ClientGroup =>
    ClientGroup.start(session.target, {
      role,
      total,
      perProcess: total,
      sourceBase,
      fleet: { auth: 'handshake', markets: MARKETS, orders: true, latency: 'sampled', sampleEvery: 0, trackSeq: true, connectConcurrency: 16, connectTimeoutMs: 30_000 },
      lifetimeMs: 10 * 60_000,
    });
  const stall = slowGroup('stall', plan.stalled, 40);
  const dead = slowGroup('dead', plan.dead, 50);
  try {
    await Promise.all([stall.connect(), dead.connect()]);
    const pid = session.target.pid;
    const run = session.publisher.run(session.target, {
      rate: plan.rate,
      durationMs: 1000 + plan.beforeMs + plan.stallMs + plan.afterMs,
      commodities: MARKETS,
      maxInFlight: 8,
      privateUsers: stall.userIds(),
      privateRate: plan.privateRate,
    });
    await sleep(1000);
    await session.probes.stats(true);
    await sleep(plan.beforeMs);
    const rssBefore = readRssKiB(pid);
    const probeBefore = p99(await session.probes.stats(true));

    await Promise.all([stall.pause(plan.stalled), dead.pause(plan.dead)]);
    const series: Array<[number, number]> = [];
    const stallStart = performance.now();
    while (performance.now() - stallStart < plan.stallMs) {
      series.push([performance.now() - stallStart, readRssKiB(pid) / 1024]);
      await sleep(250);
    }
    const probeDuring = p99(await session.probes.stats(true));
    await stall.resume();
    const published = await run;
    await sleep(500);
    await dead.resume();
    await sleep(2000);

    const [loadStats, probeStats, stallStats, deadStats] = await Promise.all([
      session.load.stats(false),
      session.probes.stats(false),
      stall.stats(false),
      dead.stats(false),
    ]);
    const normal = merge([...loadStats, ...probeStats].map((w) => w.normal));
    const stalled = merge(stallStats.flatMap((w) => [w.normal, w.slow]));
    const gone = merge(deadStats.flatMap((w) => [w.normal, w.slow]));
    const caughtUp = MARKETS.every((m) => (stalled.lastMarketSeq[m] ?? -1) >= (normal.lastMarketSeq[m] ?? 0));
    const reasons = Object.entries(gone.closes)
      .map(([k, v]) => `${v}× ${k}`)
      .join('; ');
    const row: SlowConsumerRow = {
      target,
      rssBeforeMiB: round(rssBefore / 1024, 1),
      rssPeakMiB: round(Math.max(...series.map(([, v]) => v)), 1),
      rssSlopeMiBPerMin: round(slope(series), 1),
      probeP99BeforeMs: probeBefore,
      probeP99DuringMs: probeDuring,
      normalGaps: normal.marketSeqGaps,
      stalledMarketPct: round((100 * stalled.marketUpdates) / Math.max(1, published.accepted * plan.stalled), 1),
      stalledGaps: stalled.marketSeqGaps,
      stalledCaughtUp: caughtUp,
      privateExpected: published.privateAccepted,
      privateReceived: stalled.orderUpdates,
      privateGaps: stalled.orderSeqGaps,
      deadDisconnected: plan.dead - gone.open,
      deadReasons: reasons || 'none',
    };
    return { row, rssSeries: series };
  } finally {
    await Promise.all([stall.close(), dead.close()]);
    await session.close();
  }
}

export const slowConsumer: Scenario = {
  name: 'slow-consumer',
  description: 'clients stop reading: bounded server memory, others unaffected, conflation, no private loss, disconnect with reason',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const plan: Plan = PLANS[context.mode];
    const rows: SlowConsumerRow[] = [];
    const series: Record<string, Array<[number, number]>> = {};
    for (const target of context.targets) {
      const { row, rssSeries } = await runOnce(target, plan);
      context.log(`  slow-consumer-${target}: RSS ${row.rssBeforeMiB} → peak ${row.rssPeakMiB} MiB (${row.rssSlopeMiBPerMin} MiB/min), dead: ${row.deadReasons}`);
      rows.push(row);
      series[target] = rssSeries;
    }
    const table: Cell[][] = rows.map((r) => [
      r.target,
      r.rssBeforeMiB,
      r.rssPeakMiB,
      r.rssSlopeMiBPerMin,
      r.probeP99BeforeMs,
      r.probeP99DuringMs,
      r.normalGaps,
      r.stalledMarketPct,
      r.stalledGaps,
      r.stalledCaughtUp ? 'yes' : 'no',
      `${r.privateReceived}/${r.privateExpected}`,
      r.privateGaps,
      `${r.deadDisconnected}/${plan.dead}`,
    ]);
    return {
      scenario: 'slow-consumer',
      tables: [
        {
          title: `Slow consumers: ${plan.stalled} stall ${plan.stallMs / 1000} s then resume, ${plan.dead} never read; ${plan.clients} others at ${plan.rate} upd/s over ${MARKETS.length} markets`,
          columns: ['target', 'RSS before MiB', 'RSS peak MiB', 'RSS slope MiB/min', 'probe p99 before', 'probe p99 during', 'others: gaps', 'stalled: mkt %', 'stalled: gaps', 'caught up', 'private recv/sent', 'private gaps', 'dead disconnected'],
          rows: table,
        },
      ],
      data: { plan, rows, rssSeries: series },
    };
  },
};
