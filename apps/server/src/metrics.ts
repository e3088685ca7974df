/**
 * Prometheus metrics (prom-client). Gauges that describe current state are computed when scraped,
 * so the hot paths only bump counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  }

  setSources(sources: GaugeSources): void {
    this.sources = sources;
  }
}
