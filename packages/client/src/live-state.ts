/**
 * The React hook's state, as a pure reducer (tested without a DOM): connection flags and status
 * (with how often the connection came back), the latest market data per commodity, orders
 * upserted by id (an order first seen in an update is added, not dropped; an older state never
 * replaces a newer one, so a REST page and the live stream can cross), trades by id (a fill
 * replayed after a reconnect is kept once), system and compliance alerts, newest first, and the
 * latest market status (open, halted, closed) per commodity.
 */
import type {
  ComplianceAlertPayload,
  DisconnectNotice,
  MarketStatusPayload,
  MarketUpdatePayload,
  OrderUpdatePayload,
  SystemAlertPayload,
  TradeUpdatePayload,
} from '@qx/protocol/wire';
import type { QuantEnergxErrorCode } from './errors.js';
import { isNewerStatus } from './market-status.js';

export type LiveAlert = SystemAlertPayload | ComplianceAlertPayload;

/**
 * `connecting` until first authenticated; `connected` while live; `reconnecting` while the
 * connection is lost and the client is coming back; `auth-error` when the credentials were
 * refused for good; `closed` when the client will not reconnect.
 */
export type LiveStatus = 'connecting' | 'connected' | 'reconnecting' | 'auth-error' | 'closed';

export interface LiveState {
  connected: boolean;
  authenticated: boolean;
  status: LiveStatus;
  /** times the connection came back (authenticated again) after being lost */
  reconnects: number;
  marketData: Record<string, MarketUpdatePayload>;
  /** the latest market status per commodity (open, halted, closed; with the reason, since and until when) */
  marketStatus: Record<string, MarketStatusPayload>;
  /** newest first; each order once, with the fields of every update merged in */
  orders: OrderUpdatePayload[];
  /** newest first, each trade once */
  trades: TradeUpdatePayload[];
  /** system alerts and compliance alerts (`type: 'COMPLIANCE_ALERT'`), newest first */
  alerts: LiveAlert[];
  /** the last error worth showing (refused credentials, a failed subscription), coded as the SDK's errors */
  error: LiveError | null;
  /** why the gateway last closed the connection, if it said */
  disconnectReason: DisconnectNotice | null;
}

export type LiveAction =
  | { type: 'reset' }
  | { type: 'connected'; recovered?: boolean }
  | { type: 'authenticated' }
  | { type: 'disconnected'; notice: DisconnectNotice | null; willReconnect?: boolean }
  | { type: 'market'; payload: MarketUpdatePayload }
  /** a `market-status` (or a row of `GET /api/v1/market/status`); an older one than held is ignored */
  | { type: 'status'; payload: MarketStatusPayload }
  | { type: 'order'; payload: OrderUpdatePayload }
  /** several at once, e.g. a page from `GET /api/v1/trading/orders` */
  | { type: 'orders'; orders: readonly OrderUpdatePayload[] }
  | { type: 'trade'; payload: TradeUpdatePayload }
  /** several at once, e.g. a page from `GET /api/v1/trading/trades` */
  | { type: 'trades'; trades: readonly TradeUpdatePayload[] }
  | { type: 'alert'; payload: LiveAlert }
  | { type: 'error'; error: LiveError; fatal?: boolean };

/** An error in the hook's state: the code of the `QuantEnergxError` it came from, and its message. */
export interface LiveError {
  code: QuantEnergxErrorCode;
  message: string;
}

/** Caps, so a long session does not grow without bound. */
export const LIVE_LIMITS = { orders: 1000, trades: 500, alerts: 200 } as const;

export const initialLiveState: LiveState = {
  connected: false,
  authenticated: false,
  status: 'connecting',
  reconnects: 0,
  marketData: {},
  marketStatus: {},
  orders: [],
  trades: [],
  alerts: [],
  error: null,
  disconnectReason: null,
};

