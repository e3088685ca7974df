/**
 * `QuantEnergxClient`: the seed's `QuantEnergxWebSocket`, done right. One Socket.IO connection
 * (WebSocket first), authenticated by handshake or by the seed's `authenticate` event; requests
 * that return promises (acks, coded errors); every private event (orders, trades, compliance and
 * system alerts) delivered once and in order across drops, token refreshes and reconnects; the
 * latest market state per commodity.
 */
import { io, type Socket } from 'socket.io-client';
import {
  ClientEvent,
  DataEvent,
  ServerEvent,
  SYSTEM_STREAM,
  rooms,
  type AckResponse,
  type AuthError,
  type AuthSuccess,
  type BookConfirmation,
  type BookSnapshot,
  type BookUnsubscribed,
  type BookUpdate,
  type ClientToServerEvents,
  type DataEventName,
  type DisconnectNotice,
  type Envelope,
  type MarketConfirmation,
  type MarketTrade,
  type MarketUpdatePayload,
  type OrderUpdatePayload,
  type Pong,
  type PrivateChannel,
  type RequestError,
  type Resumed,
  type RoomConfirmation,
  type ServerToClientEvents,
  type UserRoomConfirmation,
} from '@qx/protocol';
import { TypedEmitter } from './emitter.js';
import { QuantEnergxError, isFatalAuthError, type QuantEnergxErrorCode } from './errors.js';
import { EventLogApi, originOf, type FetchLike } from './event-log-api.js';
import { OrderedStreams } from './ordered-streams.js';
import { LocalBook, type BookView } from './order-book.js';
import { TradingRest, type OrderAmendment } from './trading-rest.js';
import { backoffDelay, isExpiring, refreshDelay } from './token.js';
import type { QuantEnergxClientEvents, QuantEnergxClientOptions } from './types.js';

export type QuantEnergxSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What each request's ack carries on success (`ok` removed). */
interface AckBodies {
  [ClientEvent.Authenticate]: AuthSuccess;
  [ClientEvent.JoinTrading]: RoomConfirmation;
  [ClientEvent.LeaveTrading]: RoomConfirmation;
  [ClientEvent.SubscribeMarket]: MarketConfirmation;
  [ClientEvent.UnsubscribeMarket]: MarketConfirmation;
  [ClientEvent.SubscribeOrders]: UserRoomConfirmation;
  [ClientEvent.UnsubscribeOrders]: UserRoomConfirmation;
  [ClientEvent.SubscribeCompliance]: UserRoomConfirmation;
  [ClientEvent.UnsubscribeCompliance]: UserRoomConfirmation;
  [ClientEvent.Ping]: Pong;
  [ClientEvent.Resume]: Resumed;
  [ClientEvent.SubscribeBook]: BookConfirmation;
  [ClientEvent.UnsubscribeBook]: BookUnsubscribed;
  [ClientEvent.SubscribeTrades]: MarketConfirmation;
  [ClientEvent.UnsubscribeTrades]: MarketConfirmation;
}
type RequestEvent = keyof AckBodies;

interface PrivateEvent {
  event: DataEventName;
  envelope: Envelope;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The private room each subscription method joins, by channel. */
const PRIVATE_REQUESTS: Record<PrivateChannel, { subscribe: RequestEvent; unsubscribe: RequestEvent }> = {
  trading: { subscribe: ClientEvent.JoinTrading, unsubscribe: ClientEvent.LeaveTrading },
  orders: { subscribe: ClientEvent.SubscribeOrders, unsubscribe: ClientEvent.UnsubscribeOrders },
  compliance: { subscribe: ClientEvent.SubscribeCompliance, unsubscribe: ClientEvent.UnsubscribeCompliance },
};

/** The gateway's limits on one request (MAX_COMMODITIES_PER_REQUEST default, `resume` streams). */
const MARKET_CHUNK = 32;
const RESUME_CHUNK = 16;
const LOG_PAGE = 1000;
/** Server-initiated disconnects after which reconnecting would only repeat the offence. */
const FINAL_NOTICES = new Set<string>(['ABUSE', 'AUTH_FAILURES']);

/** The stream a data envelope belongs to (`orders-user-1`, `system`), or null for market data. */
export function streamOf(event: DataEventName, envelope: Envelope): string | null {
  const owner = () => envelope.userId ?? (envelope.payload as { userId?: string }).userId ?? '';
  switch (event) {
    case DataEvent.SystemAlert:
      return SYSTEM_STREAM;
    case DataEvent.TradeUpdate:
      return rooms.trading(owner());
    case DataEvent.OrderUpdate:
      return rooms.orders(owner());
    case DataEvent.ComplianceAlert:
      return rooms.compliance(owner());
    default:
      return null;
  }
}

export class QuantEnergxClient extends TypedEmitter<QuantEnergxClientEvents> {
  readonly userId: string;
  /** the underlying socket.io-client socket (typed with the protocol's event maps) */
  readonly socket: QuantEnergxSocket;
  /** counters, for monitoring and tests */
  readonly stats = { duplicatesDropped: 0, gapsRecovered: 0, eventsLost: 0, resumes: 0, logReads: 0, tokenRefreshes: 0, bookResyncs: 0 };

