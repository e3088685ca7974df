import { DataEvent, wireError, type ComplianceAlertPayload, type ErrorCodeName, type WireError } from '@qx/protocol';
import type { CommodityMarket } from './commodity-market.js';
import type { EngineBatch } from './events.js';
import type { TradeRecord } from './journal.js';
import { OperationBatch } from './operation-batch.js';
import { refusal, rejectField, replay, statusOf, type AmendSpec, type PlaceOutcome } from './operations.js';
import { Order } from './order.js';
import type { MatchListener } from './order-book.js';
import type { OrderRegistry } from './order-registry.js';
import { validateOrderSpec } from './order-validation.js';
import type { PositionBook } from './position-book.js';
import type { PostTradeChecks } from './post-trade.js';
import { orderRecord } from './records.js';
import type { RiskChecks } from './risk-checks.js';
import { isAgentUser, isOpenStatus, type Liquidity, type OrderSpec, type OrderStatus } from './types.js';
import { orderToWire, tradeToWire } from './wire.js';

const SELF_TRADE_REASON = 'Self-trade prevention: resting order cancelled by an incoming order of the same user';

export interface MatchingEngineParts {
  markets: ReadonlyMap<string, CommodityMarket>;
  orders: OrderRegistry;
  positions: PositionBook;
  risk: RiskChecks;
  postTrade: PostTradeChecks;
  orderIdOf: (seq: number) => string;
  tradeIdOf: (seq: number) => string;
  /**
   * May this user place or amend an order in this commodity now? The error when not (a kill
   * switch, a halted or closed market); checked after the request is found well-formed.
   */
  gate: (userId: string, commodity: string) => WireError | null;
}

/**
 * The order operations in integer ticks: place (pre-trade checks, matching, resting), cancel,
 * amend (cancel/replace with the exchange priority rules), and taking orders off the books in
 * bulk. It hears every fill and self-trade cancellation of the books (MatchListener), keeps
 * positions and open exposure in step, numbers orders and trades, and collects each operation's
 * events, journal records and prints into one batch.
 */
export class MatchingEngine implements MatchListener {
  private readonly markets: ReadonlyMap<string, CommodityMarket>;
  private readonly orders: OrderRegistry;
  private readonly positions: PositionBook;
  private readonly risk: RiskChecks;
  private readonly postTrade: PostTradeChecks;
  private readonly orderIdOf: (seq: number) => string;
  private readonly tradeIdOf: (seq: number) => string;
  private readonly gate: (userId: string, commodity: string) => WireError | null;
  private orderSeq = 0;
  private tradeSeq = 0;

  private readonly batch = new OperationBatch();
  /** the market of the order being matched (MatchListener callbacks need it) */
  private current: CommodityMarket | null = null;

  constructor(parts: MatchingEngineParts) {
    this.markets = parts.markets;
    this.orders = parts.orders;
    this.positions = parts.positions;
    this.risk = parts.risk;
    this.postTrade = parts.postTrade;
    this.orderIdOf = parts.orderIdOf;
    this.tradeIdOf = parts.tradeIdOf;
    this.gate = parts.gate;
  }

  /** True once any order or trade was numbered (restore needs a fresh engine). */
  get started(): boolean {
    return this.orderSeq > 0 || this.tradeSeq > 0;
  }

  /** Restore: the id counters continue after the highest journaled ones. */
  raiseSequences(orderSeq: number, tradeSeq: number): void {
    this.orderSeq = Math.max(this.orderSeq, orderSeq);
    this.tradeSeq = Math.max(this.tradeSeq, tradeSeq);
  }

