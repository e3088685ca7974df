/**
 * Runs the live feed for a signed-in session: the socket, the REST state it is reconciled with
 * (orders, trades, positions), and token renewal when the server says the token expired.
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import { fetchOrders, fetchPositions, fetchTrades } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import { LiveFeed } from '../live/feed.js';
import { screenNotice } from '../model/alerts.js';
import { INITIAL_LIVE_STATE, liveReducer, type LiveAction, type LiveState } from '../model/live-state.js';
import type { Session } from '../model/session.js';
import type { Commodity } from '../model/types.js';
import { throttle } from './throttle.js';
import type { Authed } from './useSession.js';

export interface LiveFeedApi {
  state: LiveState;
  feed: LiveFeed | null;
  dispatch: (action: LiveAction) => void;
  /** reload positions now (after placing or cancelling an order) */
  refreshPositions: () => void;
}

/** auth-error codes after which this session cannot go on */
const FATAL_AUTH = new Set(['INVALID_AUTH_DATA', 'USER_MISMATCH', 'USER_SWITCH_REFUSED']);

export function useLiveFeed(
  session: Session,
  commodities: readonly Commodity[] | null,
  renew: () => Promise<Session | null>,
  authed: Authed,
  /** the server refused the credentials for good: sign out, saying why */
  onRefused: (reason: string) => void,
): LiveFeedApi {
  const [state, dispatch] = useReducer(liveReducer, INITIAL_LIVE_STATE);
  const [feed, setFeed] = useState<LiveFeed | null>(null);
  const token = useRef(session.token);
  const renewRef = useRef(renew);
  renewRef.current = renew;
  const refusedRef = useRef(onRefused);
  refusedRef.current = onRefused;
  const positions = useRef<() => void>(() => undefined);

  // a renewed token: keep the socket, authenticate it again
  useEffect(() => {
    if (token.current === session.token) return;
    token.current = session.token;
    feed?.reauthenticate(session.token);
  }, [session.token, feed]);

  const userId = session.userId;
  useEffect(() => {
    if (!commodities) return;
    const warn = (what: string, err: unknown) =>
      dispatch({ type: 'alert', alert: screenNotice('rest', 'warning', `${what}: ${describeError(err)}`, new Date()) });
    const loadPositions = throttle(() => {
      authed(fetchPositions).then(
        (p) => dispatch({ type: 'positions', positions: p }),
        (err: unknown) => warn('Positions', err),
      );
    }, 300);
    positions.current = loadPositions;
    const resync = () => {
      authed(fetchOrders).then((o) => dispatch({ type: 'orders', orders: o }), (err: unknown) => warn('Orders', err));
      authed(fetchTrades).then((t) => dispatch({ type: 'trades', trades: t }), (err: unknown) => warn('Trades', err));
      loadPositions();
    };
    let renewing = false;
    const live = new LiveFeed({
      url: window.location.origin,
      userId,
      commodities: commodities.map((c) => c.symbol),
      token: () => token.current,
      dispatch,
      resync,
      onPositionsChanged: loadPositions,
      onAuthError: (code, message) => {
        if (renewing) return;
        if (code !== 'TOKEN_EXPIRED' && code !== 'INVALID_TOKEN') {
          // refused for a reason a new token cannot fix (user mismatch, malformed data)
          if (FATAL_AUTH.has(code)) refusedRef.current(`${code}: ${message}`);
          return;
        }
        renewing = true;
        void renewRef.current().then((next) => {
          renewing = false;
          if (!next) return refusedRef.current(`${code}: ${message}`);
          token.current = next.token;
          live.reauthenticate(next.token);
        });
      },
    });
    live.start();
    setFeed(live);
    return () => {
      loadPositions.cancel();
      live.close();
      setFeed(null);
    };
  }, [commodities, userId, authed]);

  return { state, feed, dispatch, refreshPositions: () => positions.current() };
}
