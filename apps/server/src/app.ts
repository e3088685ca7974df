/**
 * Builds the whole gateway from a parsed config, without listening: `buildServer(config)` returns
 * something to `listen` and `close`. Parts are started in order and stopped in reverse.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Server } from 'socket.io';
import pino, { type Logger } from 'pino';
import { Exchange } from '@qx/engine';
import { ServerEvent, DisconnectCode, decimalsOf, type DisconnectCodeName } from '@qx/protocol';
import type { Config } from './config.js';
import { Metrics } from './metrics.js';
import type { Sqlite } from './store/sqlite/database.js';
import { immediateReads, type Store } from './store/store.js';
import { BookFeed } from './realtime/book-feed.js';
import { bookChannel } from './channels/book.js';
import { tradesChannel } from './channels/trades.js';
import { statusChannel } from './channels/status.js';
import { orderEntryChannel } from './channels/order-entry.js';
import { adminRoutes } from './http/routes/admin.js';
import { JwksTokenVerifier, SecretTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import { FailureLimiter } from './auth/failure-limiter.js';
import { CachingVerifier } from './auth/caching-verifier.js';
import { Hub } from './realtime/hub.js';
import { Delivery } from './realtime/delivery.js';
import type { OutboundFrame } from './realtime/frame.js';
import { Authenticator } from './realtime/authenticator.js';
import { Gateway } from './realtime/gateway.js';
import { HandshakeGate } from './realtime/handshake-gate.js';
import type { QxServer } from './realtime/types.js';
import { marketChannel } from './channels/market.js';
import { tradingChannel } from './channels/trading.js';
import { ordersChannel } from './channels/orders.js';
import { complianceChannel } from './channels/compliance.js';
import { systemChannel } from './channels/system.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers, sendError } from './http/errors.js';
import { installSecurityHeaders } from './http/security.js';
import { installRestLimits } from './http/rate-limits.js';
import { trustFunction } from './http/client-address.js';
import { internalEndpoints, type InternalEndpoints } from './http/internal-endpoints.js';
import { publishRoutes } from './http/routes/publish.js';
import { userRoutes, type UserControl } from './http/routes/users.js';
import { eventRoutes } from './http/routes/events.js';
import { devTokenRoutes } from './http/routes/dev-token.js';
import { marketRoutes } from './http/routes/market.js';
import { tradingRoutes } from './http/routes/trading.js';
import { openApiRoutes, trackRoutes, type RouteInfo } from './http/routes/openapi.js';
import type { Backplane, ControlMessage } from './backplane/backplane.js';
import { openInProcessBackplane } from './backplane/in-process/in-process-backplane.js';
import type { TradingService } from './core/trading-service.js';
import type { CommitOptions, EventSink, Published, PublishItem } from './core/event-committer.js';
import type { MarketUpdatePayload } from '@qx/protocol';

export interface ServerDeps {
  logger?: Logger;
  now?: () => number;
  /** a verifier to use instead of the one the config describes (tests) */
  verifier?: TokenVerifier;
  /** called when the process must stop (the store failed); main.ts exits, tests may observe */
  onFatal?: (err: unknown) => void;
  /** the deployment this gateway runs in (default: everything in this process, see backplane/) */
  backplane?: Backplane | undefined;
  /** the metrics registry to fill (a cluster's ROLE=all: the one the engine node fills too) */
  metrics?: Metrics | undefined;
  /** how often the activity summary is logged at info (default a minute; tests) */
  summaryIntervalMs?: number;
}

/** Publishing and the latest market data, as this node sees them (the publish API's path; tests). */
export interface AppPublisher {
  commit(items: readonly PublishItem[], options?: CommitOptions): Promise<Published[]>;
  publish(item: PublishItem): void;
  publishMany(items: readonly PublishItem[]): void;
  /** the newest committed seq of a stream (the single process's store answers at once) */
  lastSeq(stream: string): number;
  latestMarketFrame(commodity: string): OutboundFrame | undefined;
  latestMarketPayload(commodity: string): MarketUpdatePayload | null;
  latestMarketEnvelopes(): unknown[];
}

