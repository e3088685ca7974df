/**
 * The signed-in screen's live state, on the SDK: `useQuantEnergxWebSocket` from `@qx/client/react`
 * holds the connection (handshake authentication, token refresh, resume and gap-fill across
 * reconnects) and the live orders, trades and quotes. This hook adds what only the screen needs:
 * the REST state it is reconciled with (orders, trades, positions), each market's status (open,
 * halted, closed: from the SDK, kept current by `subscribe-status`), the alerts feed (the recent
 * compliance alerts read back from the durable event log at each sign-in, the trader's
 * acknowledgements kept per user), notifications (fills, what an action did), when the
 * connection was lost, price-move directions, and signing out when the server refuses the
 * credentials for good.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { useQuantEnergxWebSocket, type LiveAction } from '@qx/client/react';
import type { MarketStatusPayload, QuantEnergxClient } from '@qx/client';
import { rooms } from '@qx/protocol';
import { fetchEvents, fetchOrders, fetchPositions, fetchTrades } from '../api/endpoints.js';
import { EMPTY_ALERTS, addAlert, addAlerts, clearConnectionNotices, complianceAlert, complianceAlertsFromLog, parseAcked, screenNotice, systemAlert, withAcked, type Alert, type AlertsState } from '../model/alerts.js';
import { connectionOf, type Connection } from '../model/connection.js';
import { EMPTY_MARKET, applyMarketUpdate, type MarketState } from '../model/market.js';
import { explain, explainError, problemOf } from '../model/messages.js';
import { EMPTY_NOTIFICATIONS, addFill, addNotification, dismiss, type Notification } from '../model/notifications.js';
import type { Session } from '../model/session.js';
import type { Commodity, Order, Position, Trade } from '../model/types.js';
import { PREF, readPref, writePref } from './prefs.js';
import { throttle } from './throttle.js';
import type { Authed } from './useSession.js';

export interface Terminal {
  client: QuantEnergxClient | null;
  connection: Connection;
  /** when the connection was lost (epoch ms), while it is down */
  downSince: number | null;
  market: MarketState;
  /** each market's status (open, halted, closed), by symbol; a market without one is open */
  marketStatus: Readonly<Record<string, MarketStatusPayload>>;
  orders: readonly Order[];
  trades: readonly Trade[];
  positions: readonly Position[];
  /** the feed without what the trader acknowledged */
  alerts: AlertsState;
  /** how many alerts of the feed are acknowledged (hidden) */
  acknowledged: number;
  acknowledge: (id: string) => void;
  notifications: readonly Notification[];
  dismissNotification: (id: string) => void;
  /** merge orders or trades the screen got over REST (an order just placed) */
  dispatch: (action: LiveAction) => void;
  /** a notice of the screen's own in the alerts feed */
  notify: (kind: string, message: string) => void;
  /** a notification of what an action did (cancel all, flatten) */
  acknowledgeAction: (text: string, tone?: 'ok' | 'warn') => void;
  /** reload positions now (after placing or cancelling an order) */
  refreshPositions: () => void;
}

type AlertsAction = { type: 'add'; alert: Alert } | { type: 'add-many'; alerts: readonly Alert[] } | { type: 'clear-connection' };
const alertsReducer = (state: AlertsState, action: AlertsAction): AlertsState =>
  action.type === 'add' ? addAlert(state, action.alert) : action.type === 'add-many' ? addAlerts(state, action.alerts) : clearConnectionNotices(state);

/** How soon before expiry a demo token is renewed when the SDK asks for one. */
const RENEW_LEAD_MS = 60_000;
/** Compliance alerts read back from the event log at sign-in. */
const RECENT_ALERTS = 50;

