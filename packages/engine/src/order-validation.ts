/** Checks of an order request that need no market state: shape, grid and quantity. */
import { wireError, type WireError } from '@qx/protocol';
import type { PriceGrid } from './price-grid.js';
import type { OrderRequest, OrderSpec } from './types.js';

const SIDES = new Set(['buy', 'sell']);
const TYPES = new Set(['market', 'limit']);
const TIME_IN_FORCE = new Set(['gtc', 'day', 'ioc', 'fok']);

/** Converts a wire request to integer ticks, or says what is wrong with it. */
export function toOrderSpec(request: OrderRequest, grid: PriceGrid): { spec: OrderSpec } | { error: WireError } {
  let priceTicks: number | null = null;
  if (request.price !== undefined && request.price !== null) {
    if (typeof request.price !== 'number' || !Number.isFinite(request.price) || request.price <= 0) {
      return { error: wireError('INVALID_ORDER', 'price must be a positive number', 'price') };
    }
    priceTicks = grid.toTicks(request.price);
    if (priceTicks === null) {
      return { error: wireError('PRICE_OFF_TICK', `price ${request.price} is not a multiple of the tick size ${grid.tickSize}`, 'price') };
    }
  }
  const spec: OrderSpec = {
    commodity: request.commodity,
    side: request.side,
    type: request.type,
    quantity: request.quantity,
    priceTicks,
    timeInForce: request.timeInForce ?? (request.type === 'market' ? 'ioc' : 'gtc'),
    clientOrderId: request.clientOrderId ?? null,
  };
  const error = validateOrderSpec(spec);
  return error === null ? { spec } : { error };
}

/** Shape checks on an integer spec (used for specs that did not come through `toOrderSpec` too). */
export function validateOrderSpec(spec: OrderSpec): WireError | null {
  if (!SIDES.has(spec.side)) return wireError('INVALID_ORDER', 'side must be buy or sell', 'side');
  if (!TYPES.has(spec.type)) return wireError('INVALID_ORDER', 'type must be market or limit', 'type');
  if (!TIME_IN_FORCE.has(spec.timeInForce)) {
    return wireError('INVALID_ORDER', 'timeInForce must be gtc, day, ioc or fok', 'timeInForce');
  }
  if (!Number.isSafeInteger(spec.quantity) || spec.quantity <= 0) {
    return wireError('QUANTITY_INVALID', 'quantity must be a positive whole number of units', 'quantity');
  }
  if (spec.type === 'limit') {
    if (spec.priceTicks === null) return wireError('INVALID_ORDER', 'a limit order needs a price', 'price');
    if (!Number.isSafeInteger(spec.priceTicks) || spec.priceTicks <= 0) {
      return wireError('INVALID_ORDER', 'price must be a positive number of ticks', 'price');
    }
  } else {
    if (spec.priceTicks !== null) return wireError('INVALID_ORDER', 'a market order takes no price', 'price');
    if (spec.timeInForce !== 'ioc' && spec.timeInForce !== 'fok') {
      return wireError('INVALID_ORDER', 'a market order is ioc or fok: it never rests on the book', 'timeInForce');
    }
  }
  if (spec.clientOrderId !== null && (typeof spec.clientOrderId !== 'string' || spec.clientOrderId.length === 0 || spec.clientOrderId.length > 128)) {
    return wireError('INVALID_ORDER', 'clientOrderId must be 1-128 characters', 'clientOrderId');
  }
  return null;
}