export interface QxApp {
  readonly config: Config;
  readonly http: FastifyInstance;
  readonly io: QxServer;
  readonly publisher: AppPublisher;
  readonly backplane: Backplane;
  /** the trading core in this process (null when it runs elsewhere: a cluster's engine leader) */
  readonly trading: TradingService | null;
  /** the commodities' books in this process (elsewhere: the catalogue only, for wire formats) */
  readonly exchange: Exchange;
  /** the streaming order books (`subscribe-book`): `tick()` publishes the books' changes now (one process) */
  readonly bookFeed: { tick(): void };
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly store: Store;
  /** the SQLite file under the store (null in a cluster) */
  readonly db: Sqlite | null;
  /** the demo secret's signer (demo mode only) */
  readonly devSigner: SecretTokenVerifier | null;
  /** the publish API key in force (random in demo mode when none was configured) */
  readonly publishApiKey: string;
  /** every HTTP route registered (method, url) */
  readonly routes: readonly RouteInfo[];
  /** /metrics, /health and /ready: on the public port, or on ADMIN_PORT when it is set */
  readonly internal: InternalEndpoints;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

/** How long a stop waits at most for every socket to take the SHUTDOWN notice (a poll to collect it). */
const NOTICE_WAIT_MS = 3000;

interface EngineSocketState {
  readyState: string;
  writeBuffer: unknown[];
  /** one entry per flush whose transport has not yet reported it written (engine.io internals) */
  sentCallbackFn?: unknown[];
  upgrading?: boolean;
}

/**
 * How long a stop keeps the keep-alive connections that carry REST requests open at most: a client
 * sending on one gets its answer (503 while stopping, with `Connection: close`), never a reset.
 */
const REST_DRAIN_MS = 1000;
/** While it drains, a stop closes a REST connection no request has been on for this long. */
const REST_IDLE_CLOSE_MS = 200;

/** A keep-alive connection REST requests came on: how many are being answered, and since when none. */
interface RestConnection {
  busy: number;
  idleSince: number;
}

/** Resolves once every REST connection has closed (each after its last answer), or after `ms`. */
async function drainRest(open: ReadonlyMap<NetSocket, RestConnection>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = Date.now();
    for (const [connection, state] of open) if (state.busy === 0 && t - state.idleSince >= REST_IDLE_CLOSE_MS) connection.destroy();
    if (open.size === 0 || t >= deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once every open Engine.IO socket has written out everything queued for it, or after `ms`. */
async function noticeDelivered(io: QxServer, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const pending = () =>
    Object.values((io.engine as unknown as { clients: Record<string, EngineSocketState> }).clients).some(
      (c) => c.readyState === 'open' && (c.writeBuffer.length > 0 || (c.sentCallbackFn?.length ?? 0) > 0 || c.upgrading === true),
    );
  while (pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** How many missed events one replay sends at most; beyond that the client pages through REST. */
const REPLAY_LIMIT = 1000;

/**
 * New sessions between admission and connection at most (see HandshakeGate): enough to keep both
 * cores busy with handshakes, few enough that each finishes in tens of milliseconds during a storm.
 */
const HANDSHAKES_AT_ONCE = 64;
/**
 * How long an admitted session that has not connected holds its slot: long enough for a handshake
 * during a storm, short enough that clients opening transports and never connecting cannot keep
 * others waiting for long.
 */
const HANDSHAKE_HOLD_MS = 500;
/**
 * Connections the kernel queues before they are accepted (capped by net.core.somaxconn). Node's
 * default of 511 overflows when a dead gateway's clients all come back at once: the dropped SYNs
 * are retried only after a second, then three.
 */
const LISTEN_BACKLOG = 4096;

export function buildServer(config: Config, deps: ServerDeps = {}): QxApp {
  const logger = deps.logger ?? pino({ level: config.logLevel, base: { service: 'quantenergx-realtime' } });
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? new Metrics();
  const backplane =
    deps.backplane ??
    openInProcessBackplane(config, { logger, metrics, now, onFatal: deps.onFatal ?? ((err) => logger.fatal({ err }, 'trading stopped: the store failed')) });
  const { store, feed } = backplane;

  let devSigner: SecretTokenVerifier | null = null;
  let verifier: TokenVerifier;
  const claims = { issuer: config.auth.issuer, audience: config.auth.audience, allowNoExp: config.auth.allowNoExp };
  if (config.auth.jwksUrl) verifier = new JwksTokenVerifier(config.auth.jwksUrl, config.auth.algorithms, claims);
  else if (config.auth.secret) verifier = new SecretTokenVerifier(config.auth.secret, claims);
  else {
    // demo mode: the deployment keeps one secret (one process: in DATA_DIR; a cluster: in Redis), so
    // a token works on every node and across restarts
    devSigner = new SecretTokenVerifier(backplane.demoSecret ?? randomBytes(32).toString('hex'), claims);
    verifier = devSigner;
  }
  if (deps.verifier) verifier = deps.verifier;
  verifier = new CachingVerifier(verifier, now);
  const publishApiKey = config.publishApiKey ?? backplane.publishApiKey ?? randomBytes(24).toString('hex');
  const trustProxy = trustFunction(config.trustProxy);

  // pino's Logger type is richer than Fastify's base logger type; the instance is the same
  const http = Fastify({
    // per-request logs would drown everything else; errors are still logged
    loggerInstance: logger.child({ part: 'http' }, { level: logger.levelVal > 40 ? logger.level : 'warn' }),
    bodyLimit: config.limits.maxPayloadBytes,
    trustProxy,
    frameworkErrors,
    clientErrorHandler,
  }) as unknown as FastifyInstance;
  const routes = trackRoutes(http);
  let stopping = false;
  const gate = new HandshakeGate({ limit: HANDSHAKES_AT_ONCE, holdMs: HANDSHAKE_HOLD_MS });
  const canRecover = metrics.countingRecoveries((data: unknown) => withinReplayBound(data));
  const io: QxServer = new Server(http.server, {
    adapter: backplane.sessions.adapter(canRecover) as never,
    serveClient: false,
    pingInterval: config.ping.intervalMs,
    pingTimeout: config.ping.timeoutMs,
    // a stopping server takes no new sessions (the ones it has still poll for the notice); the
    // others are admitted a few at a time (a resume storm after a gateway died: see HandshakeGate)
    allowRequest: (req, callback) => {
      if (stopping) return callback('The server is shutting down', false);
      gate.enter(req, () => callback(stopping ? 'The server is shutting down' : null, !stopping));
    },
    cors: { origin: config.corsOrigin === '*' ? true : config.corsOrigin.split(',').map((o) => o.trim()) },
    // a hard cap well above MAX_PAYLOAD_BYTES: between the two, requests get a coded error
    maxHttpBufferSize: Math.max(1024 * 1024, config.limits.maxPayloadBytes * 4),
    ...(config.recoveryWindowMs > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: config.recoveryWindowMs, skipMiddlewares: true } }
      : {}),
  });
  // a session's slot is free once it has connected (or closed without connecting)
  io.engine.on('connection', (conn: { request: IncomingMessage; once(event: 'close', fn: () => void): void }) => conn.once('close', () => gate.done(conn.request)));
  io.on('connection', (socket) => gate.done(socket.conn.request));
  // while stopping every answer, Socket.IO's too, closes its connection: none is left open for a
  // client to send on after the server stopped listening
  http.server.prependListener('request', (_request, response) => {
    if (stopping) response.setHeader('connection', 'close');
  });
  // the rooms this node has sockets in: the deployment brings their streams here
  io.of('/').adapter.on('create-room', (room: string) => feed.listen(room));
  io.of('/').adapter.on('delete-room', (room: string) => feed.unlisten(room));

  /**
   * Whether a session may be recovered: only when the server knows what the client received, so
   * that the replay is exactly what it missed, and that fits in one replay. If this node saw the
   * cut, every recoverable frame written to the socket must have been confirmed (a pong to a ping
   * sent after it); one still in flight may or may not have arrived. And in every stream, what was
   * published after that point must be at most REPLAY_LIMIT events. Otherwise the session is not
   * recovered (recovered false: a fresh session, and the client takes the snapshot).
   */
  async function withinReplayBound(data: unknown): Promise<boolean> {
    const d = data as { written?: Record<string, number>; confirmed?: Record<string, number>; cut?: boolean } | null;
    if (d?.cut) {
      for (const [stream, seq] of Object.entries(d.written ?? {})) if (seq !== d.confirmed?.[stream]) return false;
    }
    const from = { ...d?.written, ...d?.confirmed };
    for (const [stream, seq] of Object.entries(from)) {
      if (typeof seq !== 'number') continue;
      if ((await feed.lastSeq(stream)) - seq > REPLAY_LIMIT) return false;
    }
    return true;
  }

  let gateway: Gateway | null = null;
  let slowConsumers = 0;
  const hub = new Hub(io, config.limits, metrics, (socket) => {
    slowConsumers++;
    gateway?.disconnect(socket, 'SLOW_CONSUMER', true);
  });
  const commodities = new Set(config.commodities.map((c) => c.symbol));
  const catalogue = new Map(config.commodities.map((c) => [c.symbol, c]));
  const bookFeed = new BookFeed({
    io,
    hub,
    now,
    decimals: (commodity) => decimalsOf(catalogue.get(commodity)?.tickSize ?? 1),
    latest: (commodity) => feed.book(commodity),
    logger: logger.child({ part: 'books' }),
  });
  const delivery = new Delivery({ hub, feed, sessions: backplane.sessions, metrics, onBookDelta: bookFeed.onDelta, logger: logger.child({ part: 'delivery' }) });
  const addressLimiter = new FailureLimiter(config.limits.authFailuresPerAddress, 60_000, now);
  const authenticator = new Authenticator({
    verifier,
    delivery,
    metrics,
    addressLimiter,
    now,
    maxConnectionsPerUser: config.limits.maxConnectionsPerUser,
    authFailuresPerSocket: config.limits.authFailuresPerSocket,
    failureDelayMs: config.limits.authFailureDelayMs,
    replayLimit: REPLAY_LIMIT,
    onTooManyFailures: (socket) => gateway?.disconnect(socket, 'AUTH_FAILURES', false),
    presence: backplane.presence,
    // a refresh dropped roles: the user's other sockets lose them too, on every node
    onRolesNarrowed: (userId, roles) => void backplane.control.send({ type: 'roles-changed', userId, roles: [...roles] }),
  });
  /** What a node decided about a user, acted on for this node's sockets of the user. */
  const onControl = (message: ControlMessage): void => {
    if (message.type === 'disconnect-user') {
      const code = message.code in DisconnectCode ? (message.code as DisconnectCodeName) : 'USER_DISCONNECTED';
      gateway?.disconnectUser(message.userId, code);
    } else {
      for (const socket of authenticator.narrowRoles(message.userId, message.roles)) backplane.sessions.touch(socket);
    }
  };
  const userControl: UserControl = {
    disconnectUser: (userId) => backplane.control.send({ type: 'disconnect-user', userId, code: 'USER_DISCONNECTED' }),
  };
  const privateDeps = { delivery, maxSubscriptionsPerSocket: config.limits.maxSubscriptionsPerSocket, replayLimit: REPLAY_LIMIT };
  gateway = new Gateway({
    io,
    hub,
    authenticator,
    channels: [
      marketChannel({ hub, delivery, commodities, maxCommoditiesPerRequest: config.limits.maxCommoditiesPerRequest, maxSubscriptionsPerSocket: config.limits.maxSubscriptionsPerSocket }),
      tradingChannel(privateDeps),
      ordersChannel(privateDeps),
      complianceChannel(privateDeps),
      systemChannel({ delivery, flush: hub.flushAll, replayLimit: REPLAY_LIMIT, now }),
      bookChannel({ feed: bookFeed, commodities, maxCommoditiesPerRequest: config.limits.maxCommoditiesPerRequest, maxSubscriptionsPerSocket: config.limits.maxSubscriptionsPerSocket }),
      tradesChannel({ commodities, maxCommoditiesPerRequest: config.limits.maxCommoditiesPerRequest, maxSubscriptionsPerSocket: config.limits.maxSubscriptionsPerSocket }),
      statusChannel({ hub, delivery, commodities, maxCommoditiesPerRequest: config.limits.maxCommoditiesPerRequest, maxSubscriptionsPerSocket: config.limits.maxSubscriptionsPerSocket }),
      orderEntryChannel({ trading: backplane.trading, nodeId: config.nodeId, touch: (socket) => backplane.sessions.touch(socket), logger: logger.child({ part: 'order-entry' }) }),
    ],
    metrics,
    logger: logger.child({ part: 'gateway' }),
    now,
    trustProxy,
    limits: config.limits,
    recoveryWindowMs: config.recoveryWindowMs,
    onSessionChanged: (socket) => backplane.sessions.touch(socket),
  });

  metrics.setSources({
    connections: () => io.engine.clientsCount,
    authenticated: () => io.of('/').adapter.rooms.get('authenticated')?.size ?? 0,
    subscriptions: () => {
      const counts: Record<string, number> = { market: 0, trading: 0, orders: 0, compliance: 0, book: 0, trades: 0, status: 0 };
      for (const [room, members] of io.of('/').adapter.rooms) {
        const channel = room.slice(0, room.indexOf('-'));
        if (channel in counts) counts[channel] = (counts[channel] ?? 0) + members.size;
      }
      return counts;
    },
  });

  const local = backplane.local;
  // a node without the trading core still converts the store's records for the wire with the catalogue
  const exchange = local?.exchange ?? new Exchange({ clock: now, commodities: config.commodities, compliance: config.trading.compliance });
  const priceOf = (commodity: string, ticks: number) => exchange.market(commodity)?.grid.fromTicks(ticks) ?? ticks;
  // restore before serving: listen() waits for it
  const started = backplane.start({ deliver: delivery.deliver, control: onControl });
  started.catch(() => undefined);
  const sink: EventSink = backplane.sink;
  const immediate = immediateReads(store);
  const publisher: AppPublisher = {
    commit: (items, options) => sink.commit(items, options),
    publish: (item) => publisher.publishMany([item]),
    publishMany: (items) => void sink.commit(items).catch((err: unknown) => logger.error({ err }, 'events not published: the store refused them')),
    lastSeq: (stream) => {
      if (!immediate) throw new Error('lastSeq needs a store that answers at once; use the store');
      return immediate.lastSeqNow(stream);
    },
    latestMarketFrame: (c) => delivery.latestMarketFrame(c),
    latestMarketPayload: (c) => delivery.latestMarketPayload(c),
    latestMarketEnvelopes: () => delivery.latestMarketEnvelopes(),
  };

  let ready = false;
  installErrorHandlers(http, metrics);
  // stopping: a new request is refused; the ones in flight are answered (close() waits for them).
  // The connections REST requests came on are known, so a stop can let each one close after an
  // answer instead of cutting it while the client may be sending on it.
  const restConnections = new Map<NetSocket, RestConnection>();
  http.addHook('onRequest', async (request, reply) => {
    const connection = request.raw.socket;
    let state = restConnections.get(connection);
    if (!state) {
      state = { busy: 0, idleSince: Date.now() };
      restConnections.set(connection, state);
      connection.once('close', () => restConnections.delete(connection));
    }
    state.busy++;
    if (stopping) return sendError(reply.header('connection', 'close'), 'SERVICE_UNAVAILABLE', 'The server is shutting down');
  });
  http.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping) reply.header('connection', 'close');
    done(null, payload);
  });
  http.addHook('onResponse', (request, _reply, done) => {
    const state = restConnections.get(request.raw.socket);
    if (state) {
      state.busy = Math.max(0, state.busy - 1);
      state.idleSince = Date.now();
    }
    done();
  });
  installSecurityHeaders(http, config.corsOrigin);
  installRestLimits(
    http,
    { perAddressPerMinute: config.limits.restRequestsPerMinutePerAddress, perUserPerMinute: config.limits.restRequestsPerMinutePerUser },
    addressLimiter,
    config.limits.authFailureDelayMs,
  );
  const internal = internalEndpoints(http, config, {
    metrics,
    logger,
    ready: () => ready && backplane.ready(),
    // a cluster node says what it is; the single process answers as it always has
    info: () => backplane.describe(),
  });
  publishRoutes(http, { sink, commodities, apiKey: publishApiKey, bodyLimit: config.limits.publishMaxPayloadBytes });
  userRoutes(http, { control: userControl, apiKey: publishApiKey });
  eventRoutes(http, { store, verifier });
  marketRoutes(http, { commodities: config.commodities, delivery, verifier, tape: backplane.tape, priceOf, now });
  adminRoutes(http, { trading: backplane.trading, verifier, commodities });
  tradingRoutes(http, { trading: backplane.trading, store, exchange, verifier });
  openApiRoutes(http);
  if (devSigner) devTokenRoutes(http, { signer: devSigner, ttlSeconds: config.auth.devTokenTtlSeconds });
  void http.register(import('./http/routes/dashboard.js'));

