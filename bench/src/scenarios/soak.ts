/**
 * Soak (issue 16): one process, then the cluster (4 gateways, 2 engines, Redis, PostgreSQL; skipped
 * with a message without them), each for `--minutes` (default 30) under a steady mixed load —
 * market data to 2,000 sockets (≤ 1,000 per load process) and probes, crossing orders at 20/s from
 * many users (half REST on another gateway, half place-order) with book and tape subscribers, 1% of
 * the sockets dropped and reconnected every minute (traders resuming their private streams by seq),
 * a token refresh now and then, and a few sockets that stop reading (cut as slow consumers).
 * Every server process's /metrics is scraped every `sampleS`: RSS, V8 heap after the last major GC
 * (qx_heap_after_gc_bytes), event-loop lag p99, open handles and fds; the probes' (publish →
 * receive) and the traders' (place → own order-update) p99 over the first and last windows. At the
 * end, what a user would check: every accepted order is in the REST order list with its fills,
 * every private seq arrived once and in order. An SVG plot and the JSON go to bench/results.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { forkEntry, stopChild } from '../lib/children.js';
import { Histogram, type SparseCounts } from '../lib/histogram.js';
import { IpcClient } from '../lib/ipc.js';
import { LIFETIME_ENV } from '../lib/lifetime.js';
import { writeText } from '../lib/results.js';
import { parseGauges, renderSvg, slopeMiBPerHour, type PlotPanel, type Point } from '../lib/series.js';
import { round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { ClientGroup } from '../harness/client-group.js';
import { ClusterSession } from '../cluster/cluster-session.js';
import { clusterInfraMissing } from '../cluster/infra.js';
import { startCluster, type RunningCluster } from '../cluster/start-cluster.js';
import { gatewayBuilt, startTarget } from '../targets/start-target.js';
import type { RunningTarget } from '../targets/target.js';
import type { TradersConfig, TradersStats, TradersVerdict } from '../loadgen/soak-traders-protocol.js';
import type { CycleResult } from '../loadgen/worker-protocol.js';
import { COMMODITY } from './cells.js';
import type { Mode, Scenario, ScenarioContext, ScenarioReport } from './scenario.js';

export interface SoakPlan {
  minutes: number;
  gateways: number;
  engines: number;
  sockets: number;
  probesPerGateway: number;
  /** market updates/s (each to every socket) */
  rate: number;
  traders: number;
  orderRate: number;
  deadSockets: number;
  /** private events/s in all to the sockets that stopped reading (what makes them fall behind) */
  deadPrivateRate: number;
  sampleS: number;
  /** reconnects: `reconnectPct` of the sockets every `reconnectEveryS` */
  reconnectEveryS: number;
  reconnectPct: number;
  refreshEveryS: number;
}

const PER_PROCESS = 1000;
const DEFAULT_MINUTES = 30;
/** targets printed against */
export const TARGETS = { heapSlopeMiBPerHour: 2, p99GrowthPct: 20, lost: 0 };

export function soakPlan(mode: Mode, minutes: number | null, rate: number | null, clients: number[] | null): SoakPlan {
  const tiny = mode === 'tiny';
  const m = minutes ?? (tiny ? 0.5 : DEFAULT_MINUTES);
  return {
    minutes: m,
    gateways: tiny ? 2 : 4,
    engines: 2,
    sockets: clients?.[0] ?? (tiny ? 40 : 2000),
    probesPerGateway: 2,
    rate: rate ?? (tiny ? 5 : 5),
    traders: tiny ? 10 : 100,
    orderRate: tiny ? 5 : 20,
    deadSockets: tiny ? 2 : 4,
    deadPrivateRate: tiny ? 20 : 100,
    sampleS: tiny ? 2 : m <= 5 ? 5 : 10,
    reconnectEveryS: tiny ? 10 : 60,
    reconnectPct: 1,
    refreshEveryS: tiny ? 5 : 30,
  };
}

/** Warm-up left out of the slopes, and the width of the first / last p99 windows (5 min, less on short runs). */
export function windows(minutes: number): { warmupS: number; windowS: number } {
  const total = minutes * 60;
  return { warmupS: Math.min(300, total / 4), windowS: Math.min(300, total / 4) };
}

