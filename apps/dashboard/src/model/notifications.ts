/**
 * Notifications the trader sees over the screen until dismissed: each fill of an order (fills of
 * one order gathered into one notification: how much, at what average) and what an action did
 * (cancel all, flatten). Newest first, bounded.
 */
import { formatLots, formatPrice } from './format.js';
import type { Commodity, Trade } from './types.js';

export interface Notification {
  id: string;
  kind: 'fill' | 'action';
  tone: 'ok' | 'warn';
  text: string;
  /** epoch ms of the latest change */
  time: number;
  /** fills: the order, the trades gathered, and their totals */
  orderId?: string;
  tradeIds?: readonly string[];
  quantity?: number;
  notional?: number;
}

export const EMPTY_NOTIFICATIONS: readonly Notification[] = [];
export const MAX_NOTIFICATIONS = 20;

let made = 0;

export function addNotification(list: readonly Notification[], n: Omit<Notification, 'id'>): readonly Notification[] {
  return [{ ...n, id: `${n.kind}:${n.time}:${made++}` }, ...list].slice(0, MAX_NOTIFICATIONS);
}

/** A fill: a new notification for its order, or the order's notification brought up to date (each trade once). */
export function addFill(list: readonly Notification[], trade: Trade, commodity: Pick<Commodity, 'name' | 'contractSize' | 'tickSize'> | undefined, now: number): readonly Notification[] {
  const id = `fill:${trade.orderId}`;
  const held = list.find((n) => n.id === id);
  if (held?.tradeIds?.includes(trade.id)) return list;
  const tradeIds = [...(held?.tradeIds ?? []), trade.id];
  const quantity = (held?.quantity ?? 0) + trade.quantity;
  const notional = (held?.notional ?? 0) + trade.quantity * trade.price;
  const size = commodity?.contractSize ?? 1;
  const lots = formatLots(quantity, size);
  const price = formatPrice(tradeIds.length === 1 ? trade.price : notional / quantity, commodity?.tickSize ?? 0.01);
  const verb = trade.side === 'buy' ? 'Bought' : 'Sold';
  const text = `${verb} ${lots} ${quantity === size ? 'lot' : 'lots'} ${commodity?.name ?? trade.commodity} ${tradeIds.length === 1 ? 'at' : 'at avg'} ${price}${tradeIds.length > 1 ? ` (${tradeIds.length} fills)` : ''} · ${trade.orderId}`;
  const next: Notification = { id, kind: 'fill', tone: 'ok', text, time: now, orderId: trade.orderId, tradeIds, quantity, notional };
  return [next, ...list.filter((n) => n.id !== id)].slice(0, MAX_NOTIFICATIONS);
}

/** Dismisses one notification by id, or every one with `'all'`. */
export function dismiss(list: readonly Notification[], id: string): readonly Notification[] {
  return id === 'all' ? EMPTY_NOTIFICATIONS : list.filter((n) => n.id !== id);
}