  place(userId: string, spec: OrderSpec, nowMs: number): PlaceOutcome {
    const market = this.markets.get(spec.commodity);
    if (market === undefined) return refusal(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${spec.commodity}`, 'commodity'));
    const agent = isAgentUser(userId);
    const withClientId = !agent && spec.clientOrderId !== null;
    if (withClientId) {
      const existing = this.orders.byClientId(userId, spec.clientOrderId as string);
      if (existing !== undefined) return replay(existing, spec);
    }
    const invalid = validateOrderSpec(spec);
    if (invalid !== null) return refusal(invalid);
    const closed = this.gate(userId, spec.commodity);
    if (closed !== null) return refusal(closed);

    const b = this.batch.begin(nowMs);
    const seq = ++this.orderSeq;
    const order = new Order(
      this.orderIdOf(seq), seq, userId, spec.commodity, spec.side, spec.type, spec.timeInForce,
      spec.priceTicks, spec.quantity, spec.clientOrderId, nowMs,
    );
    if (withClientId) this.orders.rememberClientId(order);

    const refused = this.risk.preTrade(order, market, agent, b.timestamp);
    if (refused !== null) return this.reject(order, market, refused.code, refused.reason, refused.alert);

    if (!agent) b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    this.match(order, market);

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
    if (!isOpenStatus(order.status)) this.orders.retire(order);
    if (!agent) {
      if (order.status !== 'new') b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
      b.orders.add(order);
    }
    return this.finish(true, order, null);
  }

  /** Cancels an open order of the user. Another user's order is "not found". */
  cancelOrder(userId: string, orderId: string, nowMs: number): PlaceOutcome {
    const order = this.orders.openOrder(orderId);
    if (order === undefined || order.userId !== userId) {
      const done = this.orders.finishedOrder(orderId);
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
   * Amends a resting order in integer ticks, by the usual exchange rules (CME, ICE): a quantity
   * decrease keeps the order's time priority; a price change or a quantity increase loses it (the
   * order goes to the back of the queue at its new price), and a new price that crosses the book
   * matches at once, as a new aggressive order would (self-trade prevention included). The
   * price band and the pre-trade compliance checks apply to the amended order, except to a pure
   * quantity decrease, which only lowers the risk. A refused amend changes nothing; no amend
   * passes a kill switch or a halted or closed market.
   */
  amendOrder(userId: string, orderId: string, change: AmendSpec, nowMs: number): PlaceOutcome {
    const order = this.orders.openOrder(orderId);
    if (order === undefined || order.userId !== userId || isAgentUser(userId)) {
      const done = this.orders.finishedOrder(orderId);
      if (done !== undefined && done.userId === userId) return { ...refusal(wireError('ORDER_NOT_OPEN', `Order ${orderId} is ${done.status}: it cannot be amended`)), order: done };
      return refusal(wireError('ORDER_NOT_FOUND', `Order ${orderId} not found`));
    }
    const closed = this.gate(userId, order.commodity);
    if (closed !== null) return { ...refusal(closed), order };
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
      const refused = this.risk.amend(order, market, newPrice, newQuantity, b.timestamp);
      if (refused !== null) return refusal(refused);
    }
    const newRemaining = newQuantity - order.filledQuantity - order.cancelledQuantity;
    const oldRemaining = order.remainingQuantity;
    order.updatedAt = nowMs;
    b.orders.add(order);
    if (decreaseOnly) {
      market.book.reduce(order, newRemaining);
      order.quantity = newQuantity;
      this.positions.releaseExposure(order, oldRemaining - newRemaining);
      b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
      return this.finish(true, order, null);
    }

    // cancel/replace: off the book, new terms and a new place in the queue, then as an incoming order
    market.book.remove(order);
    this.positions.releaseExposure(order, oldRemaining);
    this.orders.removeOpen(order);
    order.priceTicks = newPrice;
    order.quantity = newQuantity;
    order.remainingQuantity = newRemaining;
    order.queuePriority = ++this.orderSeq;
    b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    const filledBefore = order.filledQuantity;
    this.match(order, market);
    if (order.remainingQuantity > 0) this.rest(order, market);
    order.status = statusOf(order);
    if (!isOpenStatus(order.status)) this.orders.retire(order);
    if (order.filledQuantity !== filledBefore) b.events.push({ event: DataEvent.OrderUpdate, userId, payload: orderToWire(order, market.grid) });
    return this.finish(true, order, null);
  }

  /** Takes open orders off their books (cancelled or expired, with `reason`) in one operation. */
  takeOffAll(orders: readonly Order[], status: OrderStatus, reason: string, nowMs: number): EngineBatch {
    this.batch.begin(nowMs);
    for (const order of orders) this.takeOff(order, status, reason);
    const { events, journal } = this.finish(true, null, null);
    return { events, journal };
  }

  /** Puts an order with open quantity on its book: filed as open, its quantity counted as exposure. */
  rest(order: Order, market: CommodityMarket): void {
    market.book.rest(order);
    this.orders.addOpen(order);
    this.positions.addExposure(order, order.remainingQuantity);
  }

  // ---- matching callbacks (MatchListener) -------------------------------------------------------

  onFill(taker: Order, maker: Order, quantity: number, priceTicks: number): void {
    const market = this.current as CommodityMarket;
    const b = this.batch;
    market.recordTrade(priceTicks, quantity);
    b.traded = market;
    const symbol = market.symbol;
    const takerPosition = this.positions.getOrCreate(taker.userId, symbol);
    takerPosition.applyFill(taker.side, quantity, priceTicks);
    const makerPosition = this.positions.getOrCreate(maker.userId, symbol);
    makerPosition.applyFill(maker.side, quantity, priceTicks);
    makerPosition.changeOpenQuantity(maker.side, -quantity);
    maker.updatedAt = b.now;
    maker.status = maker.remainingQuantity === 0 ? 'filled' : 'partially_filled';
    if (maker.remainingQuantity === 0) this.orders.retire(maker);

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
    this.positions.releaseExposure(maker, quantity);
    maker.status = 'cancelled';
    maker.reason = SELF_TRADE_REASON;
    maker.updatedAt = this.batch.now;
    this.orders.retire(maker);
    if (!isAgentUser(maker.userId)) {
      this.batch.orders.add(maker);
      this.batch.events.push({ event: DataEvent.OrderUpdate, userId: maker.userId, payload: orderToWire(maker, market.grid) });
    }
  }

  // ---- internals --------------------------------------------------------------------------------

  private match(order: Order, market: CommodityMarket): void {
    this.current = market;
    market.book.match(order, this);
    this.current = null;
  }

  private reject(order: Order, market: CommodityMarket, code: ErrorCodeName, reason: string, alert?: ComplianceAlertPayload): PlaceOutcome {
    order.status = 'rejected';
    order.reason = reason;
    order.rejectCode = code;
    order.cancelledQuantity = order.quantity;
    order.remainingQuantity = 0;
    this.orders.retire(order);
    if (!isAgentUser(order.userId)) {
      const b = this.batch;
      b.events.push({ event: DataEvent.OrderUpdate, userId: order.userId, payload: orderToWire(order, market.grid) });
      if (alert !== undefined) b.events.push({ event: DataEvent.ComplianceAlert, userId: order.userId, payload: alert });
      b.orders.add(order);
    }
    return this.finish(false, order, wireError(code, reason, rejectField(code)));
  }

  /** Takes an open order off its book as cancelled or expired. */
  private takeOff(order: Order, status: OrderStatus, reason: string): void {
    const market = this.markets.get(order.commodity) as CommodityMarket;
    const quantity = order.remainingQuantity;
    market.book.cancel(order);
    this.positions.releaseExposure(order, quantity);
    order.status = status;
    order.reason = reason;
    order.updatedAt = this.batch.now;
    this.orders.retire(order);
    if (!isAgentUser(order.userId)) {
      this.batch.orders.add(order);
      this.batch.events.push({ event: DataEvent.OrderUpdate, userId: order.userId, payload: orderToWire(order, market.grid) });
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
    this.postTrade.run(b);
    const taken = b.take();
    return { ok, order, error, ...taken };
  }
}
