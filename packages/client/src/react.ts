/**
 * React hooks built on the SDK. `useQuantEnergxWebSocket(url, userId, token)` is the seed's hook:
 * it connects once per url and user (a new token string is used without reconnecting; a token
 * function is a provider, called when a token is needed, whatever its identity), subscribes to
 * market data and its market status, trades, orders and compliance alerts, keeps the state in a
 * reducer (with a `dispatch` to merge REST pages in), and closes the client on unmount. `useBook` and
 * `useMarketTrades` follow one commodity's streamed book and public tape on that client.
 */
import { useCallback, useEffect, useReducer, useRef, useState, type Dispatch } from 'react';
import { DataEvent, type MarketTrade } from '@qx/protocol/wire';
import { QuantEnergxClient, type QuantEnergxSocket } from './client.js';
import { isFatalAuthError, toQuantEnergxError } from './errors.js';
import { initialLiveState, liveReducer, type LiveAction, type LiveState } from './live-state.js';
import { acceptsOrders } from './market-status.js';
import type { BookView } from './order-book.js';
import { addToTape } from './tape.js';
import type { QuantEnergxClientOptions } from './types.js';

export { acceptsOrders, isNewerStatus } from './market-status.js';
export {
  liveReducer,
  initialLiveState,
  upsertOrder,
  upsertOrders,
  upsertTrades,
  isOpenOrder,
  LIVE_LIMITS,
  type LiveState,
  type LiveAction,
  type LiveAlert,
  type LiveError,
  type LiveStatus,
} from './live-state.js';

/** A JWT, or a provider of one: a function called whenever the client needs a token (an inline arrow is fine). */
export type TokenSource = string | (() => string | Promise<string>);

export interface UseQuantEnergxOptions {
  /** market data to follow (default: the seed's crude_oil and natural_gas) */
  commodities?: readonly string[];
  /** follow this user's trades, orders and compliance alerts (default true) */
  privateStreams?: boolean;
  /** follow the market status (open, halted, closed) of the `commodities` (default true) */
  marketStatus?: boolean;
  /** anything else for the client (timeouts, reconnection, authMode) */
  client?: Omit<QuantEnergxClientOptions, 'url' | 'userId' | 'token' | 'getToken'>;
}

export interface UseQuantEnergxWebSocketReturn extends LiveState {
  /** the socket.io-client socket, as in the seed */
  socket: QuantEnergxSocket | null;
  client: QuantEnergxClient | null;
  /** merges what the app read elsewhere (a REST page of orders or trades) into the state */
  dispatch: Dispatch<LiveAction>;
  /** whether `commodity` accepts new orders as far as its market status says (open, or not known) */
  acceptsOrders: (commodity: string) => boolean;
}

const DEFAULT_COMMODITIES = ['crude_oil', 'natural_gas'] as const;

