import {
  DEFAULT_COMMODITIES,
  wireError,
  type Commodity,
  type MarketUpdatePayload,
  type OrderUpdatePayload,
} from '@qx/protocol';
import { CommodityMarket } from './commodity-market.js';
import { ComplianceMonitor, type ComplianceConfig } from './compliance-monitor.js';
import type { EngineBatch, OrderResult } from './events.js';
import type { JournalRecord, OrderRecord } from './journal.js';
import { MarketStatusBoard, type MarketStatusView } from './market-status.js';
import { MatchingEngine } from './matching-engine.js';
import {
  failure,
  replayed,
  toResult,
  type AmendRequest,
  type AmendSpec,
  type CancelAllResult,
  type CancelContext,
  type DeadManFiring,
  type DeadManResult,
  type MarketStatusResult,
  type OperationContext,
  type PlaceOutcome,
  type RestoreSummary,
  type TradingControlResult,
} from './operations.js';
import type { OrderState } from './order.js';
import { OrderRegistry } from './order-registry.js';
import { toOrderSpec } from './order-validation.js';
import { Position } from './position.js';
import { PositionBook } from './position-book.js';
import { PostTradeChecks } from './post-trade.js';
import { PriceGrid } from './price-grid.js';
import { restoreJournal } from './restore.js';
import { RiskChecks } from './risk-checks.js';
import { checkText, MAX_REASON_LENGTH, statusBatch, TradingSafety } from './trading-safety.js';
import type { Clock, OrderRequest, OrderSpec } from './types.js';
import { UserControls, type TradingStatus } from './user-controls.js';
import { VelocityGuard, type VelocityOptions } from './velocity-guard.js';
import { VolatilityMonitor, type VolatilityOptions } from './volatility-monitor.js';
import { bookToWire, marketDataToWire, orderToWire, positionToWire, type BookView, type PositionView } from './wire.js';

export type {
  AmendRequest,
  AmendSpec,
  CancelAllResult,
  CancelContext,
  DeadManFiring,
  DeadManResult,
  MarketStatusResult,
  OperationContext,
  PlaceOutcome,
  RestoreSummary,
  TradingControlResult,
} from './operations.js';

export interface ExchangeOptions {
  /** ms since the epoch; used when an operation is not given its own time */
  clock: Clock;
  commodities?: readonly Commodity[];
  compliance?: ComplianceConfig;
  /** how far a limit price may be from the mark (last trade, else reference), as a fraction; default 0.2 */
  priceBand?: number;
  /** volatility alerts on trade prices; `false` turns them off */
  volatility?: VolatilityOptions | false;
  /**
   * velocity halts (CME's velocity logic): a trade price more than `movePercent` (5) away from a
   * trade price of the last `windowMs` (60 s) halts the commodity for `haltMs` (2 min); `false`
   * turns them off
   */
  velocity?: VelocityOptions | false;
  /** order id from its sequence number; default `ord-<seq>` */
  orderId?: (seq: number) => string;
  /** trade id from its sequence number; default `trd-<seq>` */
  tradeId?: (seq: number) => string;
  /** how many finished orders of real users stay queryable (and idempotent); default 100 000 */
  retainTerminalOrders?: number;
}

const TICKS = new PriceGrid(1);

/**
 * The exchange facade: one book per commodity, positions, compliance and session statistics.
 * Every operation returns its events (to publish) and journal records (to persist first); it
 * never throws for a bad request, it answers with an error code.
 *
 * The work is done by its parts: `MatchingEngine` (place, cancel, amend, fills), `RiskChecks`
 * (price band, pre-trade compliance, liquidity), `PostTradeChecks` (positions journaled,
 * compliance thresholds, volatility, velocity halts), `OrderRegistry` (open and finished orders,
 * clientOrderId), `PositionBook`, `TradingSafety` (bulk cancels with a reason, kill switch,
 * dead-man's switch, halts and session closures) over `UserControls` and `MarketStatusBoard`,
 * `restoreJournal` and the wire views (`wire.ts`). This class converts between the wire and the
 * integers, and holds the parts together.
 */
