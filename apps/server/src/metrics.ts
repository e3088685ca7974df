/**
 * Prometheus metrics (prom-client). Gauges that describe current state are computed when scraped,
 * so the hot paths only bump counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PathTimes } from './backplane/backplane.js';

/**
 * The hops of an order's private path, each timed by `qx_order_path_seconds{hop}`: the gateway
 * received the request → handed it to the engine (`queued`) → the engine started it (`started`)
 * → committed its step (`committed`) → handed the events to the bus (`published`) → the owner's
 * gateway received them (`delivered`) → wrote the order-update to the socket (`written`); `total`
 * from the first to the last.
 */
export const ORDER_PATH_HOPS = ['queued', 'started', 'committed', 'published', 'delivered', 'written', 'total'] as const;
export type OrderPathHop = (typeof ORDER_PATH_HOPS)[number];

export interface GaugeSources {
  connections(): number;
  authenticated(): number;
  subscriptions(): Record<string, number>;
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
  readonly orderPath: Histogram<'hop'>;
  private sources: GaugeSources | null = null;

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
    this.orderPath = new Histogram({
      name: 'qx_order_path_seconds',
      help: "An order's way to its owner's order-update, hop by hop (queued, started, committed, published, delivered, written) and in total",
      labelNames: ['hop'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
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

  setSources(sources: GaugeSources): void {
    this.sources = sources;
  }
}
