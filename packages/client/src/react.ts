/**
 * `useQuantEnergxWebSocket(url, userId, token)`: the seed's React hook, built on the SDK. It
 * connects once per url and user (a new token is used without reconnecting), subscribes to market
 * data, trades, orders and compliance alerts, keeps the state in a reducer, and closes the client
 * on unmount.
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import { DataEvent } from '@qx/protocol';
import { QuantEnergxClient, type QuantEnergxSocket } from './client.js';
import { initialLiveState, liveReducer, type LiveState } from './live-state.js';
import type { QuantEnergxClientOptions } from './types.js';

export { liveReducer, initialLiveState, upsertOrder, LIVE_LIMITS, type LiveState, type LiveAction, type LiveAlert } from './live-state.js';

export type TokenSource = string | (() => string | Promise<string>);

export interface UseQuantEnergxOptions {
  /** market data to follow (default: the seed's crude_oil and natural_gas) */
  commodities?: readonly string[];
  /** follow this user's trades, orders and compliance alerts (default true) */
  privateStreams?: boolean;
  /** anything else for the client (timeouts, reconnection, authMode) */
  client?: Omit<QuantEnergxClientOptions, 'url' | 'userId' | 'token' | 'getToken'>;
}

export interface UseQuantEnergxWebSocketReturn extends LiveState {
  /** the socket.io-client socket, as in the seed */
  socket: QuantEnergxSocket | null;
  client: QuantEnergxClient | null;
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

  useEffect(() => {
    const qx = new QuantEnergxClient({
      ...optionsRef.current.client,
      url,
      userId,
      getToken: () => {
        const t = tokenRef.current;
        return typeof t === 'function' ? t() : t;
      },
    });
    dispatch({ type: 'reset' });
    const fail = (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      dispatch({ type: 'error', error: { code: typeof e.code === 'string' ? e.code : 'ERROR', message: String(e.message ?? err) } });
    };
    const offs = [
      qx.on('connect', () => dispatch({ type: 'connected' })),
      qx.on('authenticated', () => dispatch({ type: 'authenticated' })),
      qx.on('disconnect', ({ notice }) => dispatch({ type: 'disconnected', notice })),
      qx.on('auth-error', (err) => {
        if (err.code !== 'TOKEN_EXPIRED') fail(err);
      }),
      qx.on(DataEvent.MarketUpdate, (e) => dispatch({ type: 'market', payload: e.payload })),
      qx.on(DataEvent.OrderUpdate, (e) => dispatch({ type: 'order', payload: e.payload })),
      qx.on(DataEvent.TradeUpdate, (e) => dispatch({ type: 'trade', payload: e.payload })),
      qx.on(DataEvent.SystemAlert, (e) => dispatch({ type: 'alert', payload: e.payload })),
      qx.on(DataEvent.ComplianceAlert, (e) => dispatch({ type: 'alert', payload: e.payload })),
    ];
    setClient(qx);
    const list = commodities ? commodities.split(',') : [];
    qx.connect()
      .then(() =>
        Promise.all([
          list.length ? qx.subscribeMarket(list) : null,
          privateStreams ? qx.joinTrading() : null,
          privateStreams ? qx.subscribeOrders() : null,
          privateStreams ? qx.subscribeCompliance() : null,
        ]),
      )
      .catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 'CLIENT_CLOSED') fail(err);
      });
    return () => {
      for (const off of offs) off();
      qx.close();
      setClient(null);
    };
  }, [url, userId, commodities, privateStreams]);

  // a new token (e.g. from the app's session) replaces the old one on the open connection
  useEffect(() => {
    if (tokenRef.current === token) return;
    tokenRef.current = token;
    if (client?.authenticated) void client.refreshToken();
  }, [token, client]);

  return { ...state, socket: client?.socket ?? null, client };
}
