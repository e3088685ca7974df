import {
  DataEvent,
  DEFAULT_COMMODITIES,
  wireError,
  type Commodity,
  type ComplianceAlertPayload,
  type ErrorCodeName,
  type MarketUpdatePayload,
  type OrderUpdatePayload,
  type WireError,
} from '@qx/protocol';
import { CommodityMarket } from './commodity-market.js';
import { ComplianceMonitor, type ComplianceConfig } from './compliance-monitor.js';
import type { EngineBatch, OrderResult } from './events.js';
import type { JournalRecord, OrderRecord, TradeRecord } from './journal.js';
import { OperationBatch } from './operation-batch.js';
import { Order, type OrderState } from './order.js';
import type { MatchListener } from './order-book.js';
import { toOrderSpec, validateOrderSpec } from './order-validation.js';
import { Position } from './position.js';
import { PositionBook } from './position-book.js';
import { PriceGrid } from './price-grid.js';
import { orderFromRecord, orderRecord, positionRecord } from './records.js';
import { isAgentUser, isOpenStatus, type Clock, type Liquidity, type OrderRequest, type OrderSpec, type OrderStatus } from './types.js';
import { VolatilityMonitor, type VolatilityOptions } from './volatility-monitor.js';
import { isoTime, levelToWire, orderToWire, positionToWire, tradeToWire, type BookView, type PositionView } from './wire.js';

export interface ExchangeOptions {
  /** ms since the epoch; used when an operation is not given its own time */
  clock: Clock;
  commodities?: readonly Commodity[];
  compliance?: ComplianceConfig;
  /** how far a limit price may be from the mark (last trade, else reference), as a fraction; default 0.2 */
  priceBand?: number;
  /** volatility alerts on trade prices; `false` turns them off */
  volatility?: VolatilityOptions | false;
  /** order id from its sequence number; default `ord-<seq>` */
  orderId?: (seq: number) => string;
  /** trade id from its sequence number; default `trd-<seq>` */
  tradeId?: (seq: number) => string;
  /** how many finished orders of real users stay queryable (and idempotent); default 100 000 */
  retainTerminalOrders?: number;
}

/** A cancel/replace in wire decimals: a new limit price, a new total quantity, or both. */
export interface AmendRequest {
  price?: number | undefined;
  quantity?: number | undefined;
}

/** The same in integer ticks. */
export interface AmendSpec {
  priceTicks?: number;
  quantity?: number;
}

/** The result of `cancelAll`: the orders it cancelled, in wire shape. */
export type CancelAllResult = ({ ok: true; cancelled: OrderUpdatePayload[] } & EngineBatch) | ({ ok: false; error: WireError } & EngineBatch);

/** Per-call context: the operation's time, when the caller does not want the injected clock. */
export interface OperationContext {
  nowMs?: number;
}

/** The integer-level outcome of `place`/`cancelOrder` (the simulator's path; no wire views). */
export interface PlaceOutcome extends EngineBatch {
  ok: boolean;
  order: OrderState | null;
  error: WireError | null;
}

export interface RestoreSummary {
  orders: number;
  openOrders: number;
  trades: number;
  positions: number;
  skipped: number;
}

const TICKS = new PriceGrid(1);
const SELF_TRADE_REASON = 'Self-trade prevention: resting order cancelled by an incoming order of the same user';

/**
 * The exchange facade: one book per commodity, positions, compliance and session statistics.
 * Every operation returns its events (to publish) and journal records (to persist first); it
 * never throws for a bad request, it answers with an error code.
 */
export class Exchange implements MatchListener {
  private readonly clock: Clock;
  private readonly markets = new Map<string, CommodityMarket>();
  private readonly positionBook = new PositionBook();
  private readonly compliance: ComplianceMonitor;
  private readonly volatility: VolatilityMonitor | null;
  private readonly priceBand: number;
  private readonly orderIdOf: (seq: number) => string;
  private readonly tradeIdOf: (seq: number) => string;
  private readonly retainLimit: number;

  /** every open order, by id */
  private readonly open = new Map<string, Order>();
  /** real users' open orders, by user (insertion order = time priority) */
  private readonly openByUser = new Map<string, Map<string, Order>>();
  /** real users' finished orders, oldest first (bounded) */
  private readonly finished = new Map<string, Order>();
  /** "user\0clientOrderId" → order */
  private readonly byClientOrderId = new Map<string, Order>();
  private orderSeq = 0;
  private tradeSeq = 0;

  private readonly batch = new OperationBatch();
  /** the market of the order being matched (MatchListener callbacks need it) */
  private current: CommodityMarket | null = null;

