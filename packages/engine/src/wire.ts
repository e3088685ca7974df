/**
 * The edge between the engine's integers and the wire's decimals: order, trade, position and
 * book views in the shapes of @qx/protocol. The server calls these (through the Exchange).
 */
import type { MarketUpdatePayload, OrderUpdatePayload, TradeUpdatePayload } from '@qx/protocol';
import type { CommodityMarket } from './commodity-market.js';
import type { OrderState } from './order.js';
import type { Position } from './position.js';
import type { PriceGrid } from './price-grid.js';
import type { PriceLevel } from './price-level.js';
import type { OrderRecord, TradeRecord } from './journal.js';

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function orderToWire(order: OrderState | OrderRecord, grid: PriceGrid): OrderUpdatePayload {
  const payload: OrderUpdatePayload = {
    id: order.id,
    userId: order.userId,
    status: order.status,
    filledQuantity: order.filledQuantity,
    remainingQuantity: order.remainingQuantity,
    averagePrice: order.filledQuantity === 0 ? 0 : grid.fromFractionalTicks(order.filledNotional / order.filledQuantity),
    timestamp: isoTime(order.updatedAt),
    commodity: order.commodity,
    side: order.side,
    type: order.type,
    price: order.priceTicks === null ? null : grid.fromTicks(order.priceTicks),
    quantity: order.quantity,
    timeInForce: order.timeInForce,
    clientOrderId: order.clientOrderId,
    createdAt: isoTime(order.createdAt),
  };
  if (order.reason !== null) payload.reason = order.reason;
  return payload;
}

export function tradeToWire(trade: TradeRecord, grid: PriceGrid): TradeUpdatePayload {
  return {
    id: trade.id,
    orderId: trade.orderId,
    userId: trade.userId,
    commodity: trade.commodity,
    quantity: trade.quantity,
    price: grid.fromTicks(trade.priceTicks),
    side: trade.side,
    status: 'executed',
    executionTime: isoTime(trade.executedAt),
    counterpartyOrderId: trade.counterpartyOrderId,
    liquidity: trade.liquidity,
  };
}

/** A user's position in one commodity, in wire decimals. */
export interface PositionView {
  userId: string;
  commodity: string;
  /** signed units: long > 0, short < 0 */
  netQuantity: number;
  /** average entry price of the open position; 0 when flat */
  averagePrice: number;
  /**
   * what the open position cost, Σ price × quantity of its fills (average-cost method), exact on
   * the tick grid; 0 when flat. Unrealized P&L is sign(net) × (|net| × last − openCost): exact,
   * where averagePrice is rounded (4 decimals beyond the tick)
   */
  openCost: number;
  /** realized profit and loss in the commodity's currency */
  realizedPnl: number;
  /** quantity resting in open orders, per side */
  openBuyQuantity: number;
  openSellQuantity: number;
}

export function positionToWire(position: Position, grid: PriceGrid): PositionView {
  return {
    userId: position.userId,
    commodity: position.commodity,
    netQuantity: position.netQuantity,
    averagePrice: grid.fromFractionalTicks(position.averageEntryTicks()),
    openCost: grid.fromTicks(position.openCost),
    realizedPnl: Math.round(grid.fromTicks(position.realizedPnl) * 100) / 100,
    openBuyQuantity: position.openBuyQuantity,
    openSellQuantity: position.openSellQuantity,
  };
}

/** One aggregated price level of a book. */
export interface BookLevelView {
  price: number;
  quantity: number;
  orders: number;
}

export interface BookView {
  commodity: string;
  bids: BookLevelView[];
  asks: BookLevelView[];
}

export function levelToWire(level: PriceLevel, grid: PriceGrid): BookLevelView {
  return { price: grid.fromTicks(level.priceTicks), quantity: level.quantity, orders: level.orderCount };
}

/** Aggregated depth of a commodity's book: up to `depth` levels per side, best first. */
export function bookToWire(market: CommodityMarket, depth: number): BookView {
  const grid = market.grid;
  return {
    commodity: market.symbol,
    bids: market.book.bids.top(depth).map((l) => levelToWire(l, grid)),
    asks: market.book.asks.top(depth).map((l) => levelToWire(l, grid)),
  };
}

/** A commodity's market data: last price (reference before the first trade), quotes, volume. */
export function marketDataToWire(market: CommodityMarket, nowMs: number): MarketUpdatePayload {
  const grid = market.grid;
  const mark = market.markTicks();
  const bid = market.book.bestBid();
  const ask = market.book.bestAsk();
  const changeTicks = mark - market.referenceTicks;
  return {
    commodity: market.symbol,
    price: grid.fromTicks(mark),
    change: grid.fromTicks(changeTicks),
    changePercent: Math.round((changeTicks / market.referenceTicks) * 10_000) / 100,
    volume: market.volume,
    timestamp: isoTime(nowMs),
    bid: bid === null ? null : grid.fromTicks(bid),
    ask: ask === null ? null : grid.fromTicks(ask),
  };
}
