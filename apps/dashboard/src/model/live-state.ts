/**
 * Everything live on the screen, as one reducer over the pure parts: quotes, my orders, trades,
 * positions, alerts and the connection's state. Envelopes reach it already de-duplicated.
 */
import { EMPTY_ALERTS, addAlert, clearConnectionNotices, type Alert, type AlertsState } from './alerts.js';
import { EMPTY_MARKET, applyMarketUpdates, type MarketState } from './market.js';
import { EMPTY_ORDERS, upsertOrders, type OrdersState } from './orders.js';
import { EMPTY_TRADES, upsertTrades, type TradesState } from './trades.js';
import type { MarketUpdatePayload, Order, Position, Trade } from './types.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'auth-error' | 'offline';

export interface Connection {
  status: ConnectionStatus;
  /** why, for auth errors and disconnects */
  detail: string | null;
  /** times the connection came back after being lost (the screen says "reconnected") */
  reconnects: number;
}

export interface LiveState {
  connection: Connection;
  market: MarketState;
  orders: OrdersState;
  trades: TradesState;
  positions: readonly Position[];
  alerts: AlertsState;
}

export type LiveAction =
  | { type: 'connection'; status: ConnectionStatus; detail?: string | null }
  /** live again after a loss: connection notices go, the screen says so */
  | { type: 'reconnected' }
  | { type: 'market'; updates: readonly MarketUpdatePayload[] }
  | { type: 'orders'; orders: readonly Order[] }
  | { type: 'trades'; trades: readonly Trade[] }
  | { type: 'positions'; positions: readonly Position[] }
  | { type: 'alert'; alert: Alert };

export const INITIAL_LIVE_STATE: LiveState = {
  connection: { status: 'connecting', detail: null, reconnects: 0 },
  market: EMPTY_MARKET,
  orders: EMPTY_ORDERS,
  trades: EMPTY_TRADES,
  positions: [],
  alerts: EMPTY_ALERTS,
};

/** Prices on screen are stale while the connection is not live. */
export const isLive = (connection: Connection): boolean => connection.status === 'connected';

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'connection': {
      const detail = action.detail ?? null;
      if (state.connection.status === action.status && state.connection.detail === detail) return state;
      return { ...state, connection: { ...state.connection, status: action.status, detail } };
    }
    case 'reconnected':
      return {
        ...state,
        connection: { status: 'connected', detail: null, reconnects: state.connection.reconnects + 1 },
        alerts: clearConnectionNotices(state.alerts),
      };
    case 'market':
      return action.updates.length ? { ...state, market: applyMarketUpdates(state.market, action.updates) } : state;
    case 'orders': {
      const orders = upsertOrders(state.orders, action.orders);
      return orders === state.orders ? state : { ...state, orders };
    }
    case 'trades': {
      const trades = upsertTrades(state.trades, action.trades);
      return trades === state.trades ? state : { ...state, trades };
    }
    case 'positions':
      return { ...state, positions: action.positions };
    case 'alert': {
      const alerts = addAlert(state.alerts, action.alert);
      return alerts === state.alerts ? state : { ...state, alerts };
    }
  }
}
