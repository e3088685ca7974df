/** The REST endpoints the screen reads (see docs/protocol.md §3); orders go through api/order-actions.ts. */
import type { Candle, CandleInterval } from '@qx/protocol';
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

