/**
 * `QuantEnergxClient`: the seed's `QuantEnergxWebSocket`, done right. One Socket.IO connection
 * (WebSocket first), authenticated by handshake or by the seed's `authenticate` event; requests
 * that return promises (acks, coded errors); every private event (orders, trades, compliance and
 * system alerts) delivered once and in order across drops, token refreshes and reconnects; the
 * latest market state per commodity.
 *
 * The class is the public face; the work is done by its parts: `Session` (connection and
 * authentication), `Requests` (acks), `Subscriptions` (what is followed, restored on a new
 * session), `PrivateStreams` (in-order delivery, resume, event log), `MarketData` (prices, books,
 * tape, market status), `OrderEntry` (order calls, over the socket or REST) and `SafetyNets`
 * (cancel-on-disconnect, the dead-man's switch).
 */
import { io } from 'socket.io-client';
import {
  ClientEvent,
  ServerEvent,
  type AuthSuccess,
  type BookConfirmation,
  type BookUnsubscribed,
  type CancelAllAfterAck,
  type CancelOnDisconnectAck,
  type CancelOnDisconnectScope,
  type MarketConfirmation,
  type MarketStatusPayload,
  type MarketUpdatePayload,
  type OrderRequestBody,
  type OrderUpdatePayload,
  type Pong,
  type PrivateChannel,
  type RequestError,
  type RoomConfirmation,
  type UserRoomConfirmation,
} from '@qx/protocol/wire';
import type { ClientContext, ClientStats, QuantEnergxSocket } from './context.js';
import { TypedEmitter } from './emitter.js';
import { QuantEnergxError, toQuantEnergxError } from './errors.js';
import { EventLogApi, originOf, type FetchLike } from './event-log-api.js';
import { MarketData } from './market-data.js';
import { acceptsOrders } from './market-status.js';
import type { BookView } from './order-book.js';
import { OrderEntry } from './orders.js';
import { PrivateStreams } from './private-streams.js';
import { Requests, type RequestOptions } from './requests.js';
import { SafetyNets, type DeadManSwitch, type DeadManSwitchOptions } from './safety.js';
import { Session } from './session.js';
import { Subscriptions, type SubscriptionList } from './subscriptions.js';
import { TradingRest, type OrderAmendment } from './trading-rest.js';
import type { QuantEnergxClientEvents, QuantEnergxClientOptions } from './types.js';

export type { QuantEnergxSocket } from './context.js';
export { streamOf } from './private-streams.js';

/** `subscribeBook` options: the depth (1-20, default 10) and the request's limits. */
export interface BookOptions extends RequestOptions {
  depth?: number;
}

/** `flatten` options: the order's `clientOrderId` (generated when not given) and the request's limits. */
export interface FlattenOptions extends RequestOptions {
  clientOrderId?: string;
}

/** `cancelAll` options: only one commodity's orders, and the request's limits. */
export interface CancelAllOptions extends RequestOptions {
  commodity?: string;
}

/** An absolute http(s)/ws(s) URL (or, in a browser, a path on the page's host: `/`); anything else never connects. */
function checkUrl(url: unknown): void {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL | null;
  try {
    parsed = typeof url !== 'string' || url === '' ? null : url.startsWith('/') && page ? new URL(url, page) : new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) {
    throw new QuantEnergxError('INVALID_OPTIONS', `url must be an http(s) or ws(s) URL such as http://localhost:3001 (got ${JSON.stringify(url)})`, { field: 'url' });
  }
}

/** A commodity symbol or a list of them, as a list; anything else is refused here, not sent. */
function commodityList(value: unknown, event: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((c) => typeof c === 'string')) return [...value];
  throw new QuantEnergxError('INVALID_PAYLOAD', `${event}: expected a commodity symbol or an array of them, got ${describe(value)}`, { event });
}

function checkString(value: unknown, name: string, event: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new QuantEnergxError('INVALID_PAYLOAD', `${event}: ${name} must be a non-empty string, got ${describe(value)}`, { event, field: name });
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array with a non-string' : value === null ? 'null' : typeof value === 'string' ? 'an empty string' : typeof value;
}

