/** The REST endpoints the screen uses (see docs/protocol.md §3). */
import type { Candle, CandleInterval, OrderRequestBody } from '@qx/protocol';
import type { LoggedEvent } from '../model/alerts.js';
import type { Commodity, Order, Position, Trade } from '../model/types.js';
import { request } from './http.js';

export interface DevToken {
  token: string;
  userId: string;
  roles: string[];
  expiresAt: string;
}

/** Demo mode only; a 404 means the gateway runs with real identity (paste a JWT instead). */
export const fetchDevToken = (userId: string) => request<DevToken>('/api/v1/auth/dev-token', { method: 'POST', body: { userId } });

export const fetchCommodities = (token: string) =>
  request<{ commodities: Commodity[] }>('/api/v1/market/commodities', { token }).then((r) => r.commodities);

export const fetchOrders = (token: string) =>
  request<{ orders: Order[] }>('/api/v1/trading/orders?limit=200', { token }).then((r) => r.orders);

export const fetchTrades = (token: string) =>
  request<{ trades: Trade[] }>('/api/v1/trading/trades?limit=200', { token }).then((r) => r.trades);

export const fetchPositions = (token: string) =>
  request<{ positions: Position[] }>('/api/v1/trading/positions', { token }).then((r) => r.positions);

export const placeOrder = (token: string, body: OrderRequestBody) =>
  request<{ order: Order }>('/api/v1/trading/orders', { method: 'POST', token, body }).then((r) => r.order);

export const cancelOrder = (token: string, id: string) =>
  request<{ order: Order }>(`/api/v1/trading/orders/${encodeURIComponent(id)}`, { method: 'DELETE', token }).then((r) => r.order);

/** Cancel/replace a resting limit order: a new price, a new total quantity (above the filled), or both. */
export const amendOrder = (token: string, id: string, change: { price?: number; quantity?: number }) =>
  request<{ order: Order }>(`/api/v1/trading/orders/${encodeURIComponent(id)}`, { method: 'PATCH', token, body: change }).then((r) => r.order);

/** Every open order of the user, or of one commodity. */
export const cancelAllOrders = (token: string, commodity?: string) =>
  request<{ cancelled: Order[] }>(`/api/v1/trading/orders${commodity === undefined ? '' : `?commodity=${encodeURIComponent(commodity)}`}`, { method: 'DELETE', token }).then((r) => r.cancelled);

/** One market order closing the whole net position (refused above the maximum order size). */
export const flattenPosition = (token: string, commodity: string) =>
  request<{ order: Order }>(`/api/v1/trading/positions/${encodeURIComponent(commodity)}/flatten`, { method: 'POST', token }).then((r) => r.order);

export interface EventPage {
  stream: string;
  events: LoggedEvent[];
  hasMore: boolean;
  lastSeq: number;
}

/** A page of the durable event log (`GET /api/v1/events`): the events of `stream` after seq `after`. */
export const fetchEvents = (token: string, stream: string, after: number, limit: number) =>
  request<EventPage>(`/api/v1/events?stream=${encodeURIComponent(stream)}&after=${after}&limit=${limit}`, { token });


export interface CandlesPage {
  commodity: string;
  interval: CandleInterval;
  from: string;
  /** trades at or after this time are not in the page: the live tape adds them */
  to: string;
  candles: Candle[];
}

export const fetchCandles = (token: string, commodity: string, interval: CandleInterval, limit = 300) =>
  request<CandlesPage>(`/api/v1/market/candles?commodity=${encodeURIComponent(commodity)}&interval=${interval}&limit=${limit}`, { token });

