/**
 * The order ticket's fields as typed, turned into a `POST /api/v1/trading/orders` body. Only what
 * the screen can know is checked here (numbers present and positive); the tick grid, price band
 * and limits are the server's to judge, and its coded error is shown as it comes.
 */
import type { OrderRequestBody } from '@qx/protocol';

export type Side = OrderRequestBody['side'];
export type OrderType = OrderRequestBody['type'];
export type TimeInForce = NonNullable<OrderRequestBody['timeInForce']>;

export interface OrderForm {
  commodity: string;
  side: Side;
  type: OrderType;
  quantity: string;
  price: string;
  timeInForce: TimeInForce;
}

/** Time-in-force choices per order type: a market order never rests. */
export const TIME_IN_FORCE: Readonly<Record<OrderType, readonly TimeInForce[]>> = {
  limit: ['gtc', 'day', 'ioc', 'fok'],
  market: ['ioc', 'fok'],
};

/** What each type starts with: a limit order rests until cancelled, a market order never rests. */
export const DEFAULT_TIME_IN_FORCE: Readonly<Record<OrderType, TimeInForce>> = { limit: 'gtc', market: 'ioc' };

/**
 * The ticket switched to another order type: its time in force goes to that type's default
 * (an IOC chosen for a market order must not follow it to a limit order meant to rest).
 */
export function withType<F extends { type: OrderType; timeInForce: TimeInForce }>(form: F, type: OrderType): F {
  if (form.type === type) return form;
  return { ...form, type, timeInForce: DEFAULT_TIME_IN_FORCE[type] };
}

export type BuiltOrder = { ok: true; body: OrderRequestBody } | { ok: false; field: keyof OrderForm; message: string };

function parseNumber(text: string): number | null {
  const cleaned = text.replace(/[,_\s]/g, '');
  if (cleaned === '') return null;
  const n = Number(cleaned);
  return Number.isFinite(n) ? n : null;
}

export function buildOrder(form: OrderForm, clientOrderId: string): BuiltOrder {
  if (!form.commodity) return { ok: false, field: 'commodity', message: 'Choose a commodity' };
  const quantity = parseNumber(form.quantity);
  if (quantity === null || quantity <= 0 || !Number.isInteger(quantity)) {
    return { ok: false, field: 'quantity', message: 'Quantity must be a positive whole number' };
  }
  const timeInForce = TIME_IN_FORCE[form.type].includes(form.timeInForce) ? form.timeInForce : TIME_IN_FORCE[form.type][0];
  const body: OrderRequestBody = { commodity: form.commodity, side: form.side, type: form.type, quantity, timeInForce, clientOrderId };
  if (form.type === 'limit') {
    const price = parseNumber(form.price);
    if (price === null || price <= 0) return { ok: false, field: 'price', message: 'A limit order needs a positive price' };
    body.price = price;
  }
  return { ok: true, body };
}
