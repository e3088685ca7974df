/**
 * My orders, newest first, upserted by id. Each order-update is self-sufficient (cumulative fills),
 * but one from a back-end publisher may carry only some fields, so updates merge into what is
 * known. A REST page and the live stream can cross: an older state never replaces a newer one.
 */
import type { Order } from './types.js';

export type OrdersState = readonly Order[];

export const EMPTY_ORDERS: OrdersState = [];
export const MAX_ORDERS = 500;

const TERMINAL = new Set<Order['status']>(['filled', 'cancelled', 'rejected', 'expired']);

export function isOpen(order: Order): boolean {
  return !TERMINAL.has(order.status);
}

function time(iso: string | undefined): number {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Whether `incoming` is older than what we hold (and so must not replace it). */
function isStale(existing: Order, incoming: Order): boolean {
  if (!isOpen(existing) && isOpen(incoming)) return true;
  return time(incoming.timestamp) < time(existing.timestamp);
}

function newestFirst(a: Order, b: Order): number {
  return time(b.createdAt ?? b.timestamp) - time(a.createdAt ?? a.timestamp) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function upsertOrders(state: OrdersState, incoming: readonly Order[]): OrdersState {
  if (incoming.length === 0) return state;
  const byId = new Map(state.map((o) => [o.id, o]));
  let changed = false;
  for (const order of incoming) {
    const existing = byId.get(order.id);
    if (existing && isStale(existing, order)) continue;
    byId.set(order.id, existing ? { ...existing, ...order } : order);
    changed = true;
  }
  if (!changed) return state;
  return [...byId.values()].sort(newestFirst).slice(0, MAX_ORDERS);
}