/** Live again: after a loss this counts as a reconnect (a token refresh on a live connection does not). */
function live(state: LiveState): LiveState {
  const back = state.status === 'reconnecting';
  return { ...state, connected: true, authenticated: true, status: 'connected', reconnects: state.reconnects + (back ? 1 : 0), error: null };
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'reset':
      return initialLiveState;
    case 'connected':
      // a recovered session keeps its authentication: live at once
      return action.recovered ? { ...live(state), disconnectReason: null } : { ...state, connected: true, disconnectReason: null };
    case 'authenticated':
      return live(state);
    case 'disconnected': {
      const status: LiveStatus = state.status === 'auth-error' ? 'auth-error' : action.willReconnect === false ? 'closed' : 'reconnecting';
      return { ...state, connected: false, authenticated: false, status, disconnectReason: action.notice ?? state.disconnectReason };
    }
    case 'market':
      return { ...state, marketData: { ...state.marketData, [action.payload.commodity]: action.payload } };
    case 'status':
      if (!isNewerStatus(state.marketStatus[action.payload.commodity], action.payload)) return state;
      return { ...state, marketStatus: { ...state.marketStatus, [action.payload.commodity]: action.payload } };
    case 'order':
      return { ...state, orders: upsertOrders(state.orders, [action.payload]) };
    case 'orders': {
      const orders = upsertOrders(state.orders, action.orders);
      return orders === state.orders ? state : { ...state, orders };
    }
    case 'trade':
    case 'trades': {
      const trades = upsertTrades(state.trades, action.type === 'trade' ? [action.payload] : action.trades);
      return trades === state.trades ? state : { ...state, trades };
    }
    case 'alert':
      return { ...state, alerts: [action.payload, ...state.alerts].slice(0, LIVE_LIMITS.alerts) };
    case 'error':
      return action.fatal ? { ...state, error: action.error, status: 'auth-error', authenticated: false } : { ...state, error: action.error };
    default:
      return state;
  }
}

const TERMINAL = new Set<OrderUpdatePayload['status']>(['filled', 'cancelled', 'rejected', 'expired']);

/** Still working: new or partially filled. */
export function isOpenOrder(order: Pick<OrderUpdatePayload, 'status'>): boolean {
  return !TERMINAL.has(order.status);
}

function time(iso: string | undefined): number {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Whether `incoming` is older than what is held (and so must not replace it). */
function isStale(existing: OrderUpdatePayload, incoming: OrderUpdatePayload): boolean {
  if (!isOpenOrder(existing) && isOpenOrder(incoming)) return true;
  return time(incoming.timestamp) < time(existing.timestamp);
}

/** Replaces the order in place (merging, since optional fields may be left out), or adds it first. */
export function upsertOrder(orders: readonly OrderUpdatePayload[], update: OrderUpdatePayload): OrderUpdatePayload[] {
  return upsertOrders(orders, [update]);
}

/**
 * Upserts several orders; returns `orders` itself when nothing changed. A newly seen order goes
 * first (a REST page, newest first, keeps its order); an update older than the held state is ignored.
 */
export function upsertOrders(orders: readonly OrderUpdatePayload[], incoming: readonly OrderUpdatePayload[]): OrderUpdatePayload[] {
  let next: OrderUpdatePayload[] | null = null;
  const fresh: OrderUpdatePayload[] = [];
  for (const update of incoming) {
    const list: readonly OrderUpdatePayload[] = next ?? orders;
    const at = list.findIndex((o) => o.id === update.id);
    const pending = fresh.findIndex((o) => o.id === update.id);
    if (pending >= 0) {
      const held = fresh[pending]!;
      if (!isStale(held, update)) fresh[pending] = { ...held, ...update };
      continue;
    }
    if (at < 0) {
      fresh.push(update);
      continue;
    }
    const held = list[at]!;
    if (isStale(held, update)) continue;
    next ??= orders.slice();
    next[at] = { ...held, ...update };
  }
  if (!next && fresh.length === 0) return orders as OrderUpdatePayload[];
  // newest first by creation (a REST page read after live updates falls into place); stable for equal times
  const all = [...fresh, ...(next ?? orders)];
  all.sort((a, b) => time(b.createdAt ?? b.timestamp) - time(a.createdAt ?? a.timestamp));
  return all.slice(0, LIVE_LIMITS.orders);
}

/** Adds trades not held yet (by id), newest first by execution time. */
export function upsertTrades(trades: readonly TradeUpdatePayload[], incoming: readonly TradeUpdatePayload[]): TradeUpdatePayload[] {
  const held = new Set(trades.map((t) => t.id));
  const added = incoming.filter((t) => !held.has(t.id) && (held.add(t.id), true));
  if (added.length === 0) return trades as TradeUpdatePayload[];
  return [...added, ...trades]
    .sort((a, b) => Date.parse(b.executionTime) - Date.parse(a.executionTime) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, LIVE_LIMITS.trades);
}