/** Runs `fn`, turning what it throws into a rejection (promise methods never throw synchronously). */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(toQuantEnergxError(err));
  }
}

export class QuantEnergxClient extends TypedEmitter<QuantEnergxClientEvents> {
  readonly userId: string;
  /** the underlying socket.io-client socket (typed with the protocol's event maps) */
  readonly socket: QuantEnergxSocket;
  /** counters, for monitoring and tests */
  readonly stats: ClientStats = { duplicatesDropped: 0, gapsRecovered: 0, eventsLost: 0, resumes: 0, logReads: 0, tokenRefreshes: 0, bookResyncs: 0 };

  private readonly session: Session;
  private readonly requests: Requests;
  private readonly follows: Subscriptions;
  private readonly streams: PrivateStreams;
  private readonly marketData: MarketData;
  private readonly orders: OrderEntry;
  private readonly safety: SafetyNets;

  /**
   * Throws a `QuantEnergxError`: `TOKEN_UNAVAILABLE` without a `token` or a `getToken`,
   * `INVALID_OPTIONS` for a `url` that cannot be connected to or a missing `userId`.
   */
  constructor(options: QuantEnergxClientOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new QuantEnergxError('INVALID_OPTIONS', 'new QuantEnergxClient({url, userId, token | getToken})');
    checkUrl(options.url);
    if (typeof options.userId !== 'string' || options.userId === '') throw new QuantEnergxError('INVALID_OPTIONS', 'userId must be a non-empty string', { field: 'userId' });
    if (!options.token && typeof options.getToken !== 'function') {
      throw new QuantEnergxError('TOKEN_UNAVAILABLE', 'QuantEnergxClient needs a token or a getToken() function', { field: 'token' });
    }
    this.userId = options.userId;
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    // called as a plain function: a browser's fetch called as a method of another object throws "Illegal invocation"
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const restUrl = options.restUrl ?? originOf(options.url);

    const handshake = (options.authMode ?? 'handshake') === 'handshake';
    this.socket = io(options.url, {
      autoConnect: false,
      // WebSocket first; long-polling only where WebSockets are blocked
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnection: true,
      reconnectionAttempts: options.reconnection?.attempts ?? Infinity,
      reconnectionDelay: options.reconnection?.delayMs ?? 500,
      reconnectionDelayMax: options.reconnection?.delayMaxMs ?? 10_000,
      randomizationFactor: options.reconnection?.jitter ?? 0.5,
      ...(handshake ? { auth: (cb: (data: object) => void) => void this.session.handshakeAuth(cb) } : {}),
      ...options.socketOptions,
    });

    const ctx: ClientContext = {
      userId: options.userId,
      options,
      socket: this.socket,
      stats: this.stats,
      requestTimeoutMs,
      emit: (event, ...args) => this.emit(event, ...args),
      report: (err) => this.report(err),
      listenerCount: (event) => this.listenerCount(event),
    };
    this.session = new Session(ctx, () => this.requests, {
      restore: (session) => void this.restore(session),
      resume: (session) => void this.streams.resumeAll(session),
      recovered: (session) => {
        this.safety.recovered();
        void this.streams.resumeAll(session);
      },
      authenticated: () => this.streams.authenticated(),
    });
    this.requests = new Requests(ctx, this.session);
    this.marketData = new MarketData(ctx, this.requests, () => this.follows);
    this.streams = new PrivateStreams(ctx, this.requests, this.session, new EventLogApi(restUrl, fetchFn, requestTimeoutMs), () => this.follows);
    this.follows = new Subscriptions(ctx, this.requests, this.marketData, this.streams);
    this.safety = new SafetyNets(ctx, this.requests, () => this.orders);
    this.orders = new OrderEntry(ctx, this.session, this.requests, new TradingRest(restUrl, fetchFn, requestTimeoutMs), () => this.safety.ready());

    this.session.install();
    this.socket.on(ServerEvent.RequestError, (data: RequestError) =>
      this.emit('request-error', new QuantEnergxError(data.code, data.message, { event: data.event, field: data.field })),
    );
    this.marketData.install();
    this.streams.install();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * Connects and resolves on the first authentication. Rejects with a `QuantEnergxError`: the
   * refusal when the credentials are refused for good (after one fresh token from `getToken`),
   * `CONNECT_FAILED` when reconnection gives up (`reconnection.attempts`), `REQUEST_TIMEOUT`
   * after `timeoutMs` (default `connectTimeoutMs`, 30 s), `ABORTED` when `signal` fires.
   */
  connect(options: RequestOptions = {}): Promise<AuthSuccess> {
    return this.session.connect(options);
  }

  /** Disconnects for good: timers stopped, requests waiting or sent rejected at once (`CLIENT_CLOSED`), listeners kept until removed. */
  close(): void {
    if (this.session.closed) return;
    this.session.close();
    this.requests.cancelAll(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
    this.safety.close();
    this.orders.close();
    this.streams.close();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Connected and holding a valid authentication. */
  get authenticated(): boolean {
    return this.session.authenticated;
  }

  /** The latest `auth-success` (its `expiresAt` and `roles`). */
  get authInfo(): AuthSuccess | null {
    return this.session.authInfo;
  }

  /** The latest market data per commodity (latest wins; gaps in market data do not matter). */
  get market(): ReadonlyMap<string, MarketUpdatePayload> {
    return this.marketData.latest;
  }

  /** The latest market status (open, halted, closed) of each commodity followed with `subscribeStatus`. */
  get marketStatus(): ReadonlyMap<string, MarketStatusPayload> {
    return this.marketData.statuses;
  }

  /**
   * Whether `commodity` accepts new orders as far as its status says: open, or not followed (the
   * gateway refuses an order in a halted or closed market anyway, with `MARKET_HALTED` or
   * `MARKET_CLOSED`).
   */
  acceptsOrders(commodity: string): boolean {
    return acceptsOrders(this.marketData.statuses.get(commodity));
  }

  /** The cancel-on-disconnect scope asked for on this client (`off` until `cancelOnDisconnect`). */
  get cancelOnDisconnectScope(): CancelOnDisconnectScope {
    return this.safety.cancelOnDisconnectScope;
  }

  /** The last seq received per stream (market streams by `market-<commodity>`). */
  positions(): Record<string, number> {
    return { ...this.streams.positions(), ...this.marketData.positions() };
  }

  /** What the client is subscribed to (and re-subscribes after a reconnect). */
  subscriptions(): SubscriptionList {
    return this.follows.list();
  }

  /** Fetches a fresh token and authenticates again on the same socket. */
  refreshToken(): Promise<void> {
    return this.session.refreshToken();
  }

  /**
   * A token for this user, valid now: the one the client holds, or a fresh one from `getToken`
   * when it is about to expire. For the application's own calls to the gateway's REST API.
   */
  accessToken(): Promise<string> {
    return this.session.currentToken();
  }

  // ---- requests ------------------------------------------------------------------------------
  // Each takes `{signal, timeoutMs}` last, and rejects with a QuantEnergxError (never throws).

  /** `subscribe-market`; the latest update of each commodity follows at once. */
  subscribeMarket(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.subscribeMarket(commodityList(commodities, ClientEvent.SubscribeMarket), options));
  }

  unsubscribeMarket(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.unsubscribeMarket(commodityList(commodities, ClientEvent.UnsubscribeMarket), options));
  }

  /** `join-trading`: trade executions of `userId` (default: this user). */
  joinTrading(userId: string = this.userId, options?: RequestOptions): Promise<RoomConfirmation> {
    return this.private('trading', true, userId, options);
  }

  leaveTrading(userId: string = this.userId, options?: RequestOptions): Promise<RoomConfirmation> {
    return this.private('trading', false, userId, options);
  }

  /** `subscribe-orders`: order status of `userId` (default: this user). */
  subscribeOrders(userId: string = this.userId, options?: RequestOptions): Promise<UserRoomConfirmation> {
    return this.private('orders', true, userId, options) as Promise<UserRoomConfirmation>;
  }

  unsubscribeOrders(userId: string = this.userId, options?: RequestOptions): Promise<UserRoomConfirmation> {
    return this.private('orders', false, userId, options) as Promise<UserRoomConfirmation>;
  }

  /** `subscribe-compliance`: compliance alerts of `userId` (default: this user). */
  subscribeCompliance(userId: string = this.userId, options?: RequestOptions): Promise<UserRoomConfirmation> {
    return this.private('compliance', true, userId, options) as Promise<UserRoomConfirmation>;
  }

  unsubscribeCompliance(userId: string = this.userId, options?: RequestOptions): Promise<UserRoomConfirmation> {
    return this.private('compliance', false, userId, options) as Promise<UserRoomConfirmation>;
  }

  /**
   * `subscribe-book` (addition): the commodity's top `depth` levels (1-20, default 10), kept
   * current from `book-update` deltas and checked against each update's checksum; on a gap or a
   * mismatch the client asks for a fresh snapshot by itself (`book-resync`). Listen to `book`.
   */
  subscribeBook(commodity: string, options: BookOptions = {}): Promise<BookConfirmation> {
    return attempt(() => this.follows.subscribeBook(checkString(commodity, 'commodity', ClientEvent.SubscribeBook), options.depth ?? 10, options));
  }

  unsubscribeBook(commodity: string, options?: RequestOptions): Promise<BookUnsubscribed> {
    return attempt(() => this.follows.unsubscribeBook(checkString(commodity, 'commodity', ClientEvent.UnsubscribeBook), options));
  }

  /** The streamed book of a commodity as the client holds it (null before its snapshot). */
  book(commodity: string): BookView | null {
    return this.marketData.book(commodity);
  }

  /** `subscribe-trades` (addition): the public tape of these commodities, as `market-trade`. */
  subscribeTrades(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.subscribeTrades(commodityList(commodities, ClientEvent.SubscribeTrades), options));
  }

