/**
 * The seam between the gateway and the deployment it runs in. Everything that differs between one
 * process and a cluster sits behind these interfaces, with two implementations:
 *
 * - `in-process/`: one process (SQLite, the trading core in the same process, an in-memory bus);
 * - `redis/`: a cluster (PostgreSQL the system of record, Redis the bus, the engine leader
 *   elsewhere), with the gateway's side in `redis/gateway/` and the engine's in `redis/engine/`.
 *
 * The gateway above the seam (app.ts, realtime/, channels/, http/) never asks which one it runs
 * on. Events reach it one way in both: numbered and rendered once by the writer (the trading
 * core's EventCommitter), carried by the bus, and handed to `GatewayPort.deliver` in seq order,
 * once per stream; the gateway encodes each one for the wire once and fans it out.
 */
import type { Adapter } from 'socket.io-adapter';
import type { BookView, Exchange, PositionView } from '@qx/engine';
import type { CancelOnDisconnectScope, MarketStatusPayload, OrderAmendBody, OrderRequestBody, OrderUpdatePayload } from '@qx/protocol';
import type { Sqlite } from '../store/sqlite/database.js';
import type { LoggedEvent, Store } from '../store/store.js';
import type { TapeStore } from '../store/tape.js';
import type { QxSocket } from '../realtime/types.js';
import type { OrderOrigin, TradingService } from '../core/trading-service.js';
import type { CancelAllOutcome, Outcome, SubmitOutcome } from '../core/outcomes.js';
import type { EventSink } from '../core/event-committer.js';
import type { BookState } from '../core/book-ticker.js';
import type { ControlMessage } from './control-message.js';
import type { BusEvent } from '../core/bus-event.js';
import type { PathTimes } from '../order-path.js';

/** What travels on the bus (the trading core's output) and the times an order carries along it. */
export type { BusEvent, EventBus } from '../core/bus-event.js';
export type { PathTimes } from '../order-path.js';

/** What a node decided about a user, acted on by every node for its own sockets (see control-message.ts). */
export type { ControlMessage } from './control-message.js';

/** What a backplane hands events and control messages to: this node's gateway. */
export interface GatewayPort {
  /** events of the streams this node listens to, in seq order, once each */
  deliver(events: readonly BusEvent[]): void;
  control(message: ControlMessage): void;
}

/** The gateway's side of the streams: what it listens to, and what it reads back. */
export interface StreamFeed {
  /** a room now has sockets on this node: its stream's events must reach it (rooms without a stream are ignored) */
  listen(room: string): void;
  /** the room's last local socket left */
  unlisten(room: string): void;
  /**
   * Resolves once this node receives every event of `stream` published from then on, with the
   * last seq before them (what came up to it is the caller's to replay). The seq is a durable
   * stream's (private, system, tape); market data and books are state, started from their latest
   * (the gateway's latest market frame, `book()`), not from a seq.
   */
  follow(stream: string): Promise<number>;
  /** up to `limit` events of a durable stream after `afterSeq`, oldest first (a replay) */
  read(stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  /** the newest committed seq of a durable stream */
  lastSeq(stream: string): Promise<number>;
  /** a commodity's book as the trading core last published it (null before any) */
  book(commodity: string): Promise<BookState | null>;
}

/** Cross-node control: acts on this node at once and tells every other node. */
export interface ControlBus {
  /**
   * Acts on `message` here at once, then tells the other nodes; resolves false when they could not
   * be told. Rejects, acting nowhere, on a message its schema refuses (controlMessageSchema).
   */
  send(message: ControlMessage): Promise<boolean>;
}

/** How many authenticated sockets a user holds (MAX_CONNECTIONS_PER_USER), over every node. */
export interface UserPresence {
  tryAdd(userId: string, socketId: string, limit: number): Promise<{ ok: boolean }>;
  remove(userId: string, socketId: string): void;
}

/** Whether a saved session may be recovered (false: too much to replay: a fresh session instead). */
export type CanRecover = (data: unknown) => boolean | Promise<boolean>;

/** Socket.IO connection state recovery: where sessions are kept between a cut and a reconnect. */
export interface RecoverySessions {
  adapter(canRecover: CanRecover): typeof Adapter;
  /** a socket's recoverable state changed outside the adapter (its data) */
  touch(socket: QxSocket): void;
}

/** The engine could not be reached (a cluster without a leader). */
export interface Unavailable {
  unavailable: true;
}

export function isUnavailable(v: unknown): v is Unavailable {
  return typeof v === 'object' && v !== null && (v as Partial<Unavailable>).unavailable === true;
}

/** What the gateway asks of the trading core, wherever it runs. */
export interface TradingApi {
  /** `origin`: the connection the order came through (cancel-on-disconnect scope `connection`) */
  submit(userId: string, body: OrderRequestBody, times?: PathTimes, origin?: OrderOrigin): Promise<SubmitOutcome>;
  cancel(userId: string, orderId: string, times?: PathTimes): Promise<SubmitOutcome>;
  /** cancel/replace of a resting order (a new price, a new total quantity, or both) */
  amend(userId: string, orderId: string, body: OrderAmendBody, times?: PathTimes): Promise<SubmitOutcome>;
  /** cancels the user's open orders (of one commodity, when given) */
  cancelAll(userId: string, commodity?: string): Promise<CancelAllOutcome>;
  /** a market order closing the user's net position in the commodity (idempotent by `clientOrderId`) */
  flatten(userId: string, commodity: string, clientOrderId?: string): Promise<SubmitOutcome>;
  positions(userId: string): Promise<PositionView[] | Unavailable>;
  book(commodity: string, depth: number): Promise<BookView | null | Unavailable>;

