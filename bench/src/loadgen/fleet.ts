/**
 * The sockets of one worker process and what they have seen. It is the sink of every LeanSocket:
 * counts deliveries, times the ones it must (all on probes, a sample on load clients), and
 * follows seq per stream only when asked.
 */
import { nowMs } from '../lib/clock.js';
import { Histogram } from '../lib/histogram.js';
import { signUserToken } from '../lib/tokens.js';
import { GroupCounters, bump } from './group-counters.js';
import { LeanSocket, type Sink, type Subscription } from './lean-socket.js';
import { rooms } from '@qx/protocol';
import { ClientEvent, ServerEvent, readCommodity, readSentAt, readSeq, socketUrl } from './wire.js';
import type { ConnectResult, CycleResult, FailoverStats, FleetConfig, GroupStats } from './worker-protocol.js';

/** how long a cut-off fail-over socket keeps trying to reconnect */
const RECONNECT_DEADLINE_MS = 60_000;

export class Fleet implements Sink {
  readonly sockets: LeanSocket[] = [];
  readonly tokens: string[] = [];
  readonly latency = new Histogram();
  private readonly normal = new GroupCounters();
  private readonly slow = new GroupCounters();
  private readonly slowSet = new Set<number>();
  /** per socket: last seq per market stream, and of its order stream */
  private readonly marketSeq: Array<Map<string, number>> = [];
  private readonly orderSeq: number[] = [];
  private sampleCountdown: number;
  /** the order probe's hook: called with the socket that received an order update */
  onOrderUpdate: ((socket: LeanSocket) => void) | null = null;
  /** fail-over clients: every order-update seq seen, per socket index */
  private readonly orderSeqs: Array<Set<number>> = [];
  private readonly failover = { lost: 0, resumed: 0, firstLostAt: 0, firstResumedAt: 0, lastResumedAt: 0, reconnectAttempts: 0, duplicateOrders: 0 };
  private readonly reconnectQueue: number[] = [];
  private reconnectLanes = 0;
  private closing = false;
  private markSentAt = Number.POSITIVE_INFINITY;
  markReceivedAt = 0;

  constructor(readonly config: FleetConfig) {
    this.sampleCountdown = config.sampleEvery;
  }