  constructor(options: ExchangeOptions) {
    this.clock = options.clock;
    const commodities = options.commodities ?? DEFAULT_COMMODITIES;
    for (const c of commodities) this.markets.set(c.symbol, new CommodityMarket(c));
    this.compliance = new ComplianceMonitor(commodities, options.compliance);
    this.volatility = options.volatility === false ? null : new VolatilityMonitor(commodities, options.volatility);
    this.priceBand = options.priceBand ?? 0.2;
    this.orderIdOf = options.orderId ?? ((seq) => `ord-${seq}`);
    this.tradeIdOf = options.tradeId ?? ((seq) => `trd-${seq}`);
    this.retainLimit = options.retainTerminalOrders ?? 100_000;
  }

  // ---- orders ---------------------------------------------------------------------------------

  /** Submits an order in wire decimals. */
  submit(userId: string, request: OrderRequest, ctx: OperationContext = {}): OrderResult {
    const market = this.markets.get(request.commodity);
    if (market === undefined) return failure(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${String(request.commodity)}`, 'commodity'));
    const converted = toOrderSpec(request, market.grid);
    if ('error' in converted) return failure(converted.error);
    return this.toResult(this.place(userId, converted.spec, ctx.nowMs ?? this.clock()));
  }

  /** Submits an order in integer ticks (the simulator's path). */
  place(userId: string, spec: OrderSpec, nowMs: number = this.clock()): PlaceOutcome {
    const market = this.markets.get(spec.commodity);
    if (market === undefined) return refusal(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${spec.commodity}`, 'commodity'));
    const agent = isAgentUser(userId);
    const key = !agent && spec.clientOrderId !== null ? clientKey(userId, spec.clientOrderId) : null;
    if (key !== null) {
      const existing = this.byClientOrderId.get(key);
      if (existing !== undefined) return replay(existing, spec);
    }
    const invalid = validateOrderSpec(spec);
    if (invalid !== null) return refusal(invalid);

    const b = this.batch.begin(nowMs);
    const seq = ++this.orderSeq;
    const order = new Order(
      this.orderIdOf(seq), seq, userId, spec.commodity, spec.side, spec.type, spec.timeInForce,
      spec.priceTicks, spec.quantity, spec.clientOrderId, nowMs,
    );
    if (key !== null) this.byClientOrderId.set(key, order);

    const refused = this.preTradeCheck(order, market, agent);
    if (refused !== null) return this.reject(order, refused.code, refused.reason, refused.alert);

    if (!agent) b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    this.current = market;
    market.book.match(order, this);
    this.current = null;

