/** What the harness and a client worker process say to each other over IPC. */
import type { SparseCounts } from '../lib/histogram.js';

export interface FleetConfig {
  /** http://host:port of the target */
  baseUrl: string;
  secret: string;
  /** userIds are `${userPrefix}${i}` */
  userPrefix: string;
  count: number;
  /** token in the Socket.IO handshake, or an `authenticate` event after connecting */
  auth: 'handshake' | 'event';
  /** commodities to subscribe to (none: an idle authenticated connection) */
  markets: string[];
  /** also subscribe to the socket's own orders room */
  orders: boolean;
  /** time every market update (probe), or 1 in `sampleEvery` (0: none) */
  latency: 'all' | 'sampled';
  sampleEvery: number;
  /** follow seq per stream to count gaps (slow-consumer scenario) */
  trackSeq: boolean;
  connectConcurrency: number;
  localAddress?: string | undefined;
  connectTimeoutMs: number;
  /**
   * Fail-over clients: a socket that was ready and is then cut off reconnects to these base URLs
   * (round robin, retrying), subscribes to its orders again and resumes its orders stream from the
   * last seq it holds; every order-update seq is kept per socket to count losses and duplicates.
   */
  reconnectUrls?: string[] | undefined;
  /**
   * How many cut-off sockets of this process reconnect at once (default: connectConcurrency).
   * Real clients reconnect each on its own, all at once: a fail-over measure sets it to the count.
   */
  reconnectConcurrency?: number | undefined;
}

/** What fail-over clients saw (see FleetConfig.reconnectUrls). Times are the shared clock's ms. */
export interface FailoverStats {
  /** ready sockets that were cut off */
  lost: number;
  /** of those, resumed (subscribed again and `resumed` answered) */
  resumed: number;
  /** when the first was cut off, the first resumed and the last resumed (0: not yet) */
  firstLostAt: number;
  firstResumedAt: number;
  lastResumedAt: number;
  reconnectAttempts: number;
  /** distinct order-update seqs over all sockets, copies received again, seqs missing below each socket's highest */
  distinctOrders: number;
  duplicateOrders: number;
  orderGaps: number;
}

export interface OrderProbeConfig {
  /** orders per second over all sockets, one in flight per socket */
  rate: number;
  /** where to place orders (default: the sockets' own server): another gateway of a cluster */
  restBaseUrl?: string | undefined;
  durationMs: number;
  body: Record<string, unknown>;
  /**
   * how orders are placed (default REST only). With both, socket i uses `via[i % via.length]`, so
   * the two paths run side by side, in the same window, each at its share of `rate`.
   */
  via?: OrderVia[] | undefined;
}

export type OrderVia = 'rest' | 'socket';

/** Orders placed with `place-order` over the socket: ack and own order-update, both from the emit. */
export interface SocketOrderStats {
  placed: number;
  acked: number;
  answered: number;
  /** refusals by error code, and acks never received */
  errors: Record<string, number>;
  /** emit → ack */
  ack: SparseCounts;
  /** emit → the socket's own order-update */
  update: SparseCounts;
}

export type WorkerRequest =
  | { type: 'connect'; config: FleetConfig }
  | { type: 'stats'; resetLatency: boolean }
  | { type: 'pause'; count: number }
  | { type: 'resume' }
  /** soak: drop `count` random ready sockets and connect them again (a client reconnecting) */
  | { type: 'cycle'; count: number }
  | { type: 'orders'; config: OrderProbeConfig }
  /** note when the first market update stamped at or after `sentAt` arrives */
  | { type: 'mark'; sentAt: number }
  | { type: 'close' };

/** What `cycle` did: sockets dropped, and of those connected (and subscribed) again or not. */
export interface CycleResult {
  dropped: number;
  reconnected: number;
  failed: number;
}

export interface ConnectResult {
  ready: number;
  failed: number;
  elapsedMs: number;
  errors: Record<string, number>;
}

/** Counters of one group of sockets: those never paused, and the slow (paused) ones. */
export interface GroupStats {
  sockets: number;
  open: number;
  marketUpdates: number;
  orderUpdates: number;
  otherEvents: Record<string, number>;
  /** market updates missing by seq (conflated or lost) */
  marketSeqGaps: number;
  /** order updates missing by seq: must stay 0 */
  orderSeqGaps: number;
  /** per commodity, the lowest last-seen seq over the group's sockets */
  lastMarketSeq: Record<string, number>;
  closes: Record<string, number>;
}

export interface OrderProbeStats {
  placed: number;
  answered: number;
  /** 'n/a' when the target has no order endpoint */
  status: 'idle' | 'running' | 'done' | 'n/a';
  httpStatuses: Record<string, number>;
  /** REST place → the socket's order-update */
  latency: SparseCounts;
  /** orders placed over the socket (when the probe was asked to) */
  socket: SocketOrderStats | null;
}

export interface WorkerStats {
  pid: number;
  cpuUs: number;
  rssKiB: number;
  normal: GroupStats;
  slow: GroupStats;
  latency: SparseCounts;
  orders: OrderProbeStats;
  failover: FailoverStats;
  /** when the first market update stamped at or after the last `mark` arrived (0: not yet) */
  markReceivedAt: number;
}