  unsubscribeTrades(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.unsubscribeTrades(commodityList(commodities, ClientEvent.UnsubscribeTrades), options));
  }

  /**
   * `subscribe-status` (addition): the market status (open, halted, closed) of these commodities:
   * the current one at once, then every change, as `market-status` events and in `marketStatus`.
   */
  subscribeStatus(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.subscribeStatus(commodityList(commodities, ClientEvent.SubscribeStatus), options));
  }

  unsubscribeStatus(commodities: string | readonly string[], options?: RequestOptions): Promise<MarketConfirmation> {
    return attempt(() => this.follows.unsubscribeStatus(commodityList(commodities, ClientEvent.UnsubscribeStatus), options));
  }

  /** The seed's `subscribeToTradingUpdates`: trades and orders of this user. */
  async subscribeTradingUpdates(options?: RequestOptions): Promise<void> {
    await Promise.all([this.joinTrading(this.userId, options), this.subscribeOrders(this.userId, options)]);
  }

  /** Round trip to the gateway; resolves with the server's clock. */
  ping(options?: RequestOptions): Promise<Pong> {
    return this.requests.request(ClientEvent.Ping, undefined, options);
  }

  private private(channel: PrivateChannel, subscribe: boolean, userId: unknown, options: RequestOptions | undefined): Promise<RoomConfirmation | UserRoomConfirmation> {
    return attempt(() => {
      const user = checkString(userId, 'userId', channel);
      return subscribe ? this.follows.subscribePrivate(channel, user, options) : this.follows.unsubscribePrivate(channel, user, options);
    });
  }

  // ---- orders: over the socket while connected and authenticated, REST otherwise -------------

  /**
   * Places an order (`place-order`, or `POST /api/v1/trading/orders` while the socket is down);
   * resolves with it as the gateway answered (`new`, `filled`, ...). Idempotent by
   * `clientOrderId`: one is generated when `body` has none, and a call answered by nothing (a
   * timeout, a connection lost before the answer, an unreachable gateway, `ENGINE_UNAVAILABLE`)
   * is sent again with the same id (`orderRetries`), over whichever transport is up then, so a
   * retry never trades twice. A refused order rejects with the gateway's code (`PRICE_OFF_TICK`,
   * `COMPLIANCE_REJECTED`, `MARKET_HALTED`, `TRADING_DISABLED`, ...) and `error.order` when the
   * gateway recorded it as rejected.
   */
  placeOrder(body: OrderRequestBody, options?: RequestOptions): Promise<OrderUpdatePayload> {
    return attempt(() => {
      if (typeof body !== 'object' || body === null) throw new QuantEnergxError('INVALID_ORDER', `placeOrder: expected an order object, got ${describe(body)}`);
      return this.orders.placeOrder(body, options);
    });
  }

  /** Cancels an open order of this user (`cancel-order` / `DELETE /api/v1/trading/orders/:id`); resolves with the cancelled order. */
  cancelOrder(orderId: string, options?: RequestOptions): Promise<OrderUpdatePayload> {
    return attempt(() => this.orders.cancelOrder(checkString(orderId, 'orderId', 'cancelOrder'), options));
  }

  /**
   * Amends (cancel/replace) a resting limit order of this user: a new price, a new total quantity
   * (more than is filled), or both. A quantity decrease keeps time priority; a price change or an
   * increase loses it; a crossing price trades at once. Resolves with the amended order.
   */
  amendOrder(orderId: string, change: OrderAmendment, options?: RequestOptions): Promise<OrderUpdatePayload> {
    return attempt(() => this.orders.amendOrder(checkString(orderId, 'orderId', 'amendOrder'), change, options));
  }

  /** Cancels all open orders of this user (of one commodity, when given); resolves with them. */
  cancelAll(options: CancelAllOptions = {}): Promise<OrderUpdatePayload[]> {
    return attempt(() => this.orders.cancelAll(options.commodity, options));
  }

  /**
   * Closes this user's net position in `commodity` with a market order (over REST: the socket has
   * no flatten event); resolves with that order. Idempotent like `placeOrder` (by
   * `clientOrderId`, generated when not given).
   */
  flatten(commodity: string, options: FlattenOptions = {}): Promise<OrderUpdatePayload> {
    return attempt(() => this.orders.flatten(checkString(commodity, 'commodity', 'flatten'), options));
  }

  // ---- trading safety nets -------------------------------------------------------------------

  /**
   * `cancel-on-disconnect`: `connection` cancels the open orders placed through this client's
   * socket when its connection ends and is not recovered; `account` cancels all the user's open
   * orders when the user's last account-scoped connection is gone; `off` stops it. The client asks
   * again on every new session (a recovered one keeps it), before any order of that session goes
   * out. Orders the client sends over REST while the socket is down are not placed through the
   * connection: `connection` does not cover them (`account` does).
   */
  cancelOnDisconnect(scope: CancelOnDisconnectScope, options?: RequestOptions): Promise<CancelOnDisconnectAck> {
    return attempt(() => this.safety.cancelOnDisconnect(scope, options));
  }

  /**
   * The dead-man's switch, once (`cancel-all-after`, or its REST twin while the socket is down):
   * unless called again within `timeoutMs` (1 000–86 400 000), all the user's open orders are
   * cancelled; `0` disarms. Resolves with `{timeoutMs, firesAt}`. `deadManSwitch` keeps it armed.
   */
  cancelAllAfter(timeoutMs: number, options?: RequestOptions): Promise<CancelAllAfterAck> {
    return attempt(() => this.orders.cancelAllAfter(timeoutMs, options));
  }

  /**
   * Arms the dead-man's switch and re-arms it every `every` ms (default a third of `timeoutMs`)
   * and at once after each reconnect; resolves once the gateway accepted the first arm (a refusal
   * rejects). `stop()` on the handle stops it and disarms; `close()` stops re-arming and leaves
   * the last deadline standing, so a program that ends without `stop()` has its orders cancelled.
   * One per client: a new one replaces the last.
   */
  deadManSwitch(options: DeadManSwitchOptions): Promise<DeadManSwitch> {
    return attempt(() => this.safety.deadManSwitch(options));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** A new session: subscribe to everything again, then resume every stream from what we hold. */
  private async restore(session: number): Promise<void> {
    const current = () => session === this.session.session && this.socket.connected && !this.session.closed;
    // first: orders of this session wait for cancel-on-disconnect to be in force again
    this.safety.restore(current);
    await this.follows.restore(current);
    if (current()) await this.streams.resumeAll(session);
  }

  private report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  protected override onListenerError(err: unknown, event: keyof QuantEnergxClientEvents): void {
    if (event !== 'error') this.report(err);
  }
}
