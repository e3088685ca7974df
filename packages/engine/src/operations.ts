/** The shapes of the exchange's operations and their results, and the helpers that build them. */
import { wireError, type ErrorCodeName, type OrderUpdatePayload, type WireError } from '@qx/protocol';
import type { EngineBatch, OrderResult } from './events.js';
import type { OrderRecord } from './journal.js';
import type { MarketStatusView } from './market-status.js';
import type { Order, OrderState } from './order.js';
import type { OrderSpec, OrderStatus } from './types.js';
import type { TradingStatus } from './user-controls.js';

/** Per-call context: the operation's time, when the caller does not want the injected clock. */
export interface OperationContext {
  nowMs?: number;
}

/** The context of a bulk cancel: its time, and the reason each cancelled order shows (`cancel_on_disconnect`, …). */
export interface CancelContext extends OperationContext {
  reason?: string;
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

/** The result of the kill switch: the user's status now, and the orders disabling it cancelled. */
export type TradingControlResult =
  | ({ ok: true; status: TradingStatus; cancelled: OrderUpdatePayload[] } & EngineBatch)
  | ({ ok: false; error: WireError } & EngineBatch);

/** The result of arming the dead-man's switch: when it fires (ms), null once disarmed. */
export type DeadManResult = ({ ok: true; firesAt: number | null } & EngineBatch) | ({ ok: false; error: WireError } & EngineBatch);

/** What firing the due dead-man's switches did: the cancellations, and whose switches fired. */
export interface DeadManFiring extends EngineBatch {
  fired: string[];
}

/** The result of a market status operation (halt, reopen, session close/open): the statuses now. */
export type MarketStatusResult =
  | ({ ok: true; statuses: MarketStatusView[] } & EngineBatch)
  | ({ ok: false; error: WireError } & EngineBatch);

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
  /** users whose kill switch is on */
  tradingDisabled: number;
  /** armed dead-man's switches */
  deadManSwitches: number;
  /** commodities halted or closed */
  marketsNotOpen: number;
}

/** An order's status from its quantities (after matching or an amend). */
export function statusOf(order: OrderState): OrderStatus {
  if (order.remainingQuantity > 0) return order.filledQuantity > 0 ? 'partially_filled' : 'new';
  return order.cancelledQuantity === 0 ? 'filled' : 'cancelled';
}

/** A refused request in wire shape: the error and nothing else. */
export function failure(error: WireError): OrderResult {
  return { ok: false, error, events: [], journal: [] };
}

/** A refused request at the integer level: no order, no events, no journal. */
export function refusal(error: WireError): PlaceOutcome {
  return { ok: false, order: null, error, events: [], journal: [] };
}

/** A repeated clientOrderId: the same order again, or a conflict when the parameters differ. */
export function replay(existing: Order, spec: OrderSpec): PlaceOutcome {
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
export function replayed(existing: Order): PlaceOutcome {
  const error = existing.rejectCode === null ? null : wireError(existing.rejectCode, existing.reason ?? undefined, rejectField(existing.rejectCode));
  return { ok: error === null, order: existing, error, events: [], journal: [] };
}

/** The order field a refusal is about, when one is (a price outside the band). */
export function rejectField(code: ErrorCodeName): string | undefined {
  return code === 'PRICE_OUT_OF_BAND' ? 'price' : undefined;
}

/** An integer outcome in wire shape (`wire` converts the order with its commodity's grid). */
export function toResult(outcome: PlaceOutcome, wire: (order: OrderState | OrderRecord) => OrderUpdatePayload): OrderResult {
  const batch: EngineBatch = { events: outcome.events, journal: outcome.journal };
  if (outcome.prints) batch.prints = outcome.prints;
  if (outcome.marketStatus) batch.marketStatus = outcome.marketStatus;
  if (outcome.ok && outcome.order !== null) return { ok: true, order: wire(outcome.order), ...batch };
  const error = outcome.error ?? wireError('INTERNAL');
  if (outcome.order !== null) return { ok: false, error, order: wire(outcome.order), ...batch };
  return { ok: false, error, ...batch };
}
