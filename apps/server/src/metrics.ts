/**
 * Prometheus metrics (prom-client). Gauges that describe current state are computed when scraped,
 * so the hot paths only bump counters. Every metric the alert rules (deploy/prometheus) and the
 * dashboard (deploy/grafana) name is registered from the start, with its labels at zero, so a
 * scrape shows it before its first event (test/operations-metrics.test.ts checks that).
 */
import { statfs } from 'node:fs/promises';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DATA_EVENTS } from '@qx/protocol';
import type { PathTimes } from './order-path.js';

export interface GaugeSources {
  connections(): number;
  authenticated(): number;
  subscriptions(): Record<string, number>;
}

/**
 * The hops of an order's private path, each timed by `qx_order_path_seconds{hop}`: the gateway
 * received the request → handed it to the engine (`queued`) → the engine started it (`started`)
 * → committed its step (`committed`) → handed the events to the bus (`published`) → the owner's
 * gateway received them (`delivered`) → wrote the order-update to the socket (`written`); `total`
 * from the first to the last.
 */
export const ORDER_PATH_HOPS = ['queued', 'started', 'committed', 'published', 'delivered', 'written', 'total'] as const;
export type OrderPathHop = (typeof ORDER_PATH_HOPS)[number];

/** Reasons an authentication fails (`reason` of qx_auth_failures_total), shown at zero from the start. */
const AUTH_FAILURE_REASONS = ['INVALID_AUTH_DATA', 'INVALID_TOKEN', 'TOKEN_EXPIRED', 'USER_MISMATCH', 'AUTH_RATE_LIMITED', 'TOO_MANY_CONNECTIONS'];

/**
 * Errors on the connections to Redis and PostgreSQL (a lost or refused connection, a failed
 * command or query), counted where they happen — by whichever client, in whichever part — and
 * shown by every registry of the process (one process is one node).
 */
export const backendErrors = {
  redis: new Counter({ name: 'qx_redis_errors_total', help: 'Errors on Redis connections (a connection lost, each failed attempt to reconnect)', registers: [] }),
  postgres: new Counter({ name: 'qx_postgres_errors_total', help: 'Errors on PostgreSQL connections (connection lost or refused, failed queries)', registers: [] }),
};

/**
 * V8's used heap measured right after each major (mark-sweep-compact) GC: what the heap really
 * holds, without the garbage a plain heapUsed sample includes at random. Its slope over hours is
 * the leak signal (RSS also moves with malloc arenas and memory V8 keeps for reuse). One observer
 * per process, started by the first Metrics; null until the first major GC.
 */
const heapAfterGc = { bytes: null as number | null, majorGcs: 0, observer: null as PerformanceObserver | null };

function observeMajorGc(): void {
  if (heapAfterGc.observer) return;
  heapAfterGc.observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind !== perfConstants.NODE_PERFORMANCE_GC_MAJOR) continue;
      heapAfterGc.majorGcs++;
      heapAfterGc.bytes = getHeapStatistics().used_heap_size;
    }
  });
  heapAfterGc.observer.observe({ entryTypes: ['gc'] });
}

