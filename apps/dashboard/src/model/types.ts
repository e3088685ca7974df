/**
 * What the screen holds. Wire payloads are the shared protocol package's types; REST shapes it
 * does not describe are spelled here.
 */
import type {
  Commodity,
  ComplianceAlertPayload,
  MarketUpdatePayload,
  OrderUpdatePayload,
  SystemAlertPayload,
  TradeUpdatePayload,
} from '@qx/protocol';

export type { Commodity, ComplianceAlertPayload, MarketUpdatePayload, SystemAlertPayload };
export type Order = OrderUpdatePayload;
export type Trade = TradeUpdatePayload;

/** `GET /api/v1/trading/positions` rows. */
export interface Position {
  commodity: string;
  /** signed units: long > 0, short < 0 */
  netQuantity: number;
  averagePrice: number;
  /** Σ price × quantity of the open position, exact (gateways before it was added leave it out) */
  openCost?: number;
  realizedPnl: number;
  openBuyQuantity: number;
  openSellQuantity: number;
}

export interface BookLevel {
  price: number;
  quantity: number;
  orders: number;
}

/** `GET /api/v1/market/:commodity/book` */
export interface Book {
  commodity: string;
  bids: readonly BookLevel[];
  asks: readonly BookLevel[];
}
