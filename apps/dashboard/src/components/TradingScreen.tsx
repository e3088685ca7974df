/** The signed-in screen: market watch, book, ticket, orders, trades, positions, alerts. */
import { useCallback, useMemo, useState } from 'react';
import { useBook } from '../hooks/useBook.js';
import { useCommodities } from '../hooks/useCommodities.js';
import { useLiveFeed } from '../hooks/useLiveFeed.js';
import { screenNotice } from '../model/alerts.js';
import { isLive } from '../model/live-state.js';
import type { Session } from '../model/session.js';
import type { Authed } from '../hooks/useSession.js';
import { AlertsFeed } from './AlertsFeed.js';
import { Header } from './Header.js';
import { MarketWatch } from './MarketWatch.js';
import { OrderBook } from './OrderBook.js';
import { OrdersTable } from './OrdersTable.js';
import { OrderTicket } from './OrderTicket.js';
import { PositionsTable } from './PositionsTable.js';
import { TradesTable } from './TradesTable.js';

export function TradingScreen(props: { session: Session; renew: () => Promise<Session | null>; authed: Authed; onSignOut: (reason?: string) => void }) {
  const { session } = props;
  const { commodities, error } = useCommodities(props.authed);
  const { state, feed, dispatch, refreshPositions } = useLiveFeed(session, commodities, props.renew, props.authed, props.onSignOut);
  const [chosen, setChosen] = useState<string | null>(null);
  const [picked, setPicked] = useState<{ price: number; nonce: number } | null>(null);
  const selected = chosen ?? commodities?.[0]?.symbol ?? null;
  const { book, error: bookError } = useBook(feed, props.authed, selected);

  const bySymbol = useMemo(() => new Map((commodities ?? []).map((c) => [c.symbol, c])), [commodities]);
  const tickOf = useCallback((symbol: string | undefined) => (symbol ? bySymbol.get(symbol) : undefined), [bySymbol]);
  const notify = useCallback((message: string) => dispatch({ type: 'alert', alert: screenNotice('order', 'warning', message, new Date()) }), [dispatch]);
  const select = useCallback((symbol: string) => setChosen(symbol), []);

  const live = isLive(state.connection);
  return (
    <div className={`app ${live ? '' : 'is-stale'}`} data-live={live}>
      <Header session={session} connection={state.connection} onSignOut={props.onSignOut} />
      {error && <div className="banner error">Cannot load the commodity catalogue: {error}</div>}
      <main className="screen">
        <MarketWatch commodities={commodities ?? []} market={state.market} selected={selected} onSelect={select} live={live} />
        <OrderBook commodity={tickOf(selected ?? undefined) ?? null} book={book} error={bookError} onPickPrice={(price) => setPicked({ price, nonce: Date.now() })} />
        <OrderTicket
          authed={props.authed}
          commodities={commodities ?? []}
          commodity={selected}
          quote={selected ? state.market[selected] : undefined}
          connection={state.connection}
          picked={picked}
          onCommodity={select}
          onPlaced={(order) => {
            dispatch({ type: 'orders', orders: [order] });
            refreshPositions();
          }}
        />
        <OrdersTable authed={props.authed} orders={state.orders} tickOf={tickOf} onError={notify} onCancelled={refreshPositions} />
        <TradesTable trades={state.trades} tickOf={tickOf} />
        <PositionsTable positions={state.positions} market={state.market} tickOf={tickOf} />
        <AlertsFeed alerts={state.alerts} />
      </main>
    </div>
  );
}