export function useTerminal(
  session: Session,
  commodities: readonly Commodity[],
  renew: () => Promise<Session | null>,
  authed: Authed,
  /** the server refused the credentials for good: sign out, saying why */
  onRefused: (reason: string) => void,
): Terminal {
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const renewRef = useRef(renew);
  renewRef.current = renew;
  const onRefusedRef = useRef(onRefused);
  onRefusedRef.current = onRefused;
  // a new function per token: the hook sees the change and re-authenticates the open connection
  const token = session.token;
  const getToken = useCallback(async () => {
    void token;
    const s = sessionRef.current;
    if (s.source === 'demo' && s.expiresAt !== null && s.expiresAt - Date.now() < RENEW_LEAD_MS) {
      const next = await renewRef.current();
      if (next) return next.token;
    }
    return s.token;
  }, [token]);

  const symbols = useMemo(() => commodities.map((c) => c.symbol), [commodities]);
  const bySymbol = useMemo(() => new Map(commodities.map((c) => [c.symbol, c])), [commodities]);
  const live = useQuantEnergxWebSocket(window.location.origin, session.userId, getToken, { commodities: symbols });
  const { client, dispatch } = live;
  const connection = connectionOf(live);
  const [alerts, alertsDispatch] = useReducer(alertsReducer, EMPTY_ALERTS);
  const [positions, setPositions] = useState<readonly Position[]>([]);
  const notify = useCallback((kind: string, message: string, opts: { connection?: boolean } = {}) => alertsDispatch({ type: 'add', alert: screenNotice(kind, 'warning', message, new Date(), opts) }), []);

  // notifications: fills as they arrive, and what an action did
  const [notifications, setNotifications] = useState<readonly Notification[]>(EMPTY_NOTIFICATIONS);
  const acknowledgeAction = useCallback((text: string, tone: 'ok' | 'warn' = 'ok') => setNotifications((n) => addNotification(n, { kind: 'action', tone, text, time: Date.now() })), []);
  const dismissNotification = useCallback((id: string) => setNotifications((n) => dismiss(n, id)), []);

  // acknowledged alerts: hidden here, remembered per user in this browser
  const ackKey = PREF.acked(session.userId);
  const [acked, setAcked] = useState<readonly string[]>(() => parseAcked(readPref(ackKey)));
  const acknowledge = useCallback(
    (id: string) =>
      setAcked((a) => {
        const next = withAcked(a, id);
        writePref(ackKey, JSON.stringify(next));
        return next;
      }),
    [ackKey],
  );

  const loadPositions = useMemo(
    () =>
      throttle(() => {
        authed(fetchPositions).then(setPositions, (err: unknown) => notify('rest', `Positions could not be loaded: ${explainError(err)}`));
      }, 300),
    [authed, notify],
  );
  useEffect(() => () => loadPositions.cancel(), [loadPositions]);

  // the alerts feed: the server's alerts (once, in order, from the SDK) and the connection's notices
  useEffect(() => {
    if (!client) return;
    const offs = [
      client.on('system-alert', (env) => alertsDispatch({ type: 'add', alert: systemAlert(env.payload, env) })),
      client.on('compliance-alert', (env) => alertsDispatch({ type: 'add', alert: complianceAlert(env.payload, env) })),
      client.on('trade-update', (env) => setNotifications((n) => addFill(n, env.payload, bySymbol.get(env.payload.commodity), Date.now()))),
      client.on('disconnect-reason', (n) => notify(n.code, `Disconnected by the server: ${n.message}`, { connection: true })),
      client.on('request-error', (e) => notify(e.code, explain(problemOf(e)))),
      client.on('stream-gap', (gap) => notify('stream-gap', `${gap.to - gap.from + 1} event(s) of ${gap.stream} could not be recovered; reloaded from the server`)),
      client.on('auth-error', (err) => {
        // a pasted JWT cannot be renewed: once it has expired the session is over
        if (err.code === 'TOKEN_EXPIRED' && sessionRef.current.source === 'jwt') onRefusedRef.current(explainError(err));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [client, notify, bySymbol]);
  // refused credentials: back to sign-in with the server's reason
  useEffect(() => {
    if (live.status === 'auth-error' && live.error) onRefusedRef.current(explain(live.error));
  }, [live.status, live.error]);

  // when the connection was lost, while it is down
  const [downSince, setDownSince] = useState<number | null>(null);
  const wasLive = useRef(false);
  useEffect(() => {
    if (connection.status === 'connected') {
      wasLive.current = true;
      setDownSince(null);
    } else if (wasLive.current) setDownSince((since) => since ?? Date.now());
  }, [connection.status]);

  // live (first time or after a loss): the REST state, so nothing done meanwhile is missed
  const reconnects = live.reconnects;
  const authenticated = live.authenticated;
  useEffect(() => {
    if (!authenticated) return;
    if (reconnects > 0) alertsDispatch({ type: 'clear-connection' });
    authed(fetchOrders).then((orders) => dispatch({ type: 'orders', orders }), (err: unknown) => notify('rest', `Orders could not be loaded: ${explainError(err)}`));
    authed(fetchTrades).then((trades) => dispatch({ type: 'trades', trades }), (err: unknown) => notify('rest', `Trades could not be loaded: ${explainError(err)}`));
    loadPositions();
    // the recent compliance alerts, from the durable log: a reload or a new sign-in keeps them
    const stream = rooms.compliance(sessionRef.current.userId);
    authed(async (t) => {
      const head = await fetchEvents(t, stream, 0, 1);
      return head.lastSeq <= 1 ? head : fetchEvents(t, stream, Math.max(0, head.lastSeq - RECENT_ALERTS), RECENT_ALERTS);
    }).then(
      (page) => alertsDispatch({ type: 'add-many', alerts: complianceAlertsFromLog(page.events) }),
      (err: unknown) => notify('rest', `Recent alerts could not be loaded: ${explainError(err)}`),
    );
  }, [authenticated, reconnects, authed, dispatch, loadPositions, notify]);

  // an order changed or a fill arrived: positions (net, open buy/sell) changed
  useEffect(() => {
    if (live.orders.length || live.trades.length) loadPositions();
  }, [live.orders, live.trades, loadPositions]);

  const market = useQuotes(live.marketData);
  const shown = useMemo(() => (acked.length ? alerts.filter((a) => !acked.includes(a.id)) : alerts), [alerts, acked]);
  return {
    client,
    connection,
    downSince,
    market,
    marketStatus: live.marketStatus,
    orders: live.orders,
    trades: live.trades,
    positions,
    alerts: shown,
    acknowledged: alerts.length - shown.length,
    acknowledge,
    notifications,
    dismissNotification,
    dispatch,
    notify: (kind, message) => notify(kind, message),
    acknowledgeAction,
    refreshPositions: loadPositions,
  };
}

/** The SDK's latest market data per commodity, with the direction of each price move (for flashing). */
function useQuotes(marketData: Readonly<Record<string, Parameters<typeof applyMarketUpdate>[1]>>): MarketState {
  const held = useRef<{ seen: Record<string, unknown>; market: MarketState }>({ seen: {}, market: EMPTY_MARKET });
  return useMemo(() => {
    let market = held.current.market;
    const seen = { ...held.current.seen };
    for (const [commodity, payload] of Object.entries(marketData)) {
      if (seen[commodity] === payload) continue;
      seen[commodity] = payload;
      market = applyMarketUpdate(market, payload);
    }
    held.current = { seen, market };
    return market;
  }, [marketData]);
}