  private readonly options: QuantEnergxClientOptions;
  private readonly requestTimeoutMs: number;
  private readonly gapTimeoutMs: number;
  private readonly backoff: { delayMs: number; delayMaxMs: number; jitter: number };
  private readonly log: EventLogApi;

  private token: string | null;
  private auth: AuthSuccess | null = null;
  /** authenticated and not expired, as far as the client knows */
  private authActive = false;
  private started = false;
  private closed = false;
  /** a new (not recovered) session: subscriptions must be made again once authenticated */
  private restoreNeeded = false;
  /** the session was interrupted (expiry, reconnect): resume every stream once authenticated */
  private resumeNeeded = false;
  private session = 0;
  private firstAuth: Deferred<AuthSuccess> | null = null;
  private authWaiters: Deferred<void>[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshFailures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectAttempts = 0;
  private notice: DisconnectNotice | null = null;
  private handshakeCarriedToken = false;

  private readonly wanted: { market: Set<string> } & Record<PrivateChannel, Set<string>> = {
    market: new Set(),
    trading: new Set(),
    orders: new Set(),
    compliance: new Set(),
  };
  /** streamed books wanted (commodity → depth) and their copies; commodities awaiting a fresh snapshot */
  private readonly wantedBooks = new Map<string, number>();
  private readonly books = new Map<string, LocalBook>();
  private readonly resyncing = new Set<string>();
  private readonly wantedTrades = new Set<string>();
  private readonly tradeSeqs = new Map<string, number>();
  /** streams and commodities given up by the user: late events for them are ignored */
  private readonly dropped = new Set<string>();
  private readonly ordered = new OrderedStreams<PrivateEvent>();
  private readonly marketSeqs = new Map<string, number>();
  private readonly marketState = new Map<string, MarketUpdatePayload>();
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly readingLog = new Set<string>();

  private readonly rest: TradingRest;

  constructor(options: QuantEnergxClientOptions) {
    super();
    if (!options.token && !options.getToken) throw new TypeError('QuantEnergxClient needs a token or getToken()');
    this.options = options;
    this.userId = options.userId;
    this.token = options.token ?? null;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.gapTimeoutMs = options.gapTimeoutMs ?? 3_000;
    this.backoff = {
      delayMs: options.reconnection?.delayMs ?? 500,
      delayMaxMs: options.reconnection?.delayMaxMs ?? 10_000,
      jitter: options.reconnection?.jitter ?? 0.5,
    };
    // called as a plain function: a browser's fetch called as a method of another object throws "Illegal invocation"
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.log = new EventLogApi(options.restUrl ?? originOf(options.url), fetchFn, this.requestTimeoutMs);
    this.rest = new TradingRest(options.restUrl ?? originOf(options.url), fetchFn, this.requestTimeoutMs);

    const handshake = (options.authMode ?? 'handshake') === 'handshake';
    this.socket = io(options.url, {
      autoConnect: false,
      // WebSocket first; long-polling only where WebSockets are blocked
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnection: true,
      reconnectionAttempts: options.reconnection?.attempts ?? Infinity,
      reconnectionDelay: this.backoff.delayMs,
      reconnectionDelayMax: this.backoff.delayMaxMs,
      randomizationFactor: this.backoff.jitter,
      ...(handshake ? { auth: (cb: (data: object) => void) => void this.handshakeAuth(cb) } : {}),
      ...options.socketOptions,
    });
    this.installHandlers();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Connects and resolves on the first successful authentication; rejects if credentials are refused. */
  connect(): Promise<AuthSuccess> {
    if (this.closed) return Promise.reject(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
    if (this.auth && this.authActive && this.socket.connected) return Promise.resolve(this.auth);
    this.firstAuth ??= deferred<AuthSuccess>();
    const pending = this.firstAuth.promise;
    this.started = true;
    if (!this.socket.connected && !this.socket.active) this.socket.connect();
    return pending;
  }

  /** Disconnects for good: timers stopped, waiting requests rejected, listeners kept until removed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.socket.disconnect();
    const err = new QuantEnergxError('CLIENT_CLOSED', 'The client was closed');
    this.firstAuth?.reject(err);
    this.firstAuth = null;
    for (const w of this.authWaiters.splice(0)) w.reject(err);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Connected and holding a valid authentication. */
  get authenticated(): boolean {
    return this.socket.connected && this.authActive;
  }

  /** The latest `auth-success` (its `expiresAt` and `roles`). */
  get authInfo(): AuthSuccess | null {
    return this.auth;
  }

  /** The latest market data per commodity (latest wins; gaps in market data do not matter). */
  get market(): ReadonlyMap<string, MarketUpdatePayload> {
    return this.marketState;
  }

  /** The last seq received per stream (market streams by `market-<commodity>`). */
  positions(): Record<string, number> {
    const out = this.ordered.positions();
    for (const [commodity, seq] of this.marketSeqs) out[rooms.market(commodity)] = seq;
    return out;
  }

  /** What the client is subscribed to (and re-subscribes after a reconnect). */
  subscriptions(): { market: string[] } & Record<PrivateChannel, string[]> {
    return {
      market: [...this.wanted.market],
      trading: [...this.wanted.trading],
      orders: [...this.wanted.orders],
      compliance: [...this.wanted.compliance],
    };
  }

  // ---- requests ------------------------------------------------------------------------------

  /** `subscribe-market`; the latest update of each commodity follows at once. */
  async subscribeMarket(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    const list = typeof commodities === 'string' ? [commodities] : [...commodities];
    const body = await this.request(ClientEvent.SubscribeMarket, list);
    for (const c of body.commodities) {
      this.wanted.market.add(c);
      this.dropped.delete(rooms.market(c));
    }
    return body;
  }

  async unsubscribeMarket(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    const list = typeof commodities === 'string' ? [commodities] : [...commodities];
    for (const c of list) this.wanted.market.delete(c);
    const body = await this.request(ClientEvent.UnsubscribeMarket, list);
    for (const c of body.commodities) {
      this.dropped.add(rooms.market(c));
      this.marketSeqs.delete(c);
      this.marketState.delete(c);
    }
    return body;
  }

  /** `join-trading`: trade executions of `userId` (default: this user). */
  joinTrading(userId: string = this.userId): Promise<RoomConfirmation> {
    return this.subscribePrivate('trading', userId);
  }

  leaveTrading(userId: string = this.userId): Promise<RoomConfirmation> {
    return this.unsubscribePrivate('trading', userId);
  }

  /** `subscribe-orders`: order status of `userId` (default: this user). */
  subscribeOrders(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.subscribePrivate('orders', userId) as Promise<UserRoomConfirmation>;
  }

  unsubscribeOrders(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.unsubscribePrivate('orders', userId) as Promise<UserRoomConfirmation>;
  }

  /** `subscribe-compliance`: compliance alerts of `userId` (default: this user). */
  subscribeCompliance(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.subscribePrivate('compliance', userId) as Promise<UserRoomConfirmation>;
  }

  unsubscribeCompliance(userId: string = this.userId): Promise<UserRoomConfirmation> {
    return this.unsubscribePrivate('compliance', userId) as Promise<UserRoomConfirmation>;
  }

  /**
   * `subscribe-book` (addition): the commodity's top `depth` levels (1-20, default 10), kept
   * current from `book-update` deltas and checked against each update's checksum; on a gap or a
   * mismatch the client asks for a fresh snapshot by itself (`book-resync`). Listen to `book`.
   */
  async subscribeBook(commodity: string, options: { depth?: number } = {}): Promise<BookConfirmation> {
    // wanted before the answer: the snapshot follows the confirmation at once
    this.wantedBooks.set(commodity, options.depth ?? 10);
    try {
      return await this.request(ClientEvent.SubscribeBook, { commodity, depth: options.depth ?? 10 });
    } catch (err) {
      this.wantedBooks.delete(commodity);
      throw err;
    }
  }

  async unsubscribeBook(commodity: string): Promise<BookUnsubscribed> {
    this.wantedBooks.delete(commodity);
    const body = await this.request(ClientEvent.UnsubscribeBook, { commodity });
    this.books.delete(commodity);
    this.resyncing.delete(commodity);
    return body;
  }

  /** The streamed book of a commodity as the client holds it (null before its snapshot). */
  book(commodity: string): BookView | null {
    return this.books.get(commodity)?.view() ?? null;
  }

  /** `subscribe-trades` (addition): the public tape of these commodities, as `market-trade`. */
  async subscribeTrades(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    const list = typeof commodities === 'string' ? [commodities] : [...commodities];
    for (const c of list) this.wantedTrades.add(c);
    try {
      return await this.request(ClientEvent.SubscribeTrades, list);
    } catch (err) {
      for (const c of list) this.wantedTrades.delete(c);
      throw err;
    }
  }

  async unsubscribeTrades(commodities: string | readonly string[]): Promise<MarketConfirmation> {
    const list = typeof commodities === 'string' ? [commodities] : [...commodities];
    for (const c of list) this.wantedTrades.delete(c);
    const body = await this.request(ClientEvent.UnsubscribeTrades, list);
    for (const c of body.commodities) this.tradeSeqs.delete(c);
    return body;
  }

  // ---- order management (REST, with this client's token) -----------------------------------------

  /**
   * Amends (cancel/replace) a resting limit order of this user: a new price, a new total quantity
   * (more than is filled), or both. A quantity decrease keeps time priority; a price change or an
   * increase loses it; a crossing price trades at once. Resolves with the amended order.
   */
  async amendOrder(orderId: string, change: OrderAmendment): Promise<OrderUpdatePayload> {
    return this.rest.amendOrder(orderId, change, await this.currentToken());
  }

  /** Cancels all open orders of this user (of one commodity, when given); resolves with them. */
  async cancelAll(options: { commodity?: string } = {}): Promise<OrderUpdatePayload[]> {
    return this.rest.cancelAll(options.commodity, await this.currentToken());
  }

  /** Closes this user's net position in `commodity` with a market order; resolves with that order. */
  async flatten(commodity: string): Promise<OrderUpdatePayload> {
    return this.rest.flatten(commodity, await this.currentToken());
  }

  /** The seed's `subscribeToTradingUpdates`: trades and orders of this user. */
  async subscribeTradingUpdates(): Promise<void> {
    await Promise.all([this.joinTrading(), this.subscribeOrders()]);
  }

  /** Round trip to the gateway; resolves with the server's clock. */
  ping(): Promise<Pong> {
    return this.request(ClientEvent.Ping, undefined);
  }

  private async subscribePrivate(channel: PrivateChannel, userId: string): Promise<RoomConfirmation | UserRoomConfirmation> {
    const body = await this.request(PRIVATE_REQUESTS[channel].subscribe, userId);
    const stream = rooms[channel](userId);
    const fresh = !this.wanted[channel].has(userId);
    this.wanted[channel].add(userId);
    this.dropped.delete(stream);
    if (fresh) void this.readPosition(stream);
    return body as RoomConfirmation | UserRoomConfirmation;
  }

  private async unsubscribePrivate(channel: PrivateChannel, userId: string): Promise<RoomConfirmation | UserRoomConfirmation> {
    this.wanted[channel].delete(userId);
    const body = await this.request(PRIVATE_REQUESTS[channel].unsubscribe, userId);
    const stream = rooms[channel](userId);
    this.dropped.add(stream);
    this.forgetStream(stream);
    return body as RoomConfirmation | UserRoomConfirmation;
  }

  /**
   * A user request: waits until the client is authenticated, and is sent again when the
   * connection drops before its answer or the token lapsed meanwhile (every request is idempotent).
   */
  private async request<E extends RequestEvent>(event: E, payload: unknown): Promise<AckBodies[E]> {
    if (!this.started) throw new QuantEnergxError('NOT_CONNECTED', 'Call connect() first', { event });
    for (;;) {
      await this.whenAuthenticated();
      try {
        return await this.call(event, payload);
      } catch (err) {
        if (this.closed) throw new QuantEnergxError('CLIENT_CLOSED', 'The client was closed', { event });
        if (err instanceof QuantEnergxError && (err.code === 'TOKEN_EXPIRED' || err.code === 'NOT_AUTHENTICATED')) {
          this.authActive = false;
          void this.refreshToken();
          continue;
        }
        if (err instanceof QuantEnergxError && err.code === 'REQUEST_TIMEOUT' && !this.socket.connected) continue;
        throw err;
      }
    }
  }

  /** One attempt: emits with an ack and maps the answer (or its absence) onto a result or a coded error. */
  private async call<E extends RequestEvent>(event: E, payload: unknown): Promise<AckBodies[E]> {
    const emitter = this.socket.timeout(this.requestTimeoutMs) as unknown as {
      emitWithAck(event: string, ...args: unknown[]): Promise<AckResponse<AckBodies[E]>>;
    };
    let response: AckResponse<AckBodies[E]>;
    try {
      response = payload === undefined ? await emitter.emitWithAck(event) : await emitter.emitWithAck(event, payload);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new QuantEnergxError('REQUEST_TIMEOUT', `${event}: no answer (${reason})`, { event, cause: err });
    }
    if (!response.ok) throw QuantEnergxError.fromWire(response.error, event);
    const { ok: _ok, ...body } = response;
    return body as unknown as AckBodies[E];
  }

  private whenAuthenticated(): Promise<void> {
    if (this.closed) return Promise.reject(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
    if (this.authenticated) return Promise.resolve();
    const d = deferred<void>();
    this.authWaiters.push(d);
    return d.promise;
  }

  // ---- connection and authentication -------------------------------------------------------

  private installHandlers(): void {
    const s = this.socket;
    s.on('connect', () => this.onConnect());
    s.on('disconnect', (reason) => this.onDisconnect(reason));
    s.on('connect_error', (err) => this.onConnectError(err as Error & { data?: { code?: string } }));
    s.on(ServerEvent.AuthSuccess, (data) => this.onAuthSuccess(data));
    s.on(ServerEvent.AuthError, (data) => this.onAuthError(data));
    s.on(ServerEvent.RequestError, (data: RequestError) =>
      this.emit('request-error', new QuantEnergxError(data.code, data.message, { event: data.event, field: data.field })),
    );
    s.on(ServerEvent.DisconnectReason, (notice) => {
      this.notice = notice;
      this.emit('disconnect-reason', notice);
    });
    s.on(ServerEvent.MarketUpdate, (envelope) => this.onMarketUpdate(envelope));
    s.on(ServerEvent.TradeUpdate, (envelope) => this.onPrivateEvent(DataEvent.TradeUpdate, envelope));
    s.on(ServerEvent.OrderUpdate, (envelope) => this.onPrivateEvent(DataEvent.OrderUpdate, envelope));
    s.on(ServerEvent.ComplianceAlert, (envelope) => this.onPrivateEvent(DataEvent.ComplianceAlert, envelope));
    s.on(ServerEvent.SystemAlert, (envelope) => this.onPrivateEvent(DataEvent.SystemAlert, envelope));
    s.on(ServerEvent.BookSnapshot, (snapshot) => this.onBookSnapshot(snapshot));
    s.on(ServerEvent.BookUpdate, (update) => this.onBookUpdate(update));
    s.on(ServerEvent.MarketTrade, (trade) => this.onMarketTrade(trade));
  }

  /** Socket.IO's `auth` callback: runs before every connection attempt, so reconnects carry a live token. */
  private async handshakeAuth(cb: (data: object) => void): Promise<void> {
    try {
      const token = await this.currentToken();
      this.handshakeCarriedToken = true;
      cb({ token, userId: this.userId });
    } catch (err) {
      // no token now: connect anyway, the `authenticate` event will be tried (and reported) once connected
      this.handshakeCarriedToken = false;
      this.report(err);
      cb({});
    }
  }

  private onConnect(): void {
    this.session++;
    this.reconnectAttempts = 0;
    const recovered = this.socket.recovered === true;
    this.emit('connect', { recovered });
    if (recovered && this.auth) {
      // the gateway kept rooms and authentication; it replays from what we acknowledged, and a
      // resume from what we hold closes any remaining hole (duplicates are dropped)
      this.authActive = true;
      this.resolveAuthWaiters();
      void this.resumeAll(this.session);
      return;
    }
    this.authActive = false;
    this.restoreNeeded = true;
    this.resumeNeeded = true;
    // with a handshake token the gateway answers `auth-success` on its own (unless the session was recovered)
    if (recovered || !this.handshakeCarriedToken || (this.options.authMode ?? 'handshake') === 'event') void this.authenticateNow();
  }

  private onDisconnect(reason: string): void {
    this.authActive = false;
    const notice = this.notice;
    this.notice = null;
    let willReconnect = this.socket.active && !this.closed;
    if (reason === 'io server disconnect' && !this.closed) {
      // the gateway closed this socket on purpose; come back unless it said that would not help
      willReconnect = !(notice && FINAL_NOTICES.has(notice.code));
      if (willReconnect) this.scheduleReconnect();
    }
    this.emit('disconnect', { reason, notice, willReconnect });
  }

  private onConnectError(err: Error & { data?: { code?: string } }): void {
    if (this.socket.active || this.closed) return; // a network failure: socket.io retries with backoff
    // refused by the gateway's handshake check
    const code = (err.data?.code ?? 'INVALID_TOKEN') as QuantEnergxErrorCode;
    const error = new QuantEnergxError(code, err.message);
    this.emit('auth-error', error);
    if (code === 'TOKEN_EXPIRED' && this.options.getToken && this.refreshFailures < 3) {
      this.refreshFailures++;
      this.token = null;
      this.scheduleReconnect();
    } else if (isFatalAuthError(code) || code === 'TOKEN_EXPIRED') {
      this.fail(error);
    } else {
      this.scheduleReconnect(); // rate limited, too many connections, server trouble: later
    }
  }

  private async authenticateNow(): Promise<void> {
    const session = this.session;
    let token: string;
    try {
      token = await this.currentToken();
    } catch (err) {
      this.fail(err instanceof QuantEnergxError ? err : new QuantEnergxError('TOKEN_UNAVAILABLE', String(err)));
      return;
    }
    if (session !== this.session || !this.socket.connected) return;
    try {
      await this.call(ClientEvent.Authenticate, { userId: this.userId, token });
    } catch (err) {
      if (!(err instanceof QuantEnergxError) || session !== this.session) return;
      if (err.code === 'TOKEN_EXPIRED') void this.refreshToken();
      else if (isFatalAuthError(err.code)) this.fail(err);
      else if (err.code !== 'REQUEST_TIMEOUT') this.report(err);
    }
  }

  private onAuthSuccess(data: AuthSuccess): void {
    const previousExpiry = this.auth?.expiresAt ? Date.parse(this.auth.expiresAt) : null;
    this.auth = data;
    this.authActive = true;
    this.refreshFailures = 0;
    this.scheduleRefresh(data, previousExpiry);
    this.firstAuth?.resolve(data);
    this.firstAuth = null;
    this.emit('authenticated', data);
    this.resolveAuthWaiters();
    const session = this.session;
    if (this.restoreNeeded) {
      this.restoreNeeded = false;
      this.resumeNeeded = false;
      void this.restore(session);
    } else if (this.resumeNeeded) {
      this.resumeNeeded = false;
      void this.resumeAll(session);
    }
    if (this.ordered.position(SYSTEM_STREAM) === undefined) void this.readPosition(SYSTEM_STREAM);
  }

  private onAuthError(data: AuthError): void {
    const error = new QuantEnergxError(data.code ?? 'INVALID_TOKEN', data.message);
    this.emit('auth-error', error);
    if (error.code === 'TOKEN_EXPIRED' || data.message === 'Token expired') {
      // the gateway suspended our private rooms; a fresh token restores them on this socket
      if (this.auth) {
        this.authActive = false;
        this.resumeNeeded = true;
        void this.refreshToken();
      }
    }
  }

  /** Fetches a fresh token and authenticates again on the same socket. */
  refreshToken(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const getToken = this.options.getToken;
    if (!getToken) {
      if (!this.authActive) this.fail(new QuantEnergxError('TOKEN_EXPIRED', 'Token expired and no getToken() to refresh it'));
      return;
    }
    let token: string;
    try {
      token = await getToken();
    } catch (err) {
      this.report(new QuantEnergxError('TOKEN_UNAVAILABLE', `getToken() failed: ${String(err)}`, { cause: err }));
      this.retryRefresh();
      return;
    }
    this.token = token;
    this.stats.tokenRefreshes++;
    if (!this.socket.connected || this.closed) return; // the next connection carries it
    try {
      await this.call(ClientEvent.Authenticate, { userId: this.userId, token });
    } catch (err) {
      if (err instanceof QuantEnergxError && isFatalAuthError(err.code)) this.fail(err);
      else this.retryRefresh();
    }
  }

  private retryRefresh(): void {
    if (this.closed || this.refreshFailures >= 5) return;
    const delay = backoffDelay(this.refreshFailures++, this.backoff.delayMs, this.backoff.delayMaxMs, this.backoff.jitter);
    this.setRefreshTimer(delay);
  }

  private scheduleRefresh(data: AuthSuccess, previousExpiry: number | null): void {
    if (!this.options.getToken || !data.expiresAt || this.options.refreshBeforeExpiry === false) return;
    const expiresAt = Date.parse(data.expiresAt);
    // a getToken() that hands back the same token must not spin; expiry will tell us instead
    if (previousExpiry !== null && expiresAt <= previousExpiry && this.refreshTimer === null) return;
    this.setRefreshTimer(refreshDelay(expiresAt, Date.now(), this.options.refreshLeadMs ?? 30_000));
  }

  private setRefreshTimer(delay: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshToken();
    }, delay);
  }

  /** The token to offer now: the one held, unless it is about to expire and `getToken` can do better. */
  private async currentToken(): Promise<string> {
    const margin = Math.min(this.options.refreshLeadMs ?? 30_000, 5_000);
    if (this.token && !(this.options.getToken && isExpiring(this.token, Date.now(), margin))) return this.token;
    if (this.options.getToken) {
      this.token = await this.options.getToken();
      return this.token;
    }
    if (this.token) return this.token;
    throw new QuantEnergxError('TOKEN_UNAVAILABLE', 'No token');
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = backoffDelay(this.reconnectAttempts++, this.backoff.delayMs, this.backoff.delayMaxMs, this.backoff.jitter);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  /** Credentials refused for good: stop, and tell whoever waits. */
  private fail(error: QuantEnergxError): void {
    this.clearTimers();
    this.socket.disconnect();
    this.started = false;
    this.firstAuth?.reject(error);
    this.firstAuth = null;
    for (const w of this.authWaiters.splice(0)) w.reject(error);
    if (this.listenerCount('auth-error') === 0) this.report(error);
  }

  private resolveAuthWaiters(): void {
    for (const w of this.authWaiters.splice(0)) w.resolve();
  }

  private clearTimers(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.refreshTimer = null;
    this.reconnectTimer = null;
    for (const t of this.gapTimers.values()) clearTimeout(t);
    this.gapTimers.clear();
  }

  // ---- after a reconnect ---------------------------------------------------------------------

  /** A new session: subscribe to everything again, then resume every stream from what we hold. */
  private async restore(session: number): Promise<void> {
    const current = () => session === this.session && this.socket.connected && !this.closed;
    const markets = [...this.wanted.market];
    for (let i = 0; i < markets.length && current(); i += MARKET_CHUNK) {
      const chunk = markets.slice(i, i + MARKET_CHUNK);
      try {
        await this.call(ClientEvent.SubscribeMarket, chunk);
      } catch (err) {
        if (!current()) return;
        // one bad symbol fails the whole request: subscribe one by one and drop what is refused
        for (const c of chunk) {
          await this.call(ClientEvent.SubscribeMarket, [c]).catch((e: unknown) => this.dropRefused(e, () => this.wanted.market.delete(c)));
        }
        this.report(err);
      }
    }
    for (const channel of ['trading', 'orders', 'compliance'] as const) {
      for (const userId of [...this.wanted[channel]]) {
        if (!current()) return;
        await this.call(PRIVATE_REQUESTS[channel].subscribe, userId).catch((e: unknown) =>
          this.dropRefused(e, () => {
            this.wanted[channel].delete(userId);
            this.forgetStream(rooms[channel](userId));
          }),
        );
      }
    }
    for (const [commodity, depth] of [...this.wantedBooks]) {
      if (!current()) return;
      this.books.delete(commodity);
      await this.call(ClientEvent.SubscribeBook, { commodity, depth }).catch((e: unknown) => this.dropRefused(e, () => this.wantedBooks.delete(commodity)));
    }
    const tapes = [...this.wantedTrades];
    if (tapes.length && current()) {
      for (const c of tapes) this.tradeSeqs.delete(c);
      await this.call(ClientEvent.SubscribeTrades, tapes).catch((e: unknown) => this.report(e));
    }
    if (current()) await this.resumeAll(session);
  }

  private dropRefused(err: unknown, drop: () => void): void {
    if (err instanceof QuantEnergxError && err.code !== 'REQUEST_TIMEOUT' && err.code !== 'RATE_LIMITED' && err.code !== 'TOKEN_EXPIRED') drop();
    this.report(err);
  }

  private async resumeAll(session: number): Promise<void> {
    try {
      await this.resume(undefined, session);
    } catch (err) {
      if (session === this.session && this.socket.connected) this.report(err);
    }
  }

  /**
   * `resume {stream: lastSeq}` for the given streams (default: all): the gateway replays what
   * followed. A full replay means more may remain, which is then read from the REST event log.
   */
  private async resume(only: readonly string[] | undefined, session = this.session): Promise<void> {
    const entries = Object.entries(this.ordered.positions()).filter(([s]) => !only || only.includes(s));
    const limit = this.options.serverReplayLimit ?? 1000;
    for (let i = 0; i < entries.length; i += RESUME_CHUNK) {
      let chunk = entries.slice(i, i + RESUME_CHUNK);
      while (chunk.length > 0) {
        if (session !== this.session || !this.socket.connected) return;
        try {
          this.stats.resumes++;
          const result = await this.call(ClientEvent.Resume, Object.fromEntries(chunk));
          for (const [stream, r] of Object.entries(result.streams)) {
            if (r.replayed >= limit) void this.readLog(stream, r.lastSeq, false);
          }
          break;
        } catch (err) {
          // a stream the gateway no longer has us in: stop tracking it, resume the others
          const field = err instanceof QuantEnergxError && (err.code === 'FORBIDDEN' || err.code === 'INVALID_STREAM') ? err.field : undefined;
          if (field === undefined) throw err;
          chunk = chunk.filter(([s]) => s !== field);
          this.forgetStream(field);
        }
      }
    }
  }

  // ---- data ----------------------------------------------------------------------------------

  private onBookSnapshot(snapshot: BookSnapshot): void {
    if (!this.wantedBooks.has(snapshot.commodity)) return;
    const book = new LocalBook(snapshot);
    this.books.set(snapshot.commodity, book);
    this.resyncing.delete(snapshot.commodity);
    this.emit('book', book.view());
  }

  private onBookUpdate(update: BookUpdate): void {
    const book = this.books.get(update.commodity);
    if (!book || this.resyncing.has(update.commodity)) return; // a fresh snapshot is on its way
    const result = book.apply(update);
    if (result === 'stale') return;
    if (result === 'applied') {
      this.emit('book', book.view());
      return;
    }
    // the copy cannot be trusted any more: ask for a fresh snapshot (the gateway re-sends one)
    this.stats.bookResyncs++;
    this.resyncing.add(update.commodity);
    this.emit('book-resync', { commodity: update.commodity, reason: result });
    const depth = this.wantedBooks.get(update.commodity) ?? book.depth;
    this.request(ClientEvent.SubscribeBook, { commodity: update.commodity, depth }).catch((err: unknown) => {
      this.resyncing.delete(update.commodity);
      this.report(err);
    });
  }

  private onMarketTrade(trade: MarketTrade): void {
    if (!this.wantedTrades.has(trade.commodity)) return;
    const last = this.tradeSeqs.get(trade.commodity);
    if (last !== undefined && trade.seq <= last) {
      this.stats.duplicatesDropped++;
      return;
    }
    this.tradeSeqs.set(trade.commodity, trade.seq);
    this.emit('market-trade', trade);
  }

  private onMarketUpdate(envelope: Envelope<'market-update'>): void {
    const commodity = envelope.payload.commodity;
    if (this.dropped.has(rooms.market(commodity))) return;
    if (typeof envelope.seq === 'number') {
      const last = this.marketSeqs.get(commodity);
      if (last !== undefined && envelope.seq <= last) {
        this.stats.duplicatesDropped++;
        return;
      }
      this.marketSeqs.set(commodity, envelope.seq);
    }
    this.marketState.set(commodity, envelope.payload);
    this.emit(DataEvent.MarketUpdate, envelope);
  }

  private onPrivateEvent(event: DataEventName, envelope: Envelope): void {
    const stream = streamOf(event, envelope);
    if (stream === null || typeof envelope.seq !== 'number') {
      this.deliver({ event, envelope });
      return;
    }
    if (this.dropped.has(stream)) return;
    const hadGap = this.ordered.gap(stream) !== null;
    const { deliver, duplicate } = this.ordered.receive(stream, envelope.seq, { event, envelope });
    if (duplicate) this.stats.duplicatesDropped++;
    for (const item of deliver) this.deliver(item);
    const gap = this.ordered.gap(stream);
    if (gap) this.onGap(stream);
    else if (hadGap) {
      this.stats.gapsRecovered++;
      const timer = this.gapTimers.get(stream);
      if (timer) clearTimeout(timer);
      this.gapTimers.delete(stream);
    }
  }

  private deliver(item: PrivateEvent): void {
    (this.emit as (event: DataEventName, envelope: Envelope) => void).call(this, item.event, item.envelope);
  }

  /** Events are missing before the ones held: ask the gateway now, the event log if that is not enough. */
  private onGap(stream: string): void {
    if (this.readingLog.has(stream) || this.gapTimers.has(stream)) return;
    this.gapTimers.set(
      stream,
      setTimeout(() => {
        this.gapTimers.delete(stream);
        void this.readLog(stream, undefined, true);
      }, this.gapTimeoutMs),
    );
    if (this.authenticated) void this.resume([stream]).catch((err: unknown) => this.report(err));
  }

  /**
   * Reads a stream from the REST event log after `after` (default: where we stand) and feeds
   * what it finds through the same in-order path. With `giveUp`, missing events the log no longer
   * holds are reported as a `stream-gap` and the events held behind them released.
   */
  private async readLog(stream: string, after: number | undefined, giveUp: boolean): Promise<void> {
    const from = after ?? this.ordered.gap(stream)?.after ?? this.ordered.position(stream);
    if (from === undefined || this.readingLog.has(stream) || this.closed) return;
    this.readingLog.add(stream);
    let complete = false;
    try {
      const token = await this.currentToken();
      let cursor = from;
      for (;;) {
        this.stats.logReads++;
        const page = await this.log.page(stream, cursor, LOG_PAGE, token);
        for (const e of page.events) this.onPrivateEvent(e.event, e.envelope);
        const lastEvent = page.events.at(-1);
        if (!page.hasMore || !lastEvent) break;
        cursor = lastEvent.seq;
      }
      complete = true;
    } catch (err) {
      this.report(err);
    } finally {
      this.readingLog.delete(stream);
    }
    if (this.closed || this.dropped.has(stream)) return;
    if (complete && giveUp) {
      for (let skipped = this.ordered.skipGap(stream); skipped; skipped = this.ordered.skipGap(stream)) {
        this.stats.eventsLost += skipped.missing.to - skipped.missing.from + 1;
        this.emit('stream-gap', { stream, ...skipped.missing });
        for (const item of skipped.deliver) this.deliver(item);
      }
    } else if (this.ordered.gap(stream)) {
      this.onGap(stream);
    }
  }

  /** Where a stream stands when it is first followed, so a reconnect before its first event loses nothing. */
  private async readPosition(stream: string): Promise<void> {
    if (this.options.fetchStreamPositions === false) return;
    try {
      const token = await this.currentToken();
      const last = await this.log.lastSeq(stream, token);
      if (!this.dropped.has(stream)) this.ordered.setFloor(stream, last);
    } catch (err) {
      this.report(err);
    }
  }

  private forgetStream(stream: string): void {
    this.ordered.forget(stream);
    const timer = this.gapTimers.get(stream);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(stream);
  }

  private report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  protected override onListenerError(err: unknown, event: keyof QuantEnergxClientEvents): void {
    if (event !== 'error') this.report(err);
  }
}
