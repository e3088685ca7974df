/**
 * The order ticket's fields as typed, turned into a `POST /api/v1/trading/orders` body. Quantities
 * are typed in whole lots (futures trade in whole contracts) and sent in units; prices take a
 * decimal point, and a decimal comma ("74,10") is refused with what to type instead rather than
 * read as a thousands separator. The limits the server will apply are in ./limits.ts.
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

export type Parsed = { ok: true; value: number } | { ok: false; message: string };

/** Thousands grouped by commas: 1,000 or 12,345,678 (a point may follow). */
const GROUPED = /^\d{1,3}(,\d{3})+(\.\d*)?$/;
const PLAIN = /^\d*\.?\d*$/;

/**
 * A price as typed. A point is the decimal mark; commas only group thousands when a point
 * follows them ("1,075.50"). A comma without a point ("74,10", and "1,075" too: 1075 or 1.075?)
 * is refused, saying what to type, so a decimal comma is never read as 7410.
 */
export function parsePrice(text: string): Parsed {
  const t = text.replace(/[\s_]/g, '');
  if (t === '') return { ok: false, message: 'Enter a price' };
  if (t.includes(',')) {
    if (t.includes('.') && GROUPED.test(t)) return number(t.replace(/,/g, ''), text);
    const commas = t.split(',').length - 1;
    const asPoint = commas === 1 ? t.replace(',', '.') : null;
    return {
      ok: false,
      message:
        asPoint !== null && PLAIN.test(asPoint)
          ? `“${text.trim()}” has a decimal comma: prices take a decimal point. Did you mean ${asPoint}?`
          : `“${text.trim()}” is not a price: use a decimal point and no commas (e.g. 74.10)`,
    };
  }
  return number(t, text);
}

function number(cleaned: string, typed: string): Parsed {
  if (!PLAIN.test(cleaned) || cleaned === '.') return { ok: false, message: `“${typed.trim()}” is not a number` };
  const n = Number(cleaned);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `“${typed.trim()}” is not a number` };
}

/** Lots as typed: a positive whole number; commas may group thousands ("1,000"). */
export function parseLots(text: string): Parsed {
  const t = text.replace(/[\s_]/g, '');
  if (t === '') return { ok: false, message: 'Enter a quantity in lots' };
  const cleaned = GROUPED.test(t) && !t.includes('.') ? t.replace(/,/g, '') : t;
  if (!/^\d+$/.test(cleaned)) {
    if (/^\d*[.,]\d+$/.test(t) || /^\d+[.,]$/.test(t)) return { ok: false, message: `Whole lots only: “${text.trim()}” is not a whole number of lots (futures trade in whole contracts)` };
    return { ok: false, message: `“${text.trim()}” is not a number of lots` };
  }
  const n = Number(cleaned);
  if (!Number.isSafeInteger(n) || n <= 0) return { ok: false, message: 'Quantity must be at least 1 lot' };
  return { ok: true, value: n };
}

/** The ticket's quantity (whole lots) in units on the wire; null when it is not a positive whole number of lots. */
export function unitsOf(quantity: string, contractSize: number): number | null {
  const lots = parseLots(quantity);
  if (!lots.ok) return null;
  const units = lots.value * contractSize;
  return Number.isSafeInteger(units) ? units : null;
}

export type BuiltOrder = { ok: true; body: OrderRequestBody } | { ok: false; field: keyof OrderForm; message: string };

/**
 * The order body. The quantity is typed in whole lots of `contractSize` units (1 lot of crude =
 * 1,000 bbl) and sent in units, as the wire has it.
 */
export function buildOrder(form: OrderForm, clientOrderId: string, contractSize = 1): BuiltOrder {
  if (!form.commodity) return { ok: false, field: 'commodity', message: 'Choose a commodity' };
  const lots = parseLots(form.quantity);
  if (!lots.ok) return { ok: false, field: 'quantity', message: lots.message };
  const quantity = lots.value * contractSize;
  if (!Number.isSafeInteger(quantity)) return { ok: false, field: 'quantity', message: 'Quantity is too large' };
  const timeInForce = TIME_IN_FORCE[form.type].includes(form.timeInForce) ? form.timeInForce : TIME_IN_FORCE[form.type][0];
  const body: OrderRequestBody = { commodity: form.commodity, side: form.side, type: form.type, quantity, timeInForce, clientOrderId };
  if (form.type === 'limit') {
    const price = parsePrice(form.price);
    if (!price.ok) return { ok: false, field: 'price', message: form.price.trim() === '' ? 'A limit order needs a price' : price.message };
    if (price.value <= 0) return { ok: false, field: 'price', message: 'A limit order needs a positive price' };
    body.price = price.value;
  }
  return { ok: true, body };
}

/** The price a ticket would trade at: the limit, or for a market order the side of the book it meets (else the last). */
export function ticketPrice(form: Pick<OrderForm, 'side' | 'type' | 'price'>, quote: { bid: number | null; ask: number | null; price: number } | undefined): number | null {
  if (form.type === 'limit') {
    const p = parsePrice(form.price);
    return p.ok && p.value > 0 ? p.value : null;
  }
  return (form.side === 'buy' ? quote?.ask : quote?.bid) ?? quote?.price ?? null;
}

/**
 * What the order is worth before it is sent: units × price, with the limit price, or for a market
 * order the price it would meet first (the ask for a buy, the bid for a sell, else the last).
 * null while the ticket cannot say (no quantity, no price).
 */
export function notionalOf(form: Pick<OrderForm, 'side' | 'type' | 'quantity' | 'price'>, contractSize: number, quote: { bid: number | null; ask: number | null; price: number } | undefined): number | null {
  const units = unitsOf(form.quantity, contractSize);
  if (units === null) return null;
  const price = ticketPrice(form, quote);
  if (price === null || price <= 0) return null;
  return Math.round(units * price * 100) / 100;
}
