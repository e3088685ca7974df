/**
 * The core measurement: offer `rate` market updates/s for warmup + window, snapshot at both ends
 * of the window, optionally run the private-path probe inside it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderProbeConfig, OrderProbeStats, OrderVia } from '../loadgen/worker-protocol.js';
import type { RunningTarget } from '../targets/target.js';
import type { PublisherHandle } from './publisher-handle.js';
import { probeHistogram, probeLatencyByProcess, takeSnapshot, windowBetween, type StatsSource, type WindowMetrics } from './snapshot.js';
import type { Histogram, LatencySummary } from '../lib/histogram.js';
import { hopsBetween, scrapeHops, type HopStats } from './order-path.js';

/** What a measurement needs of a session: one server (Session) or a cluster (ClusterSession). */
export interface MarketSession {
  /** where the publisher posts */
  readonly publishTarget: RunningTarget;
  readonly serverPids: readonly number[];
  readonly load: StatsSource;
  readonly probes: StatsSource & { orders(config: OrderProbeConfig): Promise<OrderProbeStats> };
  readonly publisher: PublisherHandle;
  readonly subscribers: number;
  /** where the order probe places its orders (default: the probes' own server) */
  readonly orderBaseUrl?: string | undefined;
  /** the gateways whose `/metrics` time the order path hop by hop */
  readonly gatewayUrls: readonly string[];
}

export interface MarketLoad {
  rate: number;
  warmupMs: number;
  measureMs: number;
  commodities: string[];
  maxInFlight: number;
  /** run the order probe during the window at this many orders/s (0: no) */
  orderRate: number;
  /** how the probe places them (default REST); both: side by side on alternate sockets */
  orderVia?: OrderVia[];
}

export interface MarketMeasurement {
  window: WindowMetrics;
  probeHistogram: Histogram;
  /** per probe process (per gateway in a cluster) */
  probeLatencyByProcess: LatencySummary[];
  /** published in the window × subscribers */
  expectedDeliveries: number;
  publisherLate: number;
  publisherErrors: Record<string, number>;
  orders: OrderProbeStats | null;
  /** the order path hop by hop over the window, as the gateways timed it (empty without orders or the histogram) */
  hops: HopStats[];
  /** whole run, after a short drain: every accepted update × subscribers vs what arrived */
  totals: { accepted: number; delivered: number };
}

/**
 * The order probe trades another market than the fan-out stream: the gateway's engine publishes
 * market data from its real book, which would otherwise add deliveries nobody published.
 */
export const ORDER_BODY = { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 1, price: 60 };

export async function measureMarket(session: MarketSession, load: MarketLoad): Promise<MarketMeasurement> {
  const tailMs = 300;
  const run = session.publisher.run(session.publishTarget, {
    rate: load.rate,
    durationMs: load.warmupMs + load.measureMs + tailMs,
    commodities: load.commodities,
    maxInFlight: load.maxInFlight,
    privateUsers: [],
    privateRate: 0,
  });
  await sleep(load.warmupMs);
  const a = await takeSnapshot(session.serverPids, session.load, session.probes, session.publisher, true);
  const hopsBefore = load.orderRate > 0 ? await scrapeHops(session.gatewayUrls) : null;
  const orders =
    load.orderRate > 0
      ? session.probes.orders({ rate: load.orderRate, durationMs: load.measureMs - 600, body: ORDER_BODY, restBaseUrl: session.orderBaseUrl, via: load.orderVia })
      : Promise.resolve(null);
  await sleep(load.measureMs);
  const b = await takeSnapshot(session.serverPids, session.load, session.probes, session.publisher, true);
  const [final, orderStats] = await Promise.all([run, orders]);
  const hops = hopsBefore ? hopsBetween(hopsBefore, await scrapeHops(session.gatewayUrls)) : [];
  await sleep(300);
  const end = await takeSnapshot(session.serverPids, session.load, session.probes, session.publisher, false);
  const delivered = [...end.load, ...end.probes].reduce((s, w) => s + w.normal.marketUpdates + w.slow.marketUpdates, 0);
  const window = windowBetween(a, b);
  const errors = Object.fromEntries(Object.entries(final.statuses).filter(([status]) => !status.startsWith('2')));
  return {
    window,
    probeHistogram: probeHistogram(b),
    probeLatencyByProcess: probeLatencyByProcess(b),
    expectedDeliveries: window.published * session.subscribers,
    publisherLate: final.late,
    publisherErrors: errors,
    orders: orderStats,
    hops,
    totals: { accepted: final.accepted, delivered },
  };
}