export class Metrics {
  readonly registry = new Registry();
  readonly eventsEmitted: Counter<'event'>;
  readonly eventsPublished: Counter<'event'>;
  readonly authFailures: Counter<'reason'>;
  readonly requestErrors: Counter<'code'>;
  readonly publishToEmit: Histogram;
  readonly slowConsumerDisconnects: Counter;
  readonly conflated: Counter;
  /** sessions a reconnecting client asked to resume: `recovered`, or `refused` (outside the recovery bound) */
  readonly recoveries: Counter<'result'>;
  /** the private path of an order, hop by hop (see ORDER_PATH_HOPS) */
  readonly orderPath: Histogram<'hop'>;
  private sources: GaugeSources | null = null;
  private tracked = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'qx_' });
    const registers = [this.registry];
    const sources = (): GaugeSources | null => this.sources;
    new Gauge({
      name: 'qx_connections',
      help: 'Open Socket.IO connections',
      registers,
      collect() {
        this.set(sources()?.connections() ?? 0);
      },
    });
    new Gauge({
      name: 'qx_authenticated_sockets',
      help: 'Sockets holding a valid authentication',
      registers,
      collect() {
        this.set(sources()?.authenticated() ?? 0);
      },
    });
    new Gauge({
      name: 'qx_subscriptions',
      help: 'Room memberships by channel (market, trading, orders, compliance)',
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const [channel, n] of Object.entries(sources()?.subscriptions() ?? {})) this.set({ channel }, n);
      },
    });
    this.eventsEmitted = new Counter({ name: 'qx_events_emitted_total', help: 'Data events delivered to sockets, by event', labelNames: ['event'], registers });
    this.eventsPublished = new Counter({ name: 'qx_events_published_total', help: 'Data events published, by event', labelNames: ['event'], registers });
    this.authFailures = new Counter({ name: 'qx_auth_failures_total', help: 'Failed authentications, by reason', labelNames: ['reason'], registers });
    this.requestErrors = new Counter({ name: 'qx_request_errors_total', help: 'Requests answered with an error, by code', labelNames: ['code'], registers });
    this.publishToEmit = new Histogram({
      name: 'qx_publish_to_emit_seconds',
      help: 'Time from a publish to the last write of its fan-out',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.slowConsumerDisconnects = new Counter({ name: 'qx_slow_consumer_disconnects_total', help: 'Sockets disconnected for falling too far behind', registers });
    this.conflated = new Counter({ name: 'qx_market_updates_conflated_total', help: 'Market updates replaced by a newer one before a slow socket could take them', registers });
    this.recoveries = new Counter({
      name: 'qx_recoveries_total',
      help: 'Sessions a reconnecting client asked to resume, by result: recovered, or refused (more missed than one replay sends, or writes not confirmed at the cut)',
      labelNames: ['result'],
      registers,
    });
    this.orderPath = new Histogram({
      name: 'qx_order_path_seconds',
      help: 'Time an order spends on each hop of its private path; total: a gateway received the request → the owner\'s order-update written to the socket',
      labelNames: ['hop'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    observeMajorGc();
    new Gauge({
      name: 'qx_heap_after_gc_bytes',
      help: 'V8 used heap right after the last major GC (0 until the first one): its slope over hours shows a leak',
      registers,
      collect() {
        if (heapAfterGc.bytes !== null) this.set(heapAfterGc.bytes);
      },
    });
    new Gauge({
      name: 'qx_gc_major_total',
      help: 'Major (mark-sweep-compact) GCs seen since the process started',
      registers,
      collect() {
        this.set(heapAfterGc.majorGcs);
      },
    });
    for (const registered of Object.values(backendErrors)) this.registry.registerMetric(registered);
    // labelled series appear at their first event: start them at zero so rules and dashboards see them
    for (const event of DATA_EVENTS) {
      this.eventsEmitted.labels(event).inc(0);
      this.eventsPublished.labels(event).inc(0);
    }
    for (const reason of AUTH_FAILURE_REASONS) this.authFailures.labels(reason).inc(0);
    // orders refused because no engine leader answered: what the dashboard's request errors show first
    this.requestErrors.labels('ENGINE_UNAVAILABLE').inc(0);
    for (const result of ['recovered', 'refused']) this.recoveries.labels(result).inc(0);
    for (const hop of ORDER_PATH_HOPS) this.orderPath.zero({ hop });
  }

  /**
   * Times each hop of an order's way: `times` as its events carried them, `deliveredAt` when this
   * gateway received them, `writtenAt` when the order-update was written to the owner's socket
   * (epoch ms). A hop whose ends are not both known is left out.
   */
  observeOrderPath(times: PathTimes, deliveredAt: number, writtenAt: number): void {
    const points: [OrderPathHop, number | undefined][] = [
      ['queued', times.queuedAt],
      ['started', times.startedAt],
      ['committed', times.committedAt],
      ['published', times.publishedAt],
      ['delivered', deliveredAt],
      ['written', writtenAt],
    ];
    let previous = times.receivedAt;
    for (const [hop, at] of points) {
      if (at !== undefined && previous !== undefined) this.orderPath.observe({ hop }, Math.max(0, at - previous) / 1000);
      if (at !== undefined) previous = at;
    }
    if (times.receivedAt !== undefined) this.orderPath.observe({ hop: 'total' }, Math.max(0, writtenAt - times.receivedAt) / 1000);
  }

  /** `qx_ready{role}`: 1 while the node answers /ready with 200. */
  trackReadiness(role: string, ready: () => boolean): void {
    if (!this.once('ready')) return;
    new Gauge({
      name: 'qx_ready',
      help: 'Whether this node is ready (1: /ready answers 200), by role',
      labelNames: ['role'],
      registers: [this.registry],
      collect() {
        this.set({ role }, ready() ? 1 : 0);
      },
    });
  }

  /** `qx_engine_leader`: 1 while this node's engine leads (a single process always leads its own engine). */
  trackEngine(leading: () => boolean): void {
    if (!this.once('engine')) return;
    new Gauge({
      name: 'qx_engine_leader',
      help: 'Whether this node runs the engine leader (1) or a standby (0); only nodes that run an engine have it',
      registers: [this.registry],
      collect() {
        this.set(leading() ? 1 : 0);
      },
    });
  }

  /** `qx_data_dir_free_bytes` / `qx_data_dir_size_bytes`: the file system under the SQLite store. */
  trackDataDir(dir: string): void {
    if (!this.once('data-dir')) return;
    const registers = [this.registry];
    const read = () => statfs(dir).catch(() => null);
    new Gauge({
      name: 'qx_data_dir_free_bytes',
      help: 'Bytes free for the server on the file system of DATA_DIR (single process)',
      registers,
      async collect() {
        const s = await read();
        if (s) this.set(s.bavail * s.bsize);
      },
    });
    new Gauge({
      name: 'qx_data_dir_size_bytes',
      help: 'Size in bytes of the file system of DATA_DIR (single process)',
      registers,
      async collect() {
        const s = await read();
        if (s) this.set(s.blocks * s.bsize);
      },
    });
  }

  /** Counts what `canRecover` decides (recovered or refused) and passes its answer on. */
  countingRecoveries<T extends unknown[]>(canRecover: (...args: T) => Promise<boolean>): (...args: T) => Promise<boolean> {
    return async (...args) => {
      const ok = await canRecover(...args);
      this.recoveries.labels(ok ? 'recovered' : 'refused').inc();
      return ok;
    };
  }

  private once(what: string): boolean {
    if (this.tracked.has(what)) return false;
    this.tracked.add(what);
    return true;
  }

  setSources(sources: GaugeSources): void {
    this.sources = sources;
  }
}
