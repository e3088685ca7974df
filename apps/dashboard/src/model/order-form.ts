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

/** The ticket's quantity (in lots) as units on the wire; null when it is not a positive number of whole units. */
export function unitsOf(quantity: string, contractSize: number): number | null {
  const lots = parseNumber(quantity);
  if (lots === null || lots <= 0) return null;
  const units = Math.round(lots * contractSize);
  return Math.abs(units - lots * contractSize) < 1e-6 && units > 0 ? units : null;
}

/**
 * The order body. The quantity is typed in lots of `contractSize` units (1 lot of crude =
 * 1,000 bbl; 1 when quantities are typed in units) and sent in units, as the wire has it.
 */
export function buildOrder(form: OrderForm, clientOrderId: string, contractSize = 1): BuiltOrder {
  if (!form.commodity) return { ok: false, field: 'commodity', message: 'Choose a commodity' };
  const quantity = unitsOf(form.quantity, contractSize);
  if (quantity === null) {
    return { ok: false, field: 'quantity', message: contractSize === 1 ? 'Quantity must be a positive whole number' : `Quantity must be a positive number of lots (whole units: 1 lot = ${contractSize.toLocaleString('en-US')})` };
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

/**
 * What the order is worth before it is sent: units × price, with the limit price, or for a market
 * order the price it would meet first (the ask for a buy, the bid for a sell, else the last).
 * null while the ticket cannot say (no quantity, no price).
 */
export function notionalOf(form: Pick<OrderForm, 'side' | 'type' | 'quantity' | 'price'>, contractSize: number, quote: { bid: number | null; ask: number | null; price: number } | undefined): number | null {
  const units = unitsOf(form.quantity, contractSize);
  if (units === null) return null;
  const price = form.type === 'limit' ? parseNumber(form.price) : ((form.side === 'buy' ? quote?.ask : quote?.bid) ?? quote?.price ?? null);
  if (price === null || price <= 0) return null;
  return Math.round(units * price * 100) / 100;
}
