/**
 * A measurement window is the difference of two snapshots of everything: server CPU and RSS from
 * /proc, each client process's counters and CPU, the publisher's counters.
 */
import { Histogram, type LatencySummary } from '../lib/histogram.js';
import { sampleMachine, sampleProcess, selfCpuUs, type MachineSample, type ProcSample } from '../lib/proc-stats.js';
import type { PublisherStats } from '../loadgen/publisher-protocol.js';
import type { WorkerStats } from '../loadgen/worker-protocol.js';
import type { PublisherHandle } from './publisher-handle.js';

/** A client group, or several (one per gateway of a cluster), seen as one. */
export interface StatsSource {
  stats(resetLatency: boolean): Promise<WorkerStats[]>;
}

export interface Snapshot {
  atMs: number;
  server: ProcSample;
  load: WorkerStats[];
  probes: WorkerStats[];
  publisher: PublisherStats;
  machine: MachineSample;
  harnessCpuUs: number;
}

/** `serverPids`: every server process (a cluster's gateways, engines and Redis), summed. */
export async function takeSnapshot(
  serverPids: readonly number[],
  load: StatsSource,
  probes: StatsSource,
  publisher: PublisherHandle,
  resetLatency: boolean,
): Promise<Snapshot> {
  const [loadStats, probeStats, publisherStats] = await Promise.all([
    load.stats(resetLatency),
    probes.stats(resetLatency),
    publisher.stats(),
  ]);
  return {
    atMs: performance.now(),
    server: sampleProcesses(serverPids),
    load: loadStats,
    probes: probeStats,
    publisher: publisherStats,
    machine: sampleMachine(),
    harnessCpuUs: selfCpuUs(),
  };
}

function sampleProcesses(pids: readonly number[]): ProcSample {
  const samples = pids.map((pid) => sampleProcess(pid));
  return { cpuUs: samples.reduce((s, x) => s + x.cpuUs, 0), rssKiB: samples.reduce((s, x) => s + x.rssKiB, 0) };
}

function deliveries(stats: readonly WorkerStats[]): number {
  return stats.reduce((sum, w) => sum + w.normal.marketUpdates + w.slow.marketUpdates, 0);
}

function cpuByPid(stats: readonly WorkerStats[]): Map<number, number> {
  return new Map(stats.map((w) => [w.pid, w.cpuUs]));
}

export interface WindowMetrics {
  seconds: number;
  published: number;
  deliveries: number;
  deliveredPerSec: number;
  serverCpuUs: number;
  /** server CPU in % of one core */
  serverCpuPct: number;
  serverCpuUsPerMsg: number;
  serverRssMiB: number;
  /** busiest load process, % of one core (100 = saturated) */
  loadCpuMaxPct: number;
  loadCpuUsPerMsg: number;
  probeCpuMaxPct: number;
  publisherCpuPct: number;
  /** machine CPU used by anything but the bench's own processes, % of one core (should be ~0) */
  foreignCpuPct: number;
  softirqPct: number;
  stealPct: number;
  probeLatency: LatencySummary;
  /** latency sampled on load clients (1 in N), when enabled */
  sampledLatency: LatencySummary;
}

/** `b` must have been taken with resetLatency so its histograms cover exactly the window. */
export function windowBetween(a: Snapshot, b: Snapshot): WindowMetrics {
  const seconds = (b.atMs - a.atMs) / 1000;
  const delivered = deliveries(b.load) + deliveries(b.probes) - deliveries(a.load) - deliveries(a.probes);
  const serverCpuUs = b.server.cpuUs - a.server.cpuUs;
  const cpuPct = (before: readonly WorkerStats[], after: readonly WorkerStats[]): number[] => {
    const start = cpuByPid(before);
    return after.map((w) => ((w.cpuUs - (start.get(w.pid) ?? w.cpuUs)) / 1e6 / seconds) * 100);
  };
  const loadCpu = cpuPct(a.load, b.load);
  const loadCpuUs = b.load.reduce((s, w) => s + w.cpuUs, 0) - a.load.reduce((s, w) => s + w.cpuUs, 0);
  const loadDelivered = deliveries(b.load) - deliveries(a.load);
  const merged = (stats: readonly WorkerStats[]): LatencySummary => {
    const h = new Histogram();
    for (const w of stats) h.addSparse(w.latency);
    return h.summary();
  };
  const totalCpu = (s: Snapshot): number =>
    s.server.cpuUs + s.harnessCpuUs + s.publisher.cpuUs + [...s.load, ...s.probes].reduce((sum, w) => sum + w.cpuUs, 0);
  const pct = (us: number): number => (us / 1e6 / seconds) * 100;
  return {
    seconds,
    published: b.publisher.accepted - a.publisher.accepted,
    deliveries: delivered,
    deliveredPerSec: delivered / seconds,
    serverCpuUs,
    serverCpuPct: (serverCpuUs / 1e6 / seconds) * 100,
    serverCpuUsPerMsg: delivered > 0 ? serverCpuUs / delivered : Number.NaN,
    serverRssMiB: b.server.rssKiB / 1024,
    loadCpuMaxPct: Math.max(0, ...loadCpu),
    loadCpuUsPerMsg: loadDelivered > 0 ? loadCpuUs / loadDelivered : Number.NaN,
    probeCpuMaxPct: Math.max(0, ...cpuPct(a.probes, b.probes)),
    publisherCpuPct: ((b.publisher.cpuUs - a.publisher.cpuUs) / 1e6 / seconds) * 100,
    foreignCpuPct: Math.max(0, pct(b.machine.busyUs - a.machine.busyUs - (b.machine.softirqUs - a.machine.softirqUs) - (totalCpu(b) - totalCpu(a)))),
    softirqPct: pct(b.machine.softirqUs - a.machine.softirqUs),
    stealPct: pct(b.machine.stealUs - a.machine.stealUs),
    probeLatency: merged(b.probes),
    sampledLatency: merged(b.load),
  };
}

/** Each probe process's latency over a window (a cluster has one probe process per gateway). */
export function probeLatencyByProcess(b: Snapshot): LatencySummary[] {
  return b.probes.map((w) => {
    const h = new Histogram();
    h.addSparse(w.latency);
    return h.summary();
  });
}

/** The probes' latency histogram of a window, for the .hgrm output. */
export function probeHistogram(b: Snapshot): Histogram {
  const h = new Histogram();
  for (const w of b.probes) h.addSparse(w.latency);
  return h;
}