  async connectAll(): Promise<ConnectResult> {
    const { config } = this;
    for (let i = 0; i < config.count; i++) {
      this.tokens.push(await signUserToken(config.secret, `${config.userPrefix}${i}`));
    }
    const started = performance.now();
    const errors = new Map<string, number>();
    let next = 0;
    let ready = 0;
    const lane = async (): Promise<void> => {
      while (next < config.count) {
        const socket = this.createSocket(next++);
        try {
          await socket.connect();
          ready++;
        } catch (error) {
          bump(errors, error instanceof Error ? error.message.slice(0, 80) : 'error');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.connectConcurrency, config.count) }, lane));
    this.normal.sockets = ready;
    return { ready, failed: config.count - ready, elapsedMs: performance.now() - started, errors: Object.fromEntries(errors) };
  }

  pause(count: number): void {
    for (const socket of this.sockets.slice(0, count)) {
      if (!socket.isOpen) continue;
      socket.pause();
      if (!this.slowSet.has(socket.index)) {
        this.slowSet.add(socket.index);
        this.normal.sockets--;
        this.slow.sockets++;
      }
    }
  }

  resume(): void {
    for (const index of this.slowSet) this.sockets[index]?.resume();
  }

  /**
   * Drops `count` random ready sockets (never a paused one) and connects each again, as a client
   * whose network blipped: a new connection that subscribes again (market data needs no resume).
   */
  async cycle(count: number): Promise<CycleResult> {
    const ready = this.sockets.filter((s) => s.isOpen && s.wasReady && !this.slowSet.has(s.index));
    const chosen: LeanSocket[] = [];
    while (chosen.length < count && ready.length > 0) chosen.push(ready.splice(Math.floor(Math.random() * ready.length), 1)[0]!);
    const results = await Promise.all(
      chosen.map(async (old) => {
        old.terminate();
        const socket = this.createSocket(old.index);
        try {
          await socket.connect();
          return true;
        } catch {
          return false;
        }
      }),
    );
    const reconnected = results.filter(Boolean).length;
    return { dropped: chosen.length, reconnected, failed: chosen.length - reconnected };
  }

  closeAll(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.terminate();
  }

  /** From now on, note when the first market update stamped at or after `sentAt` arrives. */
  mark(sentAt: number): void {
    this.markSentAt = sentAt;
    this.markReceivedAt = 0;
  }

  failoverStats(): FailoverStats {
    let distinct = 0;
    let gaps = 0;
    for (const seen of this.orderSeqs) {
      if (!seen) continue;
      distinct += seen.size;
      gaps += Math.max(0, ...seen) - seen.size;
    }
    return { ...this.failover, distinctOrders: distinct, duplicateOrders: this.failover.duplicateOrders, orderGaps: gaps };
  }

  groupStats(slow: boolean): GroupStats {
    const counters = slow ? this.slow : this.normal;
    let open = 0;
    const lowest = new Map<string, number>();
    for (const socket of this.sockets) {
      if (this.slowSet.has(socket.index) !== slow) continue;
      if (socket.isOpen) open++;
      for (const [stream, seq] of this.marketSeq[socket.index] ?? []) {
        const seen = lowest.get(stream);
        if (seen === undefined || seq < seen) lowest.set(stream, seq);
      }
    }
    return counters.snapshot(open, Object.fromEntries(lowest));
  }

  // ---- Sink: the hot path -------------------------------------------------------------------

  marketUpdate(socket: LeanSocket, frame: Buffer): void {
    const counters = this.countersOf(socket);
    counters.marketUpdates++;
    if (this.config.latency === 'all' || (this.config.sampleEvery > 0 && --this.sampleCountdown <= 0)) {
      this.sampleCountdown = this.config.sampleEvery;
      const sentAt = readSentAt(frame);
      if (Number.isFinite(sentAt)) {
        const now = nowMs();
        this.latency.record((now - sentAt) * 1000);
        if (sentAt >= this.markSentAt && this.markReceivedAt === 0) this.markReceivedAt = now;
      }
    }
    if (this.config.trackSeq) this.followMarketSeq(socket, frame, counters);
  }

  orderUpdate(socket: LeanSocket, frame: Buffer): void {
    const counters = this.countersOf(socket);
    counters.orderUpdates++;
    if (this.config.reconnectUrls) {
      let seen = this.orderSeqs[socket.index];
      if (!seen) {
        seen = new Set();
        this.orderSeqs[socket.index] = seen;
      }
      const seq = readSeq(frame);
      if (seen.has(seq)) this.failover.duplicateOrders++;
      else seen.add(seq);
    }
    if (this.config.trackSeq) {
      const seq = readSeq(frame);
      const last = this.orderSeq[socket.index];
      if (last !== undefined && seq > last + 1) counters.orderSeqGaps += seq - last - 1;
      this.orderSeq[socket.index] = seq;
    }
    this.onOrderUpdate?.(socket);
  }

  otherEvent(socket: LeanSocket, name: string, data: unknown): void {
    const counters = this.countersOf(socket);
    bump(counters.otherEvents, name);
    if (name === ServerEvent.DisconnectReason) bump(counters.closes, `reason ${JSON.stringify(data).slice(0, 120)}`);
  }

  closed(socket: LeanSocket, code: number, reason: string): void {
    bump(this.countersOf(socket).closes, `${code}${reason ? ` ${reason.slice(0, 80)}` : ''}`);
    if (this.config.reconnectUrls && socket.wasReady && !this.closing && this.sockets[socket.index] === socket) {
      this.failover.lost++;
      if (this.failover.firstLostAt === 0) this.failover.firstLostAt = nowMs();
      this.reconnectQueue.push(socket.index);
      this.drainReconnects();
    }
  }

  // ---- fail-over: reconnect elsewhere and resume by seq ---------------------------------------

  /** Reconnects queued sockets, `reconnectConcurrency` at a time, as a client library with no backoff would. */
  private drainReconnects(): void {
    const lanes = this.config.reconnectConcurrency ?? this.config.connectConcurrency;
    while (this.reconnectLanes < lanes && this.reconnectQueue.length > 0) {
      const index = this.reconnectQueue.shift()!;
      this.reconnectLanes++;
      void this.reconnect(index).finally(() => {
        this.reconnectLanes--;
        this.drainReconnects();
      });
    }
  }

  private async reconnect(index: number): Promise<void> {
    const urls = this.config.reconnectUrls ?? [];
    const deadline = performance.now() + RECONNECT_DEADLINE_MS;
    for (let attempt = 0; performance.now() < deadline && !this.closing; attempt++) {
      this.failover.reconnectAttempts++;
      const baseUrl = urls[(index + attempt) % urls.length]!;
      const socket = this.createSocket(index, baseUrl, this.resumeFrom(index));
      try {
        await socket.connect();
        this.failover.resumed++;
        this.failover.lastResumedAt = nowMs();
        if (this.failover.firstResumedAt === 0) this.failover.firstResumedAt = this.failover.lastResumedAt;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** the highest seq up to which this socket has every order-update (what it resumes after) */
  private resumeFrom(index: number): number {
    const seen = this.orderSeqs[index];
    let seq = 0;
    while (seen?.has(seq + 1)) seq++;
    return seq;
  }

  // ---- internals -----------------------------------------------------------------------------

  private countersOf(socket: LeanSocket): GroupCounters {
    return this.slowSet.size > 0 && this.slowSet.has(socket.index) ? this.slow : this.normal;
  }

  private followMarketSeq(socket: LeanSocket, frame: Buffer, counters: GroupCounters): void {
    const seq = readSeq(frame);
    const stream = readCommodity(frame);
    let seen = this.marketSeq[socket.index];
    if (!seen) {
      seen = new Map();
      this.marketSeq[socket.index] = seen;
    }
    const last = seen.get(stream);
    if (last !== undefined && seq > last + 1) counters.marketSeqGaps += seq - last - 1;
    if (last === undefined || seq > last) seen.set(stream, seq);
  }

  /** `resumeAfter`: after subscribing, resume the orders stream from this seq (a fail-over reconnect) */
  private createSocket(index: number, baseUrl = this.config.baseUrl, resumeAfter: number | null = null): LeanSocket {
    const { config } = this;
    const userId = `${config.userPrefix}${index}`;
    const token = this.tokens[index] ?? '';
    const subscriptions: Subscription[] = [];
    if (config.markets.length > 0) {
      subscriptions.push({ event: ClientEvent.SubscribeMarket, data: config.markets, confirm: ServerEvent.MarketSubscribed });
    }
    if (config.orders) {
      subscriptions.push({ event: ClientEvent.SubscribeOrders, data: userId, confirm: ServerEvent.OrdersSubscribed });
    }
    if (config.orders && resumeAfter !== null) {
      subscriptions.push({ event: ClientEvent.Resume, data: { [rooms.orders(userId)]: resumeAfter }, confirm: ServerEvent.Resumed });
    }
    const socket = new LeanSocket(
      index,
      userId,
      {
        wsUrl: socketUrl(baseUrl),
        sequential: resumeAfter !== null,
        handshakeAuth: config.auth === 'handshake' ? { token } : null,
        authenticateEvent: config.auth === 'event' ? { userId, token } : null,
        expectAuthSuccess: true,
        subscriptions,
        localAddress: config.localAddress,
        timeoutMs: config.connectTimeoutMs,
      },
      this,
    );
    this.sockets[index] = socket;
    return socket;
  }
}