export function useQuantEnergxWebSocket(url: string, userId: string, token: TokenSource, options: UseQuantEnergxOptions = {}): UseQuantEnergxWebSocketReturn {
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const [client, setClient] = useState<QuantEnergxClient | null>(null);
  // the latest token and options, read when needed: no stale closure, no reconnect on a new token
  const tokenRef = useRef(token);
  const optionsRef = useRef(options);
  useEffect(() => {
    optionsRef.current = options;
  });
  const commodities = (options.commodities ?? DEFAULT_COMMODITIES).join(',');
  const privateStreams = options.privateStreams ?? true;
  const marketStatus = options.marketStatus ?? true;

  useEffect(() => {
    dispatch({ type: 'reset' });
    const fail = (err: unknown) => {
      const e = toQuantEnergxError(err);
      dispatch({ type: 'error', error: { code: e.code, message: e.message }, fatal: isFatalAuthError(e.code) || e.code === 'CONNECT_FAILED' || e.code === 'INVALID_OPTIONS' });
    };
    let qx: QuantEnergxClient;
    try {
      qx = new QuantEnergxClient({
        ...optionsRef.current.client,
        url,
        userId,
        getToken: () => {
          const t = tokenRef.current;
          return typeof t === 'function' ? t() : t;
        },
      });
    } catch (err) {
      fail(err); // a url the client cannot use: say so, do not throw from an effect
      return;
    }
    const offs = [
      qx.on('connect', ({ recovered }) => dispatch({ type: 'connected', recovered })),
      qx.on('authenticated', () => dispatch({ type: 'authenticated' })),
      qx.on('disconnect', ({ notice, willReconnect }) => dispatch({ type: 'disconnected', notice, willReconnect })),
      // a refused token is retried with a fresh one and an expired one refreshed: only giving up is final
      qx.on('failed', fail),
      qx.on('auth-error', (err) => {
        if (!isFatalAuthError(err.code) && err.code !== 'TOKEN_EXPIRED') fail(err);
      }),
      qx.on(DataEvent.MarketUpdate, (e) => dispatch({ type: 'market', payload: e.payload })),
      qx.on('market-status', (payload) => dispatch({ type: 'status', payload })),
      qx.on(DataEvent.OrderUpdate, (e) => dispatch({ type: 'order', payload: e.payload })),
      qx.on(DataEvent.TradeUpdate, (e) => dispatch({ type: 'trade', payload: e.payload })),
      qx.on(DataEvent.SystemAlert, (e) => dispatch({ type: 'alert', payload: e.payload })),
      qx.on(DataEvent.ComplianceAlert, (e) => dispatch({ type: 'alert', payload: e.payload })),
    ];
    setClient(qx);
    const list = commodities ? commodities.split(',') : [];
    // a screen keeps trying while it is mounted: no time limit on connecting unless the app sets one
    qx.connect({ timeoutMs: optionsRef.current.client?.connectTimeoutMs ?? Infinity })
      .then(() =>
        Promise.all([
          list.length ? qx.subscribeMarket(list) : null,
          list.length && marketStatus ? qx.subscribeStatus(list) : null,
          privateStreams ? qx.joinTrading() : null,
          privateStreams ? qx.subscribeOrders() : null,
          privateStreams ? qx.subscribeCompliance() : null,
        ]),
      )
      .catch((err: unknown) => {
        if (toQuantEnergxError(err).code !== 'CLIENT_CLOSED') fail(err);
      });
    return () => {
      for (const off of offs) off();
      qx.close();
      setClient(null);
    };
  }, [url, userId, commodities, privateStreams, marketStatus]);

  // a new token string (e.g. from the app's session) replaces the old one on the open connection;
  // a function is a provider, read when a token is needed: a new one (an inline arrow each render) changes nothing
  useEffect(() => {
    const previous = tokenRef.current;
    tokenRef.current = token;
    if (previous === token || typeof token === 'function') return;
    if (client?.authenticated) void client.refreshToken();
  }, [token, client]);

  const statuses = state.marketStatus;
  const accepts = useCallback((commodity: string) => acceptsOrders(statuses[commodity]), [statuses]);
  return { ...state, socket: client?.socket ?? null, client, dispatch, acceptsOrders: accepts };
}

/**
 * Runs `start` once the client is authenticated (at once when it is): a subscription made then is
 * remembered by the client and made again on every new session, and does not run into the
 * request time limit while the client is still connecting. Returns a function that cancels it.
 */
function whenAuthenticated(client: QuantEnergxClient, start: () => unknown): () => void {
  if (client.authenticated) {
    start();
    return () => undefined;
  }
  return client.once('authenticated', () => void start());
}

/**
 * The streamed book (`subscribe-book`) of `commodity` on `client`: null until its snapshot, then
 * every checked update. Unsubscribes when the commodity changes or on unmount.
 */
export function useBook(client: QuantEnergxClient | null, commodity: string | null, depth = 10): { book: BookView | null; error: string | null } {
  const [book, setBook] = useState<BookView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setBook(null);
    setError(null);
    if (!client || !commodity) return;
    let live = true;
    const off = client.on('book', (view) => {
      if (view.commodity === commodity) setBook(view);
    });
    const offAuth = whenAuthenticated(client, () =>
      client.subscribeBook(commodity, { depth }).catch((err: unknown) => {
        const e = toQuantEnergxError(err);
        if (live && e.code !== 'CLIENT_CLOSED') setError(`${e.code}: ${e.message}`);
      }),
    );
    return () => {
      live = false;
      off();
      offAuth();
      if (client.connected) client.unsubscribeBook(commodity).catch(() => undefined);
    };
  }, [client, commodity, depth]);
  return { book, error };
}

/** The public tape (`subscribe-trades`) of `commodity` on `client`, newest first, at most `limit`. */
export function useMarketTrades(client: QuantEnergxClient | null, commodity: string | null, limit = 200, onTrade?: (trade: MarketTrade) => void): MarketTrade[] {
  const [tape, setTape] = useState<MarketTrade[]>([]);
  const onTradeRef = useRef(onTrade);
  useEffect(() => {
    onTradeRef.current = onTrade;
  });
  useEffect(() => {
    setTape([]);
    if (!client || !commodity) return;
    const off = client.on('market-trade', (trade) => {
      if (trade.commodity !== commodity) return;
      setTape((t) => addToTape(t, trade, limit));
      onTradeRef.current?.(trade);
    });
    const offAuth = whenAuthenticated(client, () => client.subscribeTrades(commodity).catch(() => undefined));
    return () => {
      off();
      offAuth();
      if (client.connected) client.unsubscribeTrades(commodity).catch(() => undefined);
    };
  }, [client, commodity, limit]);
  return tape;
}