  const sweeper = setInterval(() => {
    addressLimiter.sweep();
    store.pruneEvents(now() - config.eventLogRetentionHours * 3_600_000).catch((err: unknown) => logger.error({ err }, 'event log pruning failed'));
    try {
      Promise.resolve(backplane.tape.prune(now() - config.tapeRetentionDays * 86_400_000)).catch((err: unknown) => logger.error({ err }, 'tape pruning failed'));
    } catch (err) {
      logger.error({ err }, 'tape pruning failed');
    }
  }, 60_000);
  sweeper.unref();

  // the activity summary at info: what the process did since the last one
  let lastCounts = { orderUpdates: 0, trades: 0, slowConsumers: 0 };
  const summary = setInterval(() => {
    const counts = { orderUpdates: local?.trading.counts.orderUpdates ?? 0, trades: local?.trading.counts.trades ?? 0, slowConsumers };
    logger.info(
      {
        connections: io.engine.clientsCount,
        authenticated: io.of('/').adapter.rooms.get('authenticated')?.size ?? 0,
        orderUpdates: counts.orderUpdates - lastCounts.orderUpdates,
        trades: counts.trades - lastCounts.trades,
        slowConsumers: counts.slowConsumers - lastCounts.slowConsumers,
      },
      'activity',
    );
    lastCounts = counts;
  }, deps.summaryIntervalMs ?? 60_000);
  summary.unref();

