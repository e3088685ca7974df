/**
 * The private path, timed end to end: a socket's user places an order over REST and the clock
 * stops when that socket receives its next `order-update`. One order in flight per socket, so
 * the update needs no correlation id.
 */
import { nowMs } from '../lib/clock.js';
import { Histogram } from '../lib/histogram.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { bump } from './group-counters.js';
import type { Fleet } from './fleet.js';
import type { OrderProbeConfig, OrderProbeStats } from './worker-protocol.js';

export const ORDERS_PATH = '/api/v1/trading/orders';

export class OrderProbe {
  private readonly latency = new Histogram();
  private readonly statuses = new Map<string, number>();
  /** socket index → time its order was sent, while one is in flight */
  private readonly inFlight = new Map<number, number>();
  private placed = 0;
  private answered = 0;
  private status: OrderProbeStats['status'] = 'idle';
  private readonly agent = keepAliveAgent(64);

  constructor(private readonly fleet: Fleet) {
    fleet.onOrderUpdate = (socket) => {
      const t0 = this.inFlight.get(socket.index);
      if (t0 === undefined) return;
      this.latency.record((nowMs() - t0) * 1000);
      this.answered++;
      this.inFlight.delete(socket.index);
    };
  }

  /** Places orders at `rate`/s for `durationMs` (bounded), then waits briefly for stragglers. */
  async run(config: OrderProbeConfig): Promise<void> {
    const url = new URL(ORDERS_PATH, config.restBaseUrl ?? this.fleet.config.baseUrl);
    const sockets = this.fleet.sockets.filter((s) => s.isOpen);
    if (sockets.length === 0 || config.rate <= 0) return;
    this.status = 'running';
    const started = performance.now();
    const intervalMs = 1000 / config.rate;
    let turn = 0;
    while (performance.now() - started < config.durationMs && this.status === 'running') {
      const socket = sockets[turn++ % sockets.length]!;
      if (!this.inFlight.has(socket.index)) {
        this.inFlight.set(socket.index, nowMs());
        this.placed++;
        void this.place(url, socket.index, config.body);
      }
      const due = started + turn * intervalMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    await new Promise((r) => setTimeout(r, 500));
    if (this.status === 'running') this.status = 'done';
  }

  stats(): OrderProbeStats {
    return {
      placed: this.placed,
      answered: this.answered,
      status: this.status,
      httpStatuses: Object.fromEntries(this.statuses),
      latency: this.latency.toSparse(),
    };
  }

  private async place(url: URL, index: number, body: Record<string, unknown>): Promise<void> {
    const token = this.fleet.tokens[index] ?? '';
    try {
      const res = await postJson(this.agent, url, JSON.stringify(body), { authorization: `Bearer ${token}` });
      bump(this.statuses, String(res.status));
      if (res.status === 404 || res.status === 405) this.status = 'n/a';
      if (res.status >= 300) this.inFlight.delete(index);
    } catch (error) {
      bump(this.statuses, error instanceof Error ? error.message.slice(0, 60) : 'error');
      this.inFlight.delete(index);
    }
  }
}
