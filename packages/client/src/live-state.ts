/**
 * The React hook's state, as a pure reducer (tested without a DOM): connection flags, the latest
 * market data per commodity, orders upserted by id (an order first seen in an update is added,
 * not dropped), recent trades, and system and compliance alerts, newest first.
 */
import type {
  ComplianceAlertPayload,
  DisconnectNotice,
  MarketUpdatePayload,
  OrderUpdatePayload,
  SystemAlertPayload,
  TradeUpdatePayload,
} from '@qx/protocol';

export type LiveAlert = SystemAlertPayload | ComplianceAlertPayload;

export interface LiveState {
  connected: boolean;
  authenticated: boolean;
  marketData: Record<string, MarketUpdatePayload>;
  /** newest first; each order once, with the fields of every update merged in */
  orders: OrderUpdatePayload[];
  /** newest first */
  trades: TradeUpdatePayload[];
  /** system alerts and compliance alerts (`type: 'COMPLIANCE_ALERT'`), newest first */
  alerts: LiveAlert[];
  /** the last error worth showing (refused credentials, a failed subscription) */
  error: { code: string; message: string } | null;
  /** why the gateway last closed the connection, if it said */
  disconnectReason: DisconnectNotice | null;
}

export type LiveAction =
  | { type: 'reset' }
  | { type: 'connected' }
  | { type: 'authenticated' }
  | { type: 'disconnected'; notice: DisconnectNotice | null }
  | { type: 'market'; payload: MarketUpdatePayload }
  | { type: 'order'; payload: OrderUpdatePayload }
  | { type: 'trade'; payload: TradeUpdatePayload }
  | { type: 'alert'; payload: LiveAlert }
  | { type: 'error'; error: { code: string; message: string } };

/** Caps, so a long session does not grow without bound. */
export const LIVE_LIMITS = { orders: 1000, trades: 500, alerts: 200 } as const;

export const initialLiveState: LiveState = {
  connected: false,
  authenticated: false,
  marketData: {},
  orders: [],
  trades: [],
  alerts: [],
  error: null,
  disconnectReason: null,
};

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'reset':
      return initialLiveState;
    case 'connected':
      return { ...state, connected: true, disconnectReason: null };
    case 'authenticated':
      return { ...state, connected: true, authenticated: true, error: null };
    case 'disconnected':
      return { ...state, connected: false, authenticated: false, disconnectReason: action.notice ?? state.disconnectReason };
    case 'market':
      return { ...state, marketData: { ...state.marketData, [action.payload.commodity]: action.payload } };
    case 'order':
      return { ...state, orders: upsertOrder(state.orders, action.payload) };
    case 'trade':
      return { ...state, trades: [action.payload, ...state.trades].slice(0, LIVE_LIMITS.trades) };
    case 'alert':
      return { ...state, alerts: [action.payload, ...state.alerts].slice(0, LIVE_LIMITS.alerts) };
    case 'error':
      return { ...state, error: action.error };
    default:
      return state;
  }
}

/** Replaces the order in place (merging, since optional fields may be left out), or adds it first. */
export function upsertOrder(orders: readonly OrderUpdatePayload[], update: OrderUpdatePayload): OrderUpdatePayload[] {
  const at = orders.findIndex((o) => o.id === update.id);
  if (at < 0) return [update, ...orders].slice(0, LIVE_LIMITS.orders);
  const next = orders.slice();
  next[at] = { ...orders[at], ...update };
  return next;
}
