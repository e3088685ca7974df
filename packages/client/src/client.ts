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
 * tape) and `OrderEntry` (order calls).
 */
import { io } from 'socket.io-client';
import { ClientEvent, ServerEvent, type AuthSuccess, type BookConfirmation, type BookUnsubscribed, type MarketConfirmation, type MarketUpdatePayload, type OrderUpdatePayload, type Pong, type RequestError, type RoomConfirmation, type UserRoomConfirmation } from '@qx/protocol';
import type { ClientContext, ClientStats, QuantEnergxSocket } from './context.js';
import { TypedEmitter } from './emitter.js';
import { QuantEnergxError } from './errors.js';
import { EventLogApi, originOf, type FetchLike } from './event-log-api.js';
import { MarketData } from './market-data.js';
import type { BookView } from './order-book.js';
import { OrderEntry } from './orders.js';
import { PrivateStreams } from './private-streams.js';
import { Requests } from './requests.js';
import { Session } from './session.js';
import { Subscriptions, type SubscriptionList } from './subscriptions.js';
import { TradingRest, type OrderAmendment } from './trading-rest.js';
import type { QuantEnergxClientEvents, QuantEnergxClientOptions } from './types.js';

export type { QuantEnergxSocket } from './context.js';
export { streamOf } from './private-streams.js';

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

  constructor(options: QuantEnergxClientOptions) {
    super();
    if (!options.token && !options.getToken) throw new TypeError('QuantEnergxClient needs a token or getToken()');
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
      recovered: (session) => void this.streams.resumeAll(session),
      authenticated: () => this.streams.authenticated(),
    });
    this.requests = new Requests(ctx, this.session);
    this.marketData = new MarketData(ctx, this.requests, () => this.follows);
    this.streams = new PrivateStreams(ctx, this.requests, this.session, new EventLogApi(restUrl, fetchFn, requestTimeoutMs), () => this.follows);
    this.follows = new Subscriptions(ctx, this.requests, this.marketData, this.streams);
    this.orders = new OrderEntry(this.session, new TradingRest(restUrl, fetchFn, requestTimeoutMs));

    this.session.install();
    this.socket.on(ServerEvent.RequestError, (data: RequestError) =>
      this.emit('request-error', new QuantEnergxError(data.code, data.message, { event: data.event, field: data.field })),
    );
    this.marketData.install();
    this.streams.install();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Connects and resolves on the first successful authentication; rejects if credentials are refused. */
  connect(): Promise<AuthSuccess> {
    return this.session.connect();
  }

  /** Disconnects for good: timers stopped, waiting requests rejected, listeners kept until removed. */
  close(): void {
    this.session.close();
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

  // ---- requests ------------------------------------------------------------------------------

  /** `subscribe-market`; the latest update of each commodity follows at once. */
  subscribeMarket(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    return this.follows.subscribeMarket(typeof commodities === 'string' ? [commodities] : [...commodities]);
  }

  unsubscribeMarket(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    return this.follows.unsubscribeMarket(typeof commodities === 'string' ? [commodities] : [...commodities]);
  }

  /** `join-trading`: trade executions of `userId` (default: this user). */
  joinTrading(userId: string = this.userId): Promise<RoomConfirmation> {
    return this.follows.subscribePrivate('trading', userId);
  }

  leaveTrading(userId: string = this.userId): Promise<RoomConfirmation> {
    return this.follows.unsubscribePrivate('trading', userId);
  }

  /** `subscribe-orders`: order status of `userId` (default: this user). */
  subscribeOrders(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.follows.subscribePrivate('orders', userId) as Promise<UserRoomConfirmation>;
  }

  unsubscribeOrders(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.follows.unsubscribePrivate('orders', userId) as Promise<UserRoomConfirmation>;
  }

  /** `subscribe-compliance`: compliance alerts of `userId` (default: this user). */
  subscribeCompliance(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.follows.subscribePrivate('compliance', userId) as Promise<UserRoomConfirmation>;
  }

  unsubscribeCompliance(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.follows.unsubscribePrivate('compliance', userId) as Promise<UserRoomConfirmation>;
  }

  /**
   * `subscribe-book` (addition): the commodity's top `depth` levels (1-20, default 10), kept
   * current from `book-update` deltas and checked against each update's checksum; on a gap or a
   * mismatch the client asks for a fresh snapshot by itself (`book-resync`). Listen to `book`.
   */
  subscribeBook(commodity: string, options: { depth?: number } = {}): Promise<BookConfirmation> {
    return this.follows.subscribeBook(commodity, options.depth ?? 10);
  }

  unsubscribeBook(commodity: string): Promise<BookUnsubscribed> {
    return this.follows.unsubscribeBook(commodity);
  }

  /** The streamed book of a commodity as the client holds it (null before its snapshot). */
  book(commodity: string): BookView | null {
    return this.marketData.book(commodity);
  }

  /** `subscribe-trades` (addition): the public tape of these commodities, as `market-trade`. */
  subscribeTrades(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    return this.follows.subscribeTrades(typeof commodities === 'string' ? [commodities] : [...commodities]);
  }

  unsubscribeTrades(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    return this.follows.unsubscribeTrades(typeof commodities === 'string' ? [commodities] : [...commodities]);
  }

  /** The seed's `subscribeToTradingUpdates`: trades and orders of this user. */
  async subscribeTradingUpdates(): Promise<void> {
    await Promise.all([this.joinTrading(), this.subscribeOrders()]);
  }

  /** Round trip to the gateway; resolves with the server's clock. */
  ping(): Promise<Pong> {
    return this.requests.request(ClientEvent.Ping, undefined);
  }

  // ---- order management (REST, with this client's token) -----------------------------------------

  /**
   * Amends (cancel/replace) a resting limit order of this user: a new price, a new total quantity
   * (more than is filled), or both. A quantity decrease keeps time priority; a price change or an
   * increase loses it; a crossing price trades at once. Resolves with the amended order.
   */
  amendOrder(orderId: string, change: OrderAmendment): Promise<OrderUpdatePayload> {
    return this.orders.amendOrder(orderId, change);
  }

  /** Cancels all open orders of this user (of one commodity, when given); resolves with them. */
  cancelAll(options: { commodity?: string } = {}): Promise<OrderUpdatePayload[]> {
    return this.orders.cancelAll(options.commodity);
  }

  /** Closes this user's net position in `commodity` with a market order; resolves with that order. */
  flatten(commodity: string): Promise<OrderUpdatePayload> {
    return this.orders.flatten(commodity);
  }

  // ---- internals -----------------------------------------------------------------------------

  /** A new session: subscribe to everything again, then resume every stream from what we hold. */
  private async restore(session: number): Promise<void> {
    const current = () => session === this.session.session && this.socket.connected && !this.session.closed;
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