export class Exchange {
  private readonly clock: Clock;
  private readonly markets = new Map<string, CommodityMarket>();
  private readonly positionBook = new PositionBook();
  private readonly compliance: ComplianceMonitor;
  private readonly orders: OrderRegistry;
  private readonly engine: MatchingEngine;
  private readonly controls = new UserControls();
  private readonly status: MarketStatusBoard;
  private readonly safety: TradingSafety;

  constructor(options: ExchangeOptions) {
    this.clock = options.clock;
    const commodities = options.commodities ?? DEFAULT_COMMODITIES;
    for (const c of commodities) this.markets.set(c.symbol, new CommodityMarket(c));
    this.compliance = new ComplianceMonitor(commodities, options.compliance);
    this.status = new MarketStatusBoard([...this.markets.keys()], (c) => this.markets.get(c)?.sessionStartedAt ?? 0);
    const volatility = options.volatility === false ? null : new VolatilityMonitor(commodities, options.volatility);
    const velocity = options.velocity === false ? null : new VelocityGuard(commodities, options.velocity);
    this.orders = new OrderRegistry(options.retainTerminalOrders ?? 100_000);
    this.engine = new MatchingEngine({
      markets: this.markets,
      orders: this.orders,
      positions: this.positionBook,
      risk: new RiskChecks(this.compliance, this.positionBook, options.priceBand ?? 0.2),
      postTrade: new PostTradeChecks(this.compliance, volatility, velocity, this.status),
      orderIdOf: options.orderId ?? ((seq) => `ord-${seq}`),
      tradeIdOf: options.tradeId ?? ((seq) => `trd-${seq}`),
      gate: (userId, commodity) => this.controls.refusal(userId) ?? this.status.refusal(commodity),
    });
    this.safety = new TradingSafety({ orders: this.orders, engine: this.engine, controls: this.controls, status: this.status, wire: (o) => this.wire(o) });
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
    return this.engine.place(userId, spec, nowMs);
  }

  /** Cancels an open order of the user. Another user's order is "not found". */
  cancel(userId: string, orderId: string, ctx: OperationContext = {}): OrderResult {
    return this.toResult(this.cancelOrder(userId, orderId, ctx.nowMs ?? this.clock()));
  }

  cancelOrder(userId: string, orderId: string, nowMs: number = this.clock()): PlaceOutcome {
    return this.engine.cancelOrder(userId, orderId, nowMs);
  }