    if (order.remainingQuantity > 0) {
      if (order.type === 'limit' && (order.timeInForce === 'gtc' || order.timeInForce === 'day')) {
        this.rest(order, market);
      } else {
        order.cancelledQuantity += order.remainingQuantity;
        order.remainingQuantity = 0;
        order.reason = order.filledQuantity > 0 ? 'Unfilled remainder cancelled (no more liquidity at an acceptable price)' : 'No liquidity at an acceptable price: cancelled without execution';
      }
    }
    order.status = statusOf(order);
    order.updatedAt = nowMs;
    if (!isOpenStatus(order.status)) this.retire(order);
    if (!agent) {
      if (order.status !== 'new') b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
      b.orders.add(order);
    }
    return this.finish(true, order, null);
  }

  /** Cancels an open order of the user. Another user's order is "not found". */
  cancel(userId: string, orderId: string, ctx: OperationContext = {}): OrderResult {
    return this.toResult(this.cancelOrder(userId, orderId, ctx.nowMs ?? this.clock()));
  }

  cancelOrder(userId: string, orderId: string, nowMs: number = this.clock()): PlaceOutcome {
    const order = this.open.get(orderId);
    if (order === undefined || order.userId !== userId) {
      const done = this.finished.get(orderId);
      if (done !== undefined && done.userId === userId) {
        return { ...refusal(wireError('ORDER_NOT_CANCELLABLE', `Order ${orderId} is ${done.status}`)), order: done };
      }
      return refusal(wireError('ORDER_NOT_FOUND', `Order ${orderId} not found`));
    }
    this.batch.begin(nowMs);
    this.takeOff(order, 'cancelled', 'Cancelled by user');
    return this.finish(true, order, null);
  }

  /**
   * Cancel/replace of a resting limit order of the user, in wire decimals: a new price, a new
   * total quantity (more than is filled), or both. See `amendOrder` for the priority rules.
   */
  amend(userId: string, orderId: string, request: AmendRequest, ctx: OperationContext = {}): OrderResult {
    const order = this.open.get(orderId);
    const market = order === undefined ? undefined : this.markets.get(order.commodity);
    let priceTicks: number | undefined;
    if (request.price !== undefined && market !== undefined && order?.userId === userId) {
      if (typeof request.price !== 'number' || !Number.isFinite(request.price) || request.price <= 0) {
        return failure(wireError('INVALID_ORDER', 'price must be a positive number', 'price'));
      }
      const ticks = market.grid.toTicks(request.price);
      if (ticks === null) return failure(wireError('PRICE_OFF_TICK', `price ${request.price} is not a multiple of the tick size ${market.grid.tickSize}`, 'price'));
      priceTicks = ticks;
    }
    const change: AmendSpec = {};
    if (priceTicks !== undefined) change.priceTicks = priceTicks;
    if (request.quantity !== undefined) change.quantity = request.quantity;
    return this.toResult(this.amendOrder(userId, orderId, change, ctx.nowMs ?? this.clock()));
  }

  /**
   * Amends a resting order in integer ticks, by the usual exchange rules (CME, ICE): a quantity
   * decrease keeps the order's time priority; a price change or a quantity increase loses it (the
   * order goes to the back of the queue at its new price), and a new price that crosses the book
   * matches at once, as a new aggressive order would (self-trade prevention included). The
   * price band and the pre-trade compliance checks apply to the amended order, except to a pure
   * quantity decrease, which only lowers the risk. A refused amend changes nothing.
   */
  amendOrder(userId: string, orderId: string, change: AmendSpec, nowMs: number = this.clock()): PlaceOutcome {
    const order = this.open.get(orderId);
    if (order === undefined || order.userId !== userId || isAgentUser(userId)) {
      const done = this.finished.get(orderId);
      if (done !== undefined && done.userId === userId) return { ...refusal(wireError('ORDER_NOT_OPEN', `Order ${orderId} is ${done.status}: it cannot be amended`)), order: done };
      return refusal(wireError('ORDER_NOT_FOUND', `Order ${orderId} not found`));
    }
    const market = this.markets.get(order.commodity) as CommodityMarket;
    const oldPrice = order.priceTicks as number;
    const newPrice = change.priceTicks ?? oldPrice;
    const newQuantity = change.quantity ?? order.quantity;
    if (!Number.isSafeInteger(newPrice) || newPrice <= 0) return refusal(wireError('INVALID_ORDER', 'price must be a positive number of ticks', 'price'));
    if (!Number.isSafeInteger(newQuantity) || newQuantity <= 0) {
      return refusal(wireError('QUANTITY_INVALID', 'quantity must be a positive whole number of units', 'quantity'));
    }
    if (newQuantity <= order.filledQuantity) {
      return {
        ...refusal(wireError('INVALID_QUANTITY', `quantity ${newQuantity} must exceed the ${order.filledQuantity} already filled`, 'quantity')),
        order,
      };
    }
    if (newPrice === oldPrice && newQuantity === order.quantity) return { ok: true, order, error: null, events: [], journal: [] };

    const b = this.batch.begin(nowMs);
    const decreaseOnly = newPrice === oldPrice && newQuantity < order.quantity;
    if (!decreaseOnly) {
      const refused = this.amendCheck(order, market, newPrice, newQuantity);
      if (refused !== null) return refusal(refused);
    }
    const newRemaining = newQuantity - order.filledQuantity - order.cancelledQuantity;
    const oldRemaining = order.remainingQuantity;
    order.updatedAt = nowMs;
    b.orders.add(order);
    if (decreaseOnly) {
      market.book.reduce(order, newRemaining);
      order.quantity = newQuantity;
      this.releaseExposure(order, oldRemaining - newRemaining);
      b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
      return this.finish(true, order, null);
    }

    // cancel/replace: off the book, new terms and a new place in the queue, then as an incoming order
    market.book.remove(order);
    this.releaseExposure(order, oldRemaining);
    this.open.delete(order.id);
    this.openByUser.get(userId)?.delete(order.id);
    order.priceTicks = newPrice;
    order.quantity = newQuantity;
    order.remainingQuantity = newRemaining;
    order.queuePriority = ++this.orderSeq;
    b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    const filledBefore = order.filledQuantity;
    this.current = market;
    market.book.match(order, this);
    this.current = null;
    if (order.remainingQuantity > 0) this.rest(order, market);
    order.status = statusOf(order);
    if (!isOpenStatus(order.status)) this.retire(order);
    if (order.filledQuantity !== filledBefore) b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    return this.finish(true, order, null);
  }

  /** Cancels every open order of the user (of one commodity, when given), in one operation. */
  cancelAll(userId: string, commodity?: string, ctx: OperationContext = {}): CancelAllResult {
    if (commodity !== undefined && !this.markets.has(commodity)) {
      return { ok: false, error: wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity'), events: [], journal: [] };
    }
    const mine = [...(this.openByUser.get(userId)?.values() ?? [])].filter((o) => commodity === undefined || o.commodity === commodity);
    if (mine.length === 0) return { ok: true, cancelled: [], events: [], journal: [] };
    this.batch.begin(ctx.nowMs ?? this.clock());
    for (const order of mine) this.takeOff(order, 'cancelled', 'Cancelled by user (cancel all)');
    const { events, journal } = this.finish(true, null, null);
    return { ok: true, cancelled: mine.map((o) => this.wire(o)), events, journal };
  }

  /**
   * Closes the user's net position in a commodity with a market order (ioc) for its size on the
   * other side; NO_POSITION when flat. The order is checked and matched as any market order.
   * With a `clientOrderId` already used by this flatten, the order it placed is answered again,
   * whatever the position is now (a retry after a lost answer never trades twice).
   */
  flatten(userId: string, commodity: string, ctx: OperationContext = {}, clientOrderId?: string): OrderResult {
    if (!this.markets.has(commodity)) return failure(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity'));
    const existing = clientOrderId === undefined ? undefined : this.byClientOrderId.get(clientKey(userId, clientOrderId));
    if (existing !== undefined) {
      if (existing.commodity !== commodity || existing.type !== 'market') {
        return failure(wireError('CLIENT_ORDER_ID_CONFLICT', `clientOrderId ${clientOrderId ?? ''} was used for a different order (${existing.id})`, 'clientOrderId'));
      }
      return this.toResult(replayed(existing));
    }
    const net = this.positionBook.get(userId, commodity)?.netQuantity ?? 0;
    if (net === 0) return failure(wireError('NO_POSITION', `No position in ${commodity} to flatten`));
    const order: OrderRequest = { commodity, side: net > 0 ? 'sell' : 'buy', type: 'market', quantity: Math.abs(net), timeInForce: 'ioc' };
    return this.submit(userId, clientOrderId === undefined ? order : { ...order, clientOrderId }, ctx);
  }

  /** Expires every open `day` order (call at the session boundary, before `startSession`). */
  expireDayOrders(nowMs: number = this.clock()): EngineBatch {
    this.batch.begin(nowMs);
    const expiring = [...this.open.values()].filter((o) => o.timeInForce === 'day');
    for (const order of expiring) this.takeOff(order, 'expired', 'Day order expired at the end of the session');
    const { events, journal } = this.finish(true, null, null);
    return { events, journal };
  }

  /** Opens a new session: reference price = the previous session's last price; volume restarts. */
  startSession(nowMs: number = this.clock()): EngineBatch {
    const b = this.batch.begin(nowMs);
    for (const market of this.markets.values()) {
      market.startSession(nowMs);
      b.journal.push({ kind: 'session', session: { commodity: market.symbol, startedAt: nowMs, referencePriceTicks: market.referenceTicks } });
    }
    return b.take();
  }

  /**
   * Resumes a session's last price and volume from its last published market data (a restart:
   * the simulated agents' trades are not journaled). Ignored when the data is from before the
   * session started, is off the grid, or says less than the journaled trades already do.
   */
  resumeSession(commodity: string, last: Pick<MarketUpdatePayload, 'price' | 'volume' | 'timestamp'>): boolean {
    const market = this.markets.get(commodity);
    if (market === undefined) return false;
    const at = Date.parse(last.timestamp ?? '');
    const ticks = market.grid.toTicks(last.price);
    if (!Number.isFinite(at) || at < market.sessionStartedAt || ticks === null || ticks <= 0) return false;
    if (!Number.isSafeInteger(last.volume) || last.volume < market.volume) return false;
    market.lastTicks = ticks;
    market.volume = last.volume;
    return true;
  }

  // ---- queries (wire decimals) ------------------------------------------------------------------

  /** An order of the user (open, or finished and still retained); null for anyone else's. */
  getOrder(userId: string, orderId: string): OrderUpdatePayload | null {
    const order = this.open.get(orderId) ?? this.finished.get(orderId);
    if (order === undefined || order.userId !== userId) return null;
    return this.wire(order);
  }

  /** The user's open orders, in time priority. */
  openOrders(userId: string): OrderUpdatePayload[] {
    return [...(this.openByUser.get(userId)?.values() ?? [])].map((o) => this.wire(o));
  }

  /** The user's position in a commodity (flat if never traded); null for an unknown commodity. */
  position(userId: string, commodity: string): PositionView | null {
    const market = this.markets.get(commodity);
    if (market === undefined) return null;
    const position = this.positionBook.get(userId, commodity) ?? new Position(userId, commodity);
    return positionToWire(position, market.grid);
  }

  /** The user's positions that are open, have realized P&L, or have open orders behind them. */
  positions(userId: string): PositionView[] {
    const views: PositionView[] = [];
    for (const p of this.positionBook.ofUser(userId)) {
      const market = this.markets.get(p.commodity);
      const relevant = p.netQuantity !== 0 || p.realizedPnl !== 0 || p.openBuyQuantity > 0 || p.openSellQuantity > 0;
      if (market !== undefined && relevant) views.push(positionToWire(p, market.grid));
    }
    return views;
  }

  /** Aggregated depth: up to `depth` levels per side, best first. */
  book(commodity: string, depth = 10): BookView | null {
    const market = this.markets.get(commodity);
    if (market === undefined) return null;
    const grid = market.grid;
    return {
      commodity,
      bids: market.book.bids.top(depth).map((l) => levelToWire(l, grid)),
      asks: market.book.asks.top(depth).map((l) => levelToWire(l, grid)),
    };
  }

  /** The commodity's market data: last price (reference before the first trade), quotes, volume. */
  marketData(commodity: string, nowMs: number = this.clock()): MarketUpdatePayload | null {
    const market = this.markets.get(commodity);
    if (market === undefined) return null;
    const grid = market.grid;
    const mark = market.markTicks();
    const bid = market.book.bestBid();
    const ask = market.book.bestAsk();
    const changeTicks = mark - market.referenceTicks;
    return {
      commodity,
      price: grid.fromTicks(mark),
      change: grid.fromTicks(changeTicks),
      changePercent: Math.round((changeTicks / market.referenceTicks) * 10_000) / 100,
      volume: market.volume,
      timestamp: isoTime(nowMs),
      bid: bid === null ? null : grid.fromTicks(bid),
      ask: ask === null ? null : grid.fromTicks(ask),
    };
  }

  /** Open orders on all books (agents included), e.g. for a metrics gauge. */
  openOrderCount(): number {
    return this.open.size;
  }

  commodities(): Commodity[] {
    return [...this.markets.values()].map((m) => m.commodity);
  }

  /** Low-level access for the simulator and tests: a commodity's book, grid and statistics. */
  market(commodity: string): CommodityMarket | undefined {
    return this.markets.get(commodity);
  }

  complianceLimits(userId: string, commodity: string): { positionLimit: number; maxOrderSize: number } {
    return this.compliance.limitsFor(userId, commodity);
  }

  /** Converts an order (a PlaceOutcome's, or a stored OrderRecord) to its wire form. */
  wire(order: OrderState | OrderRecord): OrderUpdatePayload {
    // a stored record of a commodity no longer in the catalogue shows its prices in ticks
    return orderToWire(order, this.markets.get(order.commodity)?.grid ?? TICKS);
  }

  // ---- restore ----------------------------------------------------------------------------------

  /**
   * Rebuilds state from journaled records (see journal.ts for the contract). Only on a fresh
   * Exchange: it refuses once any order exists.
   */
  restore(records: readonly JournalRecord[]): { ok: true; summary: RestoreSummary } | { ok: false; error: string } {
    if (this.orderSeq > 0 || this.tradeSeq > 0 || this.open.size > 0) return { ok: false, error: 'restore needs a fresh Exchange' };
    const orders = new Map<string, OrderRecord>();
    const trades = new Map<string, TradeRecord>();
    const summary: RestoreSummary = { orders: 0, openOrders: 0, trades: 0, positions: 0, skipped: 0 };
    for (const r of records) {
      switch (r.kind) {
        case 'order':
          orders.set(r.order.id, r.order);
          break;
        case 'trade':
          trades.set(`${r.trade.id}\u0000${r.trade.side}`, r.trade);
          break;
        case 'position': {
          const p = r.position;
          if (!this.markets.has(p.commodity) || isAgentUser(p.userId)) {
            summary.skipped++;
            break;
          }
          const position = this.positionBook.getOrCreate(p.userId, p.commodity);
          position.netQuantity = p.netQuantity;
          position.openCost = p.openCost;
          position.realizedPnl = p.realizedPnl;
          break;
        }
        case 'compliance':
          this.compliance.restoreLevel(r.compliance.userId, r.compliance.commodity, r.compliance.level);
          break;
        case 'session': {
          const market = this.markets.get(r.session.commodity);
          if (market === undefined) break;
          market.referenceTicks = r.session.referencePriceTicks;
          market.sessionStartedAt = r.session.startedAt;
          break;
        }
      }
    }
    summary.positions = this.positionBook.users().reduce((n, u) => n + this.positionBook.ofUser(u).length, 0);

    // this session's last price and volume, from the journaled trades (each trade once)
    const lastSeq = new Map<string, number>();
    const counted = new Set<number>();
    for (const t of [...trades.values()].sort((a, b) => a.seq - b.seq)) {
      this.tradeSeq = Math.max(this.tradeSeq, t.seq);
      summary.trades++;
      const market = this.markets.get(t.commodity);
      if (market === undefined || t.executedAt < market.sessionStartedAt || counted.has(t.seq)) continue;
      counted.add(t.seq);
      market.recordTrade(t.priceTicks, t.quantity);
      lastSeq.set(t.commodity, t.seq);
    }

    const queued = (r: OrderRecord) => r.queuePriority ?? r.priority;
    for (const r of [...orders.values()].sort((a, b) => queued(a) - queued(b))) {
      this.orderSeq = Math.max(this.orderSeq, r.priority, queued(r));
      const market = this.markets.get(r.commodity);
      if (market === undefined || isAgentUser(r.userId)) {
        summary.skipped++;
        continue;
      }
      summary.orders++;
      const order = orderFromRecord(r);
      if (order.clientOrderId !== null) this.byClientOrderId.set(clientKey(order.userId, order.clientOrderId), order);
      if (isOpenStatus(order.status) && order.remainingQuantity > 0 && order.priceTicks !== null) {
        this.rest(order, market);
        summary.openOrders++;
      } else {
        this.retire(order);
      }
    }
    return { ok: true, summary };
  }

  // ---- matching callbacks (MatchListener) -------------------------------------------------------

  onFill(taker: Order, maker: Order, quantity: number, priceTicks: number): void {
    const market = this.current as CommodityMarket;
    const b = this.batch;
    market.recordTrade(priceTicks, quantity);
    b.traded = market;
    const symbol = market.symbol;
    const takerPosition = this.positionBook.getOrCreate(taker.userId, symbol);
    takerPosition.applyFill(taker.side, quantity, priceTicks);
    const makerPosition = this.positionBook.getOrCreate(maker.userId, symbol);
    makerPosition.applyFill(maker.side, quantity, priceTicks);
    if (maker.side === 'buy') makerPosition.openBuyQuantity -= quantity;
    else makerPosition.openSellQuantity -= quantity;
    maker.updatedAt = b.now;
    maker.status = maker.remainingQuantity === 0 ? 'filled' : 'partially_filled';
    if (maker.remainingQuantity === 0) this.retire(maker);

    const seq = ++this.tradeSeq;
    const id = this.tradeIdOf(seq);
    b.prints.push({ id, seq, commodity: symbol, priceTicks, quantity, aggressor: taker.side, executedAt: b.now });
    const takerReal = !isAgentUser(taker.userId);
    const makerReal = !isAgentUser(maker.userId);
    if (!takerReal && !makerReal) return;
    if (takerReal) {
      this.recordFill(id, seq, taker, maker, 'taker', quantity, priceTicks, market);
      b.positions.add(takerPosition);
    }
    if (makerReal) {
      this.recordFill(id, seq, maker, taker, 'maker', quantity, priceTicks, market);
      b.positions.add(makerPosition);
      b.orders.add(maker);
      b.events.push({ event: DataEvent.OrderUpdate, userId: maker.userId, payload: orderToWire(maker, market.grid) });
    }
  }

  onSelfTradePrevented(maker: Order, quantity: number): void {
    const market = this.current as CommodityMarket;
    this.releaseExposure(maker, quantity);
    maker.status = 'cancelled';
    maker.reason = SELF_TRADE_REASON;
    maker.updatedAt = this.batch.now;
    this.retire(maker);
    if (!isAgentUser(maker.userId)) {
      this.batch.orders.add(maker);
      this.batch.events.push({ event: DataEvent.OrderUpdate, userId: maker.userId, payload: orderToWire(maker, market.grid) });
    }
  }

  // ---- internals --------------------------------------------------------------------------------

  private preTradeCheck(
    order: Order,
    market: CommodityMarket,
    agent: boolean,
  ): { code: ErrorCodeName; reason: string; alert?: ComplianceAlertPayload } | null {
    if (order.priceTicks !== null) {
      const { low, high } = this.bandOf(market);
      if (order.priceTicks < low || order.priceTicks > high) {
        const g = market.grid;
        return {
          code: 'PRICE_OUT_OF_BAND',
          reason: `Price ${g.fromTicks(order.priceTicks)} is outside the allowed band ${g.fromTicks(low)}–${g.fromTicks(high)}`,
        };
      }
    }
    if (!agent) {
      const position = this.positionBook.get(order.userId, order.commodity);
      const rejection = this.compliance.checkOrder(
        {
          userId: order.userId,
          commodity: order.commodity,
          side: order.side,
          quantity: order.quantity,
          netQuantity: position?.netQuantity ?? 0,
          openBuyQuantity: position?.openBuyQuantity ?? 0,
          openSellQuantity: position?.openSellQuantity ?? 0,
        },
        this.batch.timestamp,
      );
      if (rejection !== null) return { code: 'COMPLIANCE_REJECTED', reason: rejection.reason, alert: rejection.alert };
    }
    if (order.type === 'market' || order.timeInForce === 'fok') {
      const needed = order.timeInForce === 'fok' ? order.quantity : 1;
      if (market.book.fillableQuantity(order, needed) < needed) {
        return {
          code: 'NO_LIQUIDITY',
          reason: order.timeInForce === 'fok' ? 'Fill-or-kill order cannot be filled in full' : 'No liquidity for a market order',
        };
      }
    }
    return null;
  }

  /** The price band and pre-trade compliance for an order's amended terms (the order unchanged). */
  private amendCheck(order: Order, market: CommodityMarket, priceTicks: number, quantity: number): WireError | null {
    if (priceTicks !== order.priceTicks) {
      const band = this.bandOf(market);
      if (priceTicks < band.low || priceTicks > band.high) {
        const g = market.grid;
        return wireError('PRICE_OUT_OF_BAND', `Price ${g.fromTicks(priceTicks)} is outside the allowed band ${g.fromTicks(band.low)}–${g.fromTicks(band.high)}`, 'price');
      }
    }
    const position = this.positionBook.get(order.userId, order.commodity);
    const open = (order.side === 'buy' ? position?.openBuyQuantity : position?.openSellQuantity) ?? 0;
    const others = open - order.remainingQuantity;
    const rejection = this.compliance.checkOrder(
      {
        userId: order.userId,
        commodity: order.commodity,
        side: order.side,
        quantity,
        filledQuantity: order.filledQuantity,
        netQuantity: position?.netQuantity ?? 0,
        openBuyQuantity: order.side === 'buy' ? others : (position?.openBuyQuantity ?? 0),
        openSellQuantity: order.side === 'sell' ? others : (position?.openSellQuantity ?? 0),
      },
      this.batch.timestamp,
    );
    return rejection === null ? null : wireError('COMPLIANCE_REJECTED', rejection.reason);
  }

  private bandOf(market: CommodityMarket): { low: number; high: number } {
    const mark = market.markTicks();
    return { low: Math.max(1, Math.ceil(mark * (1 - this.priceBand) - 1e-9)), high: Math.floor(mark * (1 + this.priceBand) + 1e-9) };
  }

  private reject(order: Order, code: ErrorCodeName, reason: string, alert?: ComplianceAlertPayload): PlaceOutcome {
    order.status = 'rejected';
    order.reason = reason;
    order.rejectCode = code;
    order.cancelledQuantity = order.quantity;
    order.remainingQuantity = 0;
    this.retire(order);
    if (!isAgentUser(order.userId)) {
      const b = this.batch;
      b.events.push({ event: DataEvent.OrderUpdate, userId: order.userId, payload: this.wire(order) });
      if (alert !== undefined) b.events.push({ event: DataEvent.ComplianceAlert, userId: order.userId, payload: alert });
      b.orders.add(order);
    }
    return this.finish(false, order, wireError(code, reason, rejectField(code)));
  }

  private rest(order: Order, market: CommodityMarket): void {
    market.book.rest(order);
    this.open.set(order.id, order);
    const position = this.positionBook.getOrCreate(order.userId, order.commodity);
    if (order.side === 'buy') position.openBuyQuantity += order.remainingQuantity;
    else position.openSellQuantity += order.remainingQuantity;
    if (!isAgentUser(order.userId)) {
      let mine = this.openByUser.get(order.userId);
      if (mine === undefined) {
        mine = new Map();
        this.openByUser.set(order.userId, mine);
      }
      mine.set(order.id, order);
    }
  }

  /** Takes an open order off its book as cancelled or expired. */
  private takeOff(order: Order, status: OrderStatus, reason: string): void {
    const market = this.markets.get(order.commodity) as CommodityMarket;
    const quantity = order.remainingQuantity;
    market.book.cancel(order);
    this.releaseExposure(order, quantity);
    order.status = status;
    order.reason = reason;
    order.updatedAt = this.batch.now;
    this.retire(order);
    if (!isAgentUser(order.userId)) {
      this.batch.orders.add(order);
      this.batch.events.push({ event: DataEvent.OrderUpdate, userId: order.userId, payload: orderToWire(order, market.grid) });
    }
  }

  private releaseExposure(order: Order, quantity: number): void {
    const position = this.positionBook.get(order.userId, order.commodity);
    if (position === undefined) return;
    if (order.side === 'buy') position.openBuyQuantity -= quantity;
    else position.openSellQuantity -= quantity;
  }

  /** A finished order leaves the open set; real users' stay queryable for a while. */
  private retire(order: Order): void {
    this.open.delete(order.id);
    if (isAgentUser(order.userId)) return;
    this.openByUser.get(order.userId)?.delete(order.id);
    this.finished.set(order.id, order);
    if (this.finished.size > this.retainLimit) {
      const oldest = this.finished.values().next().value as Order;
      this.finished.delete(oldest.id);
      if (oldest.clientOrderId !== null) {
        const key = clientKey(oldest.userId, oldest.clientOrderId);
        if (this.byClientOrderId.get(key) === oldest) this.byClientOrderId.delete(key);
      }
    }
  }

  private recordFill(
    id: string,
    seq: number,
    own: Order,
    other: Order,
    liquidity: Liquidity,
    quantity: number,
    priceTicks: number,
    market: CommodityMarket,
  ): void {
    const trade: TradeRecord = {
      id, seq, commodity: market.symbol, priceTicks, quantity, executedAt: this.batch.now,
      userId: own.userId, orderId: own.id, side: own.side, liquidity, counterpartyOrderId: other.id,
    };
    this.batch.journal.push({ kind: 'trade', trade });
    this.batch.events.push({ event: DataEvent.TradeUpdate, userId: own.userId, payload: tradeToWire(trade, market.grid) });
  }

  /** Journals what changed, runs the post-trade checks, and hands the batch out. */
  private finish(ok: boolean, order: Order | null, error: WireError | null): PlaceOutcome {
    const b = this.batch;
    for (const o of b.orders) b.journal.push({ kind: 'order', order: orderRecord(o) });
    for (const p of b.positions) this.afterPositionChange(p);
    const traded = b.traded;
    if (traded !== null && this.volatility !== null && traded.lastTicks !== null) {
      const alert = this.volatility.observe(traded.symbol, traded.grid.fromTicks(traded.lastTicks), b.now);
      if (alert !== null) b.events.push({ event: DataEvent.SystemAlert, payload: alert });
    }
    const taken = b.take();
    return { ok, order, error, ...taken };
  }

  private afterPositionChange(position: Position): void {
    const b = this.batch;
    b.journal.push({ kind: 'position', position: positionRecord(position, b.now) });
    const check = this.compliance.afterPositionChange(position.userId, position.commodity, position.netQuantity, b.timestamp);
    if (check.levelChanged) {
      b.journal.push({
        kind: 'compliance',
        compliance: { userId: position.userId, commodity: position.commodity, level: check.level, updatedAt: b.now },
      });
    }
    if (check.alert !== null) b.events.push({ event: DataEvent.ComplianceAlert, userId: position.userId, payload: check.alert });
  }

  private toResult(outcome: PlaceOutcome): OrderResult {
    const batch: EngineBatch = { events: outcome.events, journal: outcome.journal };
    if (outcome.prints) batch.prints = outcome.prints;
    if (outcome.ok && outcome.order !== null) return { ok: true, order: this.wire(outcome.order), ...batch };
    const error = outcome.error ?? wireError('INTERNAL');
    if (outcome.order !== null) return { ok: false, error, order: this.wire(outcome.order), ...batch };
    return { ok: false, error, ...batch };
  }
}

function statusOf(order: OrderState): OrderStatus {
  if (order.remainingQuantity > 0) return order.filledQuantity > 0 ? 'partially_filled' : 'new';
  return order.cancelledQuantity === 0 ? 'filled' : 'cancelled';
}

function clientKey(userId: string, clientOrderId: string): string {
  return `${userId}\u0000${clientOrderId}`;
}

function failure(error: WireError): OrderResult {
  return { ok: false, error, events: [], journal: [] };
}

function refusal(error: WireError): PlaceOutcome {
  return { ok: false, order: null, error, events: [], journal: [] };
}

/** The order field a refusal is about, when one is (a price outside the band). */
function rejectField(code: ErrorCodeName): string | undefined {
  return code === 'PRICE_OUT_OF_BAND' ? 'price' : undefined;
}

/** A repeated clientOrderId: the same order again, or a conflict when the parameters differ. */
function replay(existing: Order, spec: OrderSpec): PlaceOutcome {
  const same =
    existing.commodity === spec.commodity &&
    existing.side === spec.side &&
    existing.type === spec.type &&
    existing.placedQuantity === spec.quantity &&
    existing.placedPriceTicks === spec.priceTicks &&
    existing.timeInForce === spec.timeInForce;
  if (!same) {
    return refusal(wireError('CLIENT_ORDER_ID_CONFLICT', `clientOrderId ${spec.clientOrderId ?? ''} was used for a different order (${existing.id})`, 'clientOrderId'));
  }
  return replayed(existing);
}

/** The order a repeated clientOrderId answers, as it stands (nothing happens again). */
function replayed(existing: Order): PlaceOutcome {
  const error = existing.rejectCode === null ? null : wireError(existing.rejectCode, existing.reason ?? undefined, rejectField(existing.rejectCode));
  return { ok: error === null, order: existing, error, events: [], journal: [] };
}