  // trading safety (issue 17): answered by the trading core, wherever it runs
  /** a connection's cancel-on-disconnect scope (`off` forgets it); `node`: where the connection is */
  setCancelOnDisconnect(userId: string, connection: string, node: string, scope: CancelOnDisconnectScope): Promise<Outcome<{ scope: CancelOnDisconnectScope }>>;
  /** a connection with cancel-on-disconnect ended (its gateway tells the core; retried until it hears it) */
  connectionLost(connection: string): Promise<void>;
  /** a connection came back (connection state recovery), now on `node` */
  connectionRestored(connection: string, node: string): Promise<void>;
  /** the dead-man's switch: cancel all the user's open orders unless called again within `timeoutMs` (0 disarms) */
  cancelAllAfter(userId: string, timeoutMs: number): Promise<Outcome<{ timeoutMs: number; firesAt: number | null }>>;
  /** the kill switch */
  setTradingEnabled(userId: string, enabled: boolean, reason: string, by: string): Promise<Outcome<KillSwitchOutcome>>;
  /** an operator's halt of a commodity, for `durationMs` or until reopened (null) */
  halt(commodity: string, reason: string, durationMs: number | null, by: string): Promise<Outcome<{ status: MarketStatusPayload }>>;
  reopen(commodity: string, by: string): Promise<Outcome<{ status: MarketStatusPayload }>>;
}

/** What the kill switch did. */
export interface KillSwitchOutcome {
  userId: string;
  enabled: boolean;
  reason: string;
  /** the user's open orders it cancelled */
  cancelled: OrderUpdatePayload[];
}

/** The trading core of this process, where it runs here (one process): for the log's summary and tests. */
export interface LocalCore {
  readonly trading: TradingService;
  readonly exchange: Exchange;
  readonly db: Sqlite;
  /** publishes the books' changes now (rather than at the next tick) */
  tickBooks(): void;
}

export interface Backplane {
  /** `in-process` or `redis` (for logs and /health) */
  readonly name: string;
  /** the system of record, as the gateway reads it: orders, trades, the event log */
  readonly store: Store;
  /** the public tape, as the gateway reads it (candles) */
  readonly tape: Pick<TapeStore, 'candles' | 'prune'>;
  /** commits and publishes events of the publish API */
  readonly sink: EventSink;
  readonly trading: TradingApi;
  readonly feed: StreamFeed;
  readonly control: ControlBus;
  readonly presence: UserPresence;
  readonly sessions: RecoverySessions;
  /** the demo-mode signing secret every node of the deployment shares (null when tokens are not demo) */
  readonly demoSecret: string | null;
  /** the random PUBLISH_API_KEY every node shares when none is configured */
  readonly publishApiKey: string | null;
  readonly local: LocalCore | null;
  /** what /health says of this node beyond `status` */
  describe(): Record<string, unknown> | undefined;
  /** whether this node can serve (its store is open; a cluster: connected) */
  ready(): boolean;
  /** connects the gateway: events and control messages go to `port` from now on; resolves once serving */
  start(port: GatewayPort): Promise<void>;
  /** the gateway has stopped taking requests: stop what makes events of its own here (the simulated market) */
  stopping(): void;
  /** stops everything started here, in reverse order (after the gateway has stopped taking requests) */
  close(): Promise<void>;
}