  let closed = false;
  return {
    config,
    http,
    io,
    publisher,
    backplane,
    trading: local?.trading ?? null,
    exchange,
    bookFeed: { tick: () => local?.tickBooks() },
    metrics,
    logger,
    store,
    db: local?.db ?? null,
    devSigner,
    publishApiKey,
    routes,
    internal,
    async listen(port = config.port, host = config.host) {
      await internal.listen();
      await started;
      await http.listen({ port, host, backlog: LISTEN_BACKLOG });
      ready = true;
      const address = http.server.address() as AddressInfo;
      const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
      logger.info({ port: address.port, host, demo: config.auth.demo }, 'listening');
      return { port: address.port, url };
    },
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      // 1. stop accepting: no new sessions or requests; the server keeps listening, so polling
      //    clients (a new TCP connection per poll behind many proxies) can still collect the notice
      stopping = true;
      clearInterval(sweeper);
      clearInterval(summary);
      backplane.stopping();
      // 2. the notice, on every transport: wait until each socket's transport has written it
      const { numeric, message } = DisconnectCode.SHUTDOWN;
      io.emit(ServerEvent.DisconnectReason, { code: 'SHUTDOWN', numeric, message });
      hub.flushAll();
      //    REST connections meanwhile close after their next answer (503, Connection: close), and
      //    one no request has been on for a moment is closed
      await Promise.all([
        noticeDelivered(io, Math.min(NOTICE_WAIT_MS, config.shutdownGraceMs / 2)),
        drainRest(restConnections, Math.min(REST_DRAIN_MS, config.shutdownGraceMs / 4)),
      ]);
      // 3. close the sessions (a pending poll is answered with a close), then HTTP: Fastify waits
      //    for the requests in flight (each answered with Connection: close), then stops listening.
      //    A connection a client keeps sending on is closed as soon as it is idle; whatever is still
      //    open at half the grace is cut, so a stop always ends
      const idle = setInterval(() => http.server.closeIdleConnections(), 20);
      const cut = setTimeout(() => http.server.closeAllConnections(), Math.max(1000, config.shutdownGraceMs / 2));
      try {
        await new Promise<void>((resolve) => {
          void io.close(() => resolve());
        });
        await http.close();
      } finally {
        clearInterval(idle);
        clearTimeout(cut);
      }
      await internal.close();
      await backplane.close();
    },
  };
}