const GAUGES = {
  rss: 'qx_process_resident_memory_bytes',
  heapAfterGc: 'qx_heap_after_gc_bytes',
  majorGcs: 'qx_gc_major_total',
  heapUsed: 'qx_nodejs_heap_size_used_bytes',
  external: 'qx_nodejs_external_memory_bytes',
  lagP99: 'qx_nodejs_eventloop_lag_p99_seconds',
  handles: 'qx_nodejs_active_handles_total',
  fds: 'qx_process_open_fds',
  slowCut: 'qx_slow_consumer_disconnects_total',
  connections: 'qx_connections',
} as const;
type GaugeName = keyof typeof GAUGES;
export type ProcessSample = Record<GaugeName, number>;

interface ServerProcess {
  name: string;
  /** where its /metrics answers (the admin port when the node has one) */
  metricsUrl: string;
}

async function scrape(p: ServerProcess): Promise<ProcessSample | null> {
  try {
    const res = await fetch(new URL('/metrics', p.metricsUrl), { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const g = parseGauges(await res.text(), Object.values(GAUGES));
    return Object.fromEntries(Object.entries(GAUGES).map(([k, name]) => [k, g[name] ?? Number.NaN])) as ProcessSample;
  } catch {
    return null;
  }
}

export interface Sample {
  /** seconds since the load started */
  t: number;
  processes: Record<string, ProcessSample | null>;
  /** over the interval ending here */
  probeP99Ms: number;
  orderP99Ms: number;
  probe: SparseCounts;
  order: SparseCounts;
}

export interface ProcessReport {
  name: string;
  rssStartMiB: number;
  rssEndMiB: number;
  rssSlopeMiBPerHour: number;
  heapAfterGcStartMiB: number;
  heapAfterGcEndMiB: number;
  heapSlopeMiBPerHour: number;
  lagP99MaxMs: number;
  handlesStart: number;
  handlesEnd: number;
  fdsStart: number;
  fdsEnd: number;
  /** 8 s after every socket closed: what stays (RSS vs the heap and external memory) */
  afterClose: { rssMiB: number; heapUsedMiB: number; heapAfterGcMiB: number; externalMiB: number; connections: number } | null;
}

export interface SoakRun {
  deployment: 'one process' | 'cluster';
  plan: SoakPlan;
  warmupS: number;
  windowS: number;
  durationS: number;
  processes: ProcessReport[];
  probeP99FirstMs: number;
  probeP99LastMs: number;
  orderP99FirstMs: number;
  orderP99LastMs: number;
  traders: TradersStats;
  verdict: TradersVerdict;
  reconnects: { market: CycleResult; traders: CycleResult };
  refreshes: number;
  slowConsumersCut: number;
  marketAccepted: number;
  /** the sum of what the invariants found wrong: must be 0 */
  lost: number;
  met: { heap: boolean; p99: boolean; lost: boolean };
  samples: Sample[];
}

class TradersHandle {
  private readonly ipc: IpcClient;
  private constructor(private readonly child: ReturnType<typeof forkEntry>) {
    this.ipc = new IpcClient(child, 'soak traders');
  }
  static start(lifetimeMs: number): TradersHandle {
    const child = forkEntry('loadgen/soak-traders', { [LIFETIME_ENV]: String(lifetimeMs) });
    child.stdout?.resume();
    return new TradersHandle(child);
  }
  start(config: TradersConfig): Promise<{ ready: number }> {
    return this.ipc.request({ type: 'start', config }, 120_000);
  }
  stats(resetLatency: boolean): Promise<TradersStats> {
    return this.ipc.request({ type: 'stats', resetLatency });
  }
  cycle(count: number): Promise<CycleResult> {
    return this.ipc.request({ type: 'cycle', count }, 120_000);
  }
  refresh(): Promise<void> {
    return this.ipc.request({ type: 'refresh' });
  }
  stopOrders(): Promise<void> {
    return this.ipc.request({ type: 'stop-orders' }, 120_000);
  }
  verify(): Promise<TradersVerdict> {
    return this.ipc.request({ type: 'verify' }, 600_000);
  }
  async close(): Promise<void> {
    await this.ipc.request({ type: 'close' }, 2000).catch(() => undefined);
    await stopChild(this.child, 3000);
  }
}

function p99Of(samples: readonly Sample[], pick: (s: Sample) => SparseCounts): number {
  const h = new Histogram();
  for (const s of samples) h.addSparse(pick(s));
  return h.summary().count > 0 ? h.summary().p99Ms : Number.NaN;
}

function addCycle(a: CycleResult, b: CycleResult): CycleResult {
  return { dropped: a.dropped + b.dropped, reconnected: a.reconnected + b.reconnected, failed: a.failed + b.failed };
}

const MiB = 1048576;

function processReport(name: string, samples: readonly Sample[], warmupS: number, afterClose: ProcessSample | null): ProcessReport {
  const of = (k: GaugeName): Point[] => samples.flatMap((s) => (s.processes[name] ? [[s.t, s.processes[name][k]] as Point] : []));
  const valid = (k: GaugeName): Point[] => of(k).filter(([, v]) => Number.isFinite(v) && v > 0);
  const first = (k: GaugeName): number => valid(k)[0]?.[1] ?? Number.NaN;
  const last = (k: GaugeName): number => valid(k).at(-1)?.[1] ?? Number.NaN;
  return {
    name,
    rssStartMiB: round(first('rss') / MiB, 1),
    rssEndMiB: round(last('rss') / MiB, 1),
    rssSlopeMiBPerHour: round(slopeMiBPerHour(of('rss'), warmupS), 2),
    heapAfterGcStartMiB: round(first('heapAfterGc') / MiB, 1),
    heapAfterGcEndMiB: round(last('heapAfterGc') / MiB, 1),
    heapSlopeMiBPerHour: round(slopeMiBPerHour(of('heapAfterGc'), warmupS), 2),
    lagP99MaxMs: round(Math.max(...valid('lagP99').map(([, v]) => v * 1000)), 1),
    handlesStart: first('handles'),
    handlesEnd: last('handles'),
    fdsStart: first('fds'),
    fdsEnd: last('fds'),
    afterClose: afterClose
      ? {
          rssMiB: round(afterClose.rss / MiB, 1),
          heapUsedMiB: round(afterClose.heapUsed / MiB, 1),
          heapAfterGcMiB: round(afterClose.heapAfterGc / MiB, 1),
          externalMiB: round(afterClose.external / MiB, 1),
          connections: afterClose.connections,
        }
      : null,
  };
}

async function runDeployment(context: ScenarioContext, deployment: SoakRun['deployment'], plan: SoakPlan): Promise<SoakRun> {
  const durationMs = plan.minutes * 60_000;
  const lifetimeMs = durationMs + 15 * 60_000;
  const single: RunningTarget | null = deployment === 'one process' ? await startTarget('gateway') : null;
  let cluster: RunningCluster | null = null;
  try {
    cluster = single ? null : await startCluster('cluster', { gateways: plan.gateways, engines: plan.engines });
  } catch (error) {
    await single?.stop();
    throw error;
  }
  const targets = cluster?.gateways ?? [single!];
  const serverProcesses: ServerProcess[] = cluster
    ? [...cluster.gateways.map((g, i) => ({ name: `gateway-${i + 1}`, metricsUrl: g.baseUrl })), ...cluster.engines.map((e) => ({ name: e.name, metricsUrl: e.baseUrl }))]
    : [{ name: 'gateway', metricsUrl: single!.baseUrl }];
  const serverPids = (): number[] => cluster?.serverPids() ?? [single!.pid];
  const samples: Sample[] = [];
  let afterClose: Record<string, ProcessSample | null> = {};
  try {
    const session = await ClusterSession.open({
      targets,
      serverPids,
      publishTo: 0,
      loadClients: plan.sockets,
      probesPerTarget: plan.probesPerGateway,
      perProcess: PER_PROCESS,
      markets: [COMMODITY],
      ordersOn: null,
      orderVia: null,
      connectConcurrency: 64,
      lifetimeMs,
    });
    const dead = ClientGroup.start(targets[0]!, {
      role: 'dead',
      namespace: 'soak',
      total: plan.deadSockets,
      perProcess: plan.deadSockets,
      sourceBase: 240,
      fleet: { auth: 'handshake', markets: [COMMODITY], orders: true, latency: 'sampled', sampleEvery: 0, trackSeq: false, connectConcurrency: 8, connectTimeoutMs: 30_000 },
      lifetimeMs,
    });
    const traders = TradersHandle.start(lifetimeMs);
    let closed: Promise<unknown> | null = null;
    const closeClients = (): Promise<unknown> => (closed ??= Promise.all([session.close(), dead.close(), traders.close()]));
    try {
      const deadConnected = await dead.connect();
      if (deadConnected.failed > 0) throw new Error(`slow-consumer sockets failed to connect: ${JSON.stringify(deadConnected.errors)}`);
      await traders.start({
        urls: targets.map((t) => t.baseUrl),
        secret: targets[0]!.jwtSecret,
        users: plan.traders,
        rate: plan.orderRate,
        commodity: 'carbon',
        price: 60,
        bookEvery: 4,
        sourceBase: 245,
        connectTimeoutMs: 60_000,
      });
      context.log(`  ${deployment}: ${session.subscribers} market sockets on ${targets.length} gateway(s), ${plan.traders} traders, ${plan.deadSockets} sockets that stop reading; ${plan.minutes} min`);
      // the slow consumers stop reading at once: their private events pile up until they are cut
      await dead.pause(plan.deadSockets);
      const publishing = session.publisher.run(targets[0]!, {
        rate: plan.rate,
        durationMs: durationMs + 5000,
        commodities: [COMMODITY],
        maxInFlight: 16,
        privateUsers: dead.userIds(),
        privateRate: plan.deadPrivateRate,
      });
      const started = performance.now();
      const elapsedS = (): number => (performance.now() - started) / 1000;
      await session.probes.stats(true);
      await traders.stats(true);
      let reconnects = { market: { dropped: 0, reconnected: 0, failed: 0 }, traders: { dropped: 0, reconnected: 0, failed: 0 } };
      let refreshes = 0;
      let nextReconnect = plan.reconnectEveryS;
      let nextRefresh = plan.refreshEveryS;
      const background = new Set<Promise<void>>();
      const spawn = (p: Promise<void>): void => {
        const q = p.catch((e: unknown) => context.log(`  ${deployment}: ${e instanceof Error ? e.message : String(e)}`)).finally(() => background.delete(q));
        background.add(q);
      };
      let nextSample = plan.sampleS;
      while (elapsedS() < plan.minutes * 60) {
        await sleep(Math.max(0, (nextSample - elapsedS()) * 1000));
        nextSample += plan.sampleS;
        const t = elapsedS();
        const [scrapes, probes, trader] = await Promise.all([Promise.all(serverProcesses.map(scrape)), session.probes.stats(true), traders.stats(true)]);
        const probe = new Histogram();
        for (const w of probes) probe.addSparse(w.latency);
        const order = new Histogram();
        order.addSparse(trader.orderLatency);
        samples.push({
          t: round(t, 1),
          processes: Object.fromEntries(serverProcesses.map((p, i) => [p.name, scrapes[i] ?? null])),
          probeP99Ms: probe.summary().count > 0 ? probe.summary().p99Ms : Number.NaN,
          orderP99Ms: order.summary().count > 0 ? order.summary().p99Ms : Number.NaN,
          probe: probe.toSparse(),
          order: order.toSparse(),
        });
        if (t >= nextReconnect) {
          nextReconnect += plan.reconnectEveryS;
          const market = Math.max(1, Math.round((session.subscribers * plan.reconnectPct) / 100));
          const mine = Math.max(1, Math.round((plan.traders * plan.reconnectPct) / 100));
          spawn(
            (async () => {
              const groups = session.load.groups;
              const per = Math.ceil(market / Math.max(1, groups.length));
              const [m, tr] = await Promise.all([Promise.all(groups.map((g) => g.cycle(per))), traders.cycle(mine)]);
              reconnects = { market: m.reduce(addCycle, reconnects.market), traders: addCycle(reconnects.traders, tr) };
            })(),
          );
        }
        if (t >= nextRefresh) {
          nextRefresh += plan.refreshEveryS;
          refreshes++;
          spawn(traders.refresh());
        }
      }
      await Promise.all(background);
      await traders.stopOrders();
      await session.publisher.halt();
      const published = await publishing;
      const traderStats = await traders.stats(false);
      const verdict = await traders.verify();
      const endScrape = await Promise.all(serverProcesses.map(scrape));
      const slowConsumersCut = endScrape.reduce((s, x) => s + (x && Number.isFinite(x.slowCut) ? x.slowCut : 0), 0);
      // every socket closes; what the servers still hold 8 s later
      await closeClients();
      await sleep(8000);
      afterClose = Object.fromEntries((await Promise.all(serverProcesses.map(scrape))).map((s, i) => [serverProcesses[i]!.name, s]));

      const { warmupS, windowS } = windows(plan.minutes);
      const durationS = samples.at(-1)?.t ?? 0;
      // a loaded machine can stretch the sampling: each window holds at least one sample
      const firstW = samples.filter((s, i) => i === 0 || s.t <= windowS + 1e-9);
      const lastW = samples.filter((s, i) => i === samples.length - 1 || s.t > durationS - windowS);
      const processes = serverProcesses.map((p) => processReport(p.name, samples, warmupS, afterClose[p.name] ?? null));
      const lost =
        verdict.missing + verdict.fillMismatches + verdict.updatesMissing + verdict.privateMissing + verdict.privateDuplicates + verdict.privateOutOfOrder + traderStats.resumeFailed;
      const run: SoakRun = {
        deployment,
        plan,
        warmupS,
        windowS,
        durationS,
        processes,
        probeP99FirstMs: p99Of(firstW, (s) => s.probe),
        probeP99LastMs: p99Of(lastW, (s) => s.probe),
        orderP99FirstMs: p99Of(firstW, (s) => s.order),
        orderP99LastMs: p99Of(lastW, (s) => s.order),
        traders: traderStats,
        verdict,
        reconnects,
        refreshes,
        slowConsumersCut,
        marketAccepted: published.accepted,
        lost,
        met: { heap: false, p99: false, lost: lost === 0 && verdict.accepted > 0 },
        samples,
      };
      const within = (first: number, last: number): boolean => Number.isFinite(first) && Number.isFinite(last) && last <= first * (1 + TARGETS.p99GrowthPct / 100);
      run.met.heap = processes.every((p) => Number.isFinite(p.heapSlopeMiBPerHour) && p.heapSlopeMiBPerHour <= TARGETS.heapSlopeMiBPerHour);
      run.met.p99 = within(run.probeP99FirstMs, run.probeP99LastMs) && within(run.orderP99FirstMs, run.orderP99LastMs);
      context.log(
        `  ${deployment}: heap slope ${processes.map((p) => `${p.name} ${p.heapSlopeMiBPerHour}`).join(', ')} MiB/h; probe p99 ${round(run.probeP99FirstMs, 1)} → ${round(run.probeP99LastMs, 1)} ms, ` +
          `order p99 ${round(run.orderP99FirstMs, 1)} → ${round(run.orderP99LastMs, 1)} ms; ${verdict.accepted} orders accepted, lost ${lost}; ${slowConsumersCut} slow consumers cut`,
      );
      if (lost > 0) for (const e of verdict.examples) context.log(`    ${e}`);
      if (Object.keys(traderStats.refused).length > 0) context.log(`    orders refused: ${JSON.stringify(traderStats.refused)}`);
      return run;
    } finally {
      await closeClients();
    }
  } finally {
    await cluster?.stop();
    await single?.stop();
  }
}

export function plot(run: SoakRun): string {
  const names = run.processes.map((p) => p.name);
  const series = (k: GaugeName, scale: number): PlotPanel['series'] =>
    names.map((n) => ({ label: n, points: run.samples.map((s): Point => [s.t, s.processes[n] && s.processes[n][k] > 0 ? s.processes[n][k] / scale : Number.NaN]) }));
  return renderSvg(`Soak, ${run.deployment}: ${run.plan.minutes} min, ${run.plan.sockets} sockets at ${run.plan.rate} upd/s, ${run.plan.orderRate} orders/s`, [
    { title: 'RSS', unit: 'MiB', series: series('rss', MiB) },
    { title: 'V8 heap after the last major GC', unit: 'MiB', series: series('heapAfterGc', MiB) },
    {
      title: `p99 per ${run.plan.sampleS} s sample`,
      unit: 'ms',
      series: [
        { label: 'probe publish→receive', points: run.samples.map((s): Point => [s.t, s.probeP99Ms]) },
        { label: 'order place→own update', points: run.samples.map((s): Point => [s.t, s.orderP99Ms]) },
        ...names.map((n) => ({ label: `lag p99 ${n}`, points: run.samples.map((s): Point => [s.t, (s.processes[n]?.lagP99 ?? Number.NaN) * 1000]) })),
      ],
    },
  ]);
}

export const soak: Scenario = {
  name: 'soak',
  description: 'long steady mixed load (one process, then the cluster): memory slopes after warm-up, p99 first vs last minutes, nothing lost',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    if (!gatewayBuilt()) throw new Error('the soak scenario needs the gateway built (npm run build)');
    const plan = soakPlan(context.mode, context.minutes ?? null, context.rate, context.clients);
    const runs: SoakRun[] = [];
    runs.push(await runDeployment(context, 'one process', plan));
    const missing = await clusterInfraMissing();
    if (missing === null) runs.push(await runDeployment(context, 'cluster', plan));
    else context.log(`  cluster skipped: ${missing}`);
    for (const run of runs) {
      if (context.resultsDir) context.log(`  plot: ${writeText(`soak-${context.mode}-${run.deployment.replace(' ', '-')}.svg`, plot(run), context.resultsDir)}`);
    }
    const yes = (b: boolean): string => (b ? 'met' : 'missed');
    const processRows: Cell[][] = runs.flatMap((r) =>
      r.processes.map((p) => [
        r.deployment,
        p.name,
        `${p.rssStartMiB} → ${p.rssEndMiB}`,
        p.rssSlopeMiBPerHour,
        `${p.heapAfterGcStartMiB} → ${p.heapAfterGcEndMiB}`,
        p.heapSlopeMiBPerHour,
        p.lagP99MaxMs,
        `${p.handlesStart} → ${p.handlesEnd}`,
        `${p.fdsStart} → ${p.fdsEnd}`,
        p.afterClose ? `${p.afterClose.rssMiB} / ${p.afterClose.heapUsedMiB} / ${p.afterClose.externalMiB}` : 'n/a',
        yes(Number.isFinite(p.heapSlopeMiBPerHour) && p.heapSlopeMiBPerHour <= TARGETS.heapSlopeMiBPerHour),
      ]),
    );
    const runRows: Cell[][] = runs.map((r) => [
      r.deployment,
      round(r.durationS / 60, 1),
      `${round(r.probeP99FirstMs, 2)} → ${round(r.probeP99LastMs, 2)}`,
      `${round(r.orderP99FirstMs, 2)} → ${round(r.orderP99LastMs, 2)}`,
      `${r.verdict.accepted} (${r.verdict.filledOrders} filled, ${r.verdict.fills} fills)`,
      `${r.verdict.missing} / ${r.verdict.fillMismatches} / ${r.verdict.updatesMissing}`,
      `${r.verdict.privateSeqs} / ${r.verdict.privateMissing} / ${r.verdict.privateDuplicates} / ${r.verdict.privateOutOfOrder}`,
      `${r.reconnects.market.reconnected + r.reconnects.traders.reconnected}/${r.reconnects.market.dropped + r.reconnects.traders.dropped} (${r.traders.resumed} resumed)`,
      `${r.traders.refreshOk}/${r.refreshes}`,
      `${r.slowConsumersCut}/${r.plan.deadSockets}`,
      r.lost,
      `${yes(r.met.heap)} / ${yes(r.met.p99)} / ${yes(r.met.lost)}`,
    ]);
    const w = windows(plan.minutes);
    return {
      scenario: 'soak',
      tables: [
        {
          title: `Soak per server process (slopes by least squares after ${round(w.warmupS / 60, 2)} min of warm-up; target heap after GC ≤ ${TARGETS.heapSlopeMiBPerHour} MiB/h)`,
          columns: ['deployment', 'process', 'RSS MiB start → end', 'RSS MiB/h', 'heap after GC MiB start → end', 'heap MiB/h', 'lag p99 max ms', 'handles', 'fds', '8 s after close: RSS / heap used / external MiB', 'heap target'],
          rows: processRows,
        },
        {
          title: `Soak: p99 over the first and last ${round(w.windowS / 60, 2)} min (target: last within ${TARGETS.p99GrowthPct}% of first) and the invariants (target 0 lost)`,
          columns: ['deployment', 'minutes', 'probe p99 ms first → last', 'order→update p99 ms first → last', 'orders accepted', 'not listed / fills ≠ / no update', 'private seqs / missing / dup / out of order', 'reconnected', 'refreshed', 'slow cut', 'lost', 'heap / p99 / lost'],
          rows: runRows,
        },
      ],
      data: { targets: TARGETS, runs },
    };
  },
};
