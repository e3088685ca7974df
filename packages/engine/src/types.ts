/**
 * The engine's vocabulary. Prices are integer ticks and quantities integer units everywhere in
 * this package; `wire.ts` converts to the protocol's decimals at the edge.
 */
import type { OrderUpdatePayload, TradeUpdatePayload } from '@qx/protocol';

export type Side = TradeUpdatePayload['side'];
export type OrderType = NonNullable<OrderUpdatePayload['type']>;
export type TimeInForce = NonNullable<OrderUpdatePayload['timeInForce']>;
export type OrderStatus = OrderUpdatePayload['status'];
export type Liquidity = NonNullable<TradeUpdatePayload['liquidity']>;

/** An order request as it arrives on the wire: decimal price, integer quantity in units. */
export interface OrderRequest {
  commodity: string;
  side: Side;
  type: OrderType;
  quantity: number;
  /** required for limit orders, absent (or null) for market orders */
  price?: number | null;
  /** default: gtc for limit orders, ioc for market orders */
  timeInForce?: TimeInForce;
  clientOrderId?: string | null;
}

/** The same request after conversion: integer ticks, defaults applied. */
export interface OrderSpec {
  commodity: string;
  side: Side;
  type: OrderType;
  quantity: number;
  /** ticks; null for market orders */
  priceTicks: number | null;
  timeInForce: TimeInForce;
  clientOrderId: string | null;
}

/** Milliseconds since the epoch, from the caller's clock. */
export type Clock = () => number;

/** Simulated market agents are users whose id starts with `~`: they produce no events or journal. */
export function isAgentUser(userId: string): boolean {
  return userId.charCodeAt(0) === 126; // '~'
}

export function isOpenStatus(status: OrderStatus): boolean {
  return status === 'new' || status === 'partially_filled';
}
