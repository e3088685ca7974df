/**
 * The private path, timed end to end: a socket's user places an order — over REST, or with
 * `place-order` on the socket itself — and the clock stops when that socket receives its next
 * `order-update` (and, over the socket, also when the ack arrives). One order in flight per
 * socket, so the update needs no correlation id.
 */
import { nowMs } from '../lib/clock.js';
import { Histogram } from '../lib/histogram.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { bump } from './group-counters.js';
import type { Fleet } from './fleet.js';
import type { LeanSocket } from './lean-socket.js';
import type { OrderProbeConfig, OrderProbeStats, OrderVia } from './worker-protocol.js';

export const ORDERS_PATH = '/api/v1/trading/orders';
export const PLACE_ORDER = 'place-order';

interface InFlight {
  t0: number;
  via: OrderVia;
}

export class OrderProbe {
  private readonly latency = new Histogram();
  private readonly statuses = new Map<string, number>();
  private readonly socketAck = new Histogram();
  private readonly socketUpdate = new Histogram();
  private readonly socketErrors = new Map<string, number>();
  /** socket index → its order in flight */
  private readonly inFlight = new Map<number, InFlight>();
  private placed = 0;
  private answered = 0;
  private socketPlaced = 0;
  private socketAcked = 0;
  private socketAnswered = 0;
  private usedSocket = false;
  private status: OrderProbeStats['status'] = 'idle';
  private readonly agent = keepAliveAgent(64);

  constructor(private readonly fleet: Fleet) {
    fleet.onOrderUpdate = (socket) => {
      const order = this.inFlight.get(socket.index);
      if (order === undefined) return;
      this.inFlight.delete(socket.index);
      const us = (nowMs() - order.t0) * 1000;
      if (order.via === 'rest') {
        this.latency.record(us);
        this.answered++;
      } else {
        this.socketUpdate.record(us);
        this.socketAnswered++;
      }
    };
  }

  /** Places orders at `rate`/s for `durationMs` (bounded), then waits briefly for stragglers. */
  async run(config: OrderProbeConfig): Promise<void> {
    const url = new URL(ORDERS_PATH, config.restBaseUrl ?? this.fleet.config.baseUrl);
    const vias = config.via && config.via.length > 0 ? config.via : (['rest'] as OrderVia[]);
    this.usedSocket = vias.includes('socket');
    const sockets = this.fleet.sockets.filter((s) => s.isOpen);
    if (sockets.length === 0 || config.rate <= 0) return;
    this.status = 'running';
    const started = performance.now();
    const intervalMs = 1000 / config.rate;
    let turn = 0;
    while (performance.now() - started < config.durationMs && this.status === 'running') {
      const socket = sockets[turn++ % sockets.length]!;
      if (!this.inFlight.has(socket.index)) {
        const via = vias[socket.index % vias.length]!;
        this.inFlight.set(socket.index, { t0: nowMs(), via });
        if (via === 'rest') {
          this.placed++;
          void this.place(url, socket.index, config.body);
        } else {
          this.socketPlaced++;
          this.placeOverSocket(socket, config.body);
        }
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
      socket: this.usedSocket
        ? {
            placed: this.socketPlaced,
            acked: this.socketAcked,
            answered: this.socketAnswered,
            errors: Object.fromEntries(this.socketErrors),
            ack: this.socketAck.toSparse(),
            update: this.socketUpdate.toSparse(),
          }
        : null,
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

  private placeOverSocket(socket: LeanSocket, body: Record<string, unknown>): void {
    const t0 = this.inFlight.get(socket.index)!.t0;
    socket.emitWithAck(PLACE_ORDER, body, (answer) => {
      const ok = typeof answer === 'object' && answer !== null && (answer as { ok?: unknown }).ok === true;
      if (ok) {
        this.socketAck.record((nowMs() - t0) * 1000);
        this.socketAcked++;
        return;
      }
      const code = (answer as { error?: { code?: unknown } } | null)?.error?.code;
      bump(this.socketErrors, typeof code === 'string' ? code : 'refused');
      // a refusal has no order-update to wait for
      if (this.inFlight.get(socket.index)?.t0 === t0) this.inFlight.delete(socket.index);
    });
  }
}
