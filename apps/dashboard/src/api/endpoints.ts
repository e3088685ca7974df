/** The REST endpoints the screen uses (see docs/protocol.md §3). */
import type { OrderRequestBody } from '@qx/protocol';
import type { Book, Commodity, Order, Position, Trade } from '../model/types.js';
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

export const fetchBook = (token: string, commodity: string, depth = 10) =>
  request<Book>(`/api/v1/market/${encodeURIComponent(commodity)}/book?depth=${depth}`, { token });

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