  /**
   * Cancel/replace of a resting limit order of the user, in wire decimals: a new price, a new
   * total quantity (more than is filled), or both. See `amendOrder` for the priority rules.
   */
  amend(userId: string, orderId: string, request: AmendRequest, ctx: OperationContext = {}): OrderResult {
    const order = this.orders.openOrder(orderId);
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

  /** Amends a resting order in integer ticks (see `MatchingEngine.amendOrder` for the rules). */
  amendOrder(userId: string, orderId: string, change: AmendSpec, nowMs: number = this.clock()): PlaceOutcome {
    return this.engine.amendOrder(userId, orderId, change, nowMs);
  }

  /**
   * Cancels every open order of the user (of one commodity, when given), in one operation. Each
   * shows `ctx.reason` (default "Cancelled by user (cancel all)"), e.g. `cancel_on_disconnect`.
   */
  cancelAll(userId: string, commodity?: string, ctx: CancelContext = {}): CancelAllResult {
    if (commodity !== undefined && !this.markets.has(commodity)) {
      return { ok: false, error: wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity'), events: [], journal: [] };
    }
    const reason = ctx.reason ?? 'Cancelled by user (cancel all)';
    const bad = checkText(reason, MAX_REASON_LENGTH, 'reason');
    if (bad !== null) return { ok: false, error: bad, events: [], journal: [] };
    const mine = this.orders.openOf(userId).filter((o) => commodity === undefined || o.commodity === commodity);
    return this.safety.cancel(mine, reason, ctx.nowMs ?? this.clock());
  }

  /**
   * Cancels exactly those of `orderIds` that are open orders of the user (unknown, finished and
   * other users' ids are skipped), each with `reason`, in one operation.
   */
  cancelOrders(userId: string, orderIds: readonly string[], reason: string, ctx: OperationContext = {}): CancelAllResult {
    return this.safety.cancelOrders(userId, orderIds, reason, ctx.nowMs ?? this.clock());
  }

  /**
   * Closes the user's net position in a commodity with a market order (ioc) for its size on the
   * other side; NO_POSITION when flat. The order is checked and matched as any market order.
   * With a `clientOrderId` already used by this flatten, the order it placed is answered again,
   * whatever the position is now (a retry after a lost answer never trades twice).
   */
  flatten(userId: string, commodity: string, ctx: OperationContext = {}, clientOrderId?: string): OrderResult {
    if (!this.markets.has(commodity)) return failure(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity'));
    const existing = clientOrderId === undefined ? undefined : this.orders.byClientId(userId, clientOrderId);
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

  // ---- sessions ---------------------------------------------------------------------------------

  /** Expires every open `day` order (call at the session boundary, before `startSession`). */
  expireDayOrders(nowMs: number = this.clock()): EngineBatch {
    const expiring = this.orders.allOpen().filter((o) => o.timeInForce === 'day');
    return this.engine.takeOffAll(expiring, 'expired', 'Day order expired at the end of the session', nowMs);
  }

  /**
   * Opens a new session: reference price = the previous session's last price; volume restarts.
   * A commodity whose session was closed (`closeSession`) opens (a halt still holds).
   */
  startSession(nowMs: number = this.clock()): EngineBatch {
    const journal: JournalRecord[] = [];
    for (const market of this.markets.values()) {
      market.startSession(nowMs);
      journal.push({ kind: 'session', session: { commodity: market.symbol, startedAt: nowMs, referencePriceTicks: market.referenceTicks } });
    }
    const opened = statusBatch([...this.markets.keys()].map((c) => this.status.openSession(c, nowMs)));
    journal.push(...opened.journal);
    return opened.marketStatus === undefined ? { events: [], journal } : { events: [], journal, marketStatus: opened.marketStatus };
  }

  /**
   * Closes the trading session of a commodity (of every one when none is given): it shows
   * `closed`, and new orders and amends are refused with MARKET_CLOSED until `openSession` or
   * `startSession`. Resting orders stay (expire day orders with `expireDayOrders`).
   */
  closeSession(commodity?: string, ctx: OperationContext = {}): MarketStatusResult {
    return this.safety.session(false, commodity, ctx.nowMs ?? this.clock());
  }

  /** Opens the trading session of a commodity (of every one when none is given) without starting a new one. */
  openSession(commodity?: string, ctx: OperationContext = {}): MarketStatusResult {
    return this.safety.session(true, commodity, ctx.nowMs ?? this.clock());
  }

  // ---- market status ----------------------------------------------------------------------------

  /**
   * Halts a commodity until `untilMs` (ms since the epoch; null: until `reopen`). New orders and
   * amends are refused with MARKET_HALTED; cancels are allowed and resting orders stay.
   */
  halt(commodity: string, halt: { reason: string; untilMs: number | null }, ctx: OperationContext = {}): MarketStatusResult {
    return this.safety.halt(commodity, halt.reason, halt.untilMs, ctx.nowMs ?? this.clock());
  }

  /** Reopens a halted or closed commodity at once. */
  reopen(commodity: string, ctx: OperationContext = {}): MarketStatusResult {
    return this.safety.reopen(commodity, ctx.nowMs ?? this.clock());
  }

  /** Reopens the commodities whose halt has ended (call at `nextStatusChange()`). */
  tick(nowMs: number = this.clock()): EngineBatch {
    return this.safety.expireHalts(nowMs);
  }

  /** When the next halt ends (ms), or null when none is planned to. */
  nextStatusChange(): number | null {
    return this.status.nextChange();
  }

  /** A commodity's status (open, halted, closed), why and since when; null for an unknown commodity. */
  marketStatus(commodity: string): MarketStatusView | null {
    return this.status.view(commodity);
  }

  /** Every commodity's status, in catalogue order. */
  marketStatuses(): MarketStatusView[] {
    return this.status.views();
  }

  /** True when the commodity accepts new orders now (the simulator asks before it trades). */
  marketOpen(commodity: string): boolean {
    return this.status.isOpen(commodity);
  }

  // ---- per-user controls ------------------------------------------------------------------------

  /**
   * The kill switch: disabling cancels all the user's open orders (reason `kill_switch: <why>`)
   * and refuses their new orders and amends with TRADING_DISABLED until enabled again; cancels
   * stay allowed. The user gets a `compliance-alert` (checkType `kill_switch`).
   */
  setTradingEnabled(userId: string, enabled: boolean, who: { reason?: string | undefined; by: string }, ctx: OperationContext = {}): TradingControlResult {
    return this.safety.setTradingEnabled(userId, enabled, who, ctx.nowMs ?? this.clock());
  }

  tradingStatus(userId: string): TradingStatus {
    return this.controls.status(userId);
  }

  /**
   * The dead-man's switch: unless called again within `timeoutMs` (1 s … 24 h; 0 disarms), all the
   * user's open orders are cancelled by `fireDeadManSwitches` (reason `dead_man_switch`).
   */
  armCancelAllAfter(userId: string, timeoutMs: number, ctx: OperationContext = {}): DeadManResult {
    return this.safety.arm(userId, timeoutMs, ctx.nowMs ?? this.clock());
  }

  /** The user's dead-man's switch deadline (ms), or null when disarmed. */
  deadManDeadline(userId: string): number | null {
    return this.controls.deadline(userId);
  }

  /** Cancels the open orders of every user whose dead-man's switch deadline has passed, and clears those deadlines. */
  fireDeadManSwitches(nowMs: number = this.clock()): DeadManFiring {
    return this.safety.fireDue(nowMs);
  }

  /** The earliest dead-man's switch deadline (ms), or null. */
  nextDeadManDeadline(): number | null {
    return this.controls.nextDeadline();
  }

  /**
   * Resumes a session's last price and volume from its last published market data (a restart:
   * the simulated agents' trades are not journaled). Ignored when the data is from before the
   * session started, is off the grid, or says less than the journaled trades already do.
   */
  resumeSession(commodity: string, last: Pick<MarketUpdatePayload, 'price' | 'volume' | 'timestamp'>): boolean {
    const market = this.markets.get(commodity);
    if (market === undefined) return false;
    return market.resume(market.grid.toTicks(last.price), last.volume, Date.parse(last.timestamp ?? ''));
  }

  // ---- queries (wire decimals) ------------------------------------------------------------------

  /** An order of the user (open, or finished and still retained); null for anyone else's. */
  getOrder(userId: string, orderId: string): OrderUpdatePayload | null {
    const order = this.orders.openOrder(orderId) ?? this.orders.finishedOrder(orderId);
    if (order === undefined || order.userId !== userId) return null;
    return this.wire(order);
  }

  /** The user's open orders, in time priority. */
  openOrders(userId: string): OrderUpdatePayload[] {
    return this.orders.openOf(userId).map((o) => this.wire(o));
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
    return market === undefined ? null : bookToWire(market, depth);
  }

  /** The commodity's market data: last price (reference before the first trade), quotes, volume. */
  marketData(commodity: string, nowMs: number = this.clock()): MarketUpdatePayload | null {
    const market = this.markets.get(commodity);
    return market === undefined ? null : marketDataToWire(market, nowMs);
  }

  /** Open orders on all books (agents included), e.g. for a metrics gauge. */
  openOrderCount(): number {
    return this.orders.openCount;
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
    if (this.engine.started || this.orders.openCount > 0) return { ok: false, error: 'restore needs a fresh Exchange' };
    const summary = restoreJournal(records, {
      markets: this.markets,
      positions: this.positionBook,
      compliance: this.compliance,
      orders: this.orders,
      engine: this.engine,
      status: this.status,
      controls: this.controls,
    });
    return { ok: true, summary };
  }

  private toResult(outcome: PlaceOutcome): OrderResult {
    return toResult(outcome, (o) => this.wire(o));
  }
}
