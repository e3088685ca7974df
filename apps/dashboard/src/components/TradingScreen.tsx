/** The signed-in screen: market watch, chart, streamed book and tape, ticket, orders, trades, positions, alerts. */

/** levels per side of the streamed book */
const BOOK_DEPTH = 12;
import { useCallback, useMemo, useState } from 'react';
import { useBook, useMarketTrades } from '@qx/client/react';
import { useCommodities } from '../hooks/useCommodities.js';
import { useTerminal } from '../hooks/useTerminal.js';
import { isLive } from '../model/connection.js';
import type { Session } from '../model/session.js';
import type { Commodity } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { AlertsFeed } from './AlertsFeed.js';
import { Header } from './Header.js';
import { MarketWatch } from './MarketWatch.js';
import { OrderBook } from './OrderBook.js';
import { OrdersTable } from './OrdersTable.js';
import { OrderTicket } from './OrderTicket.js';
import { FlattenButton } from './FlattenButton.js';
import { PositionsTable } from './PositionsTable.js';
import { PriceChart } from './PriceChart.js';
import { TimeAndSales } from './TimeAndSales.js';
import { TradesTable } from './TradesTable.js';

type ScreenProps = { session: Session; renew: () => Promise<Session | null>; authed: Authed; onSignOut: (reason?: string) => void };

export function TradingScreen(props: ScreenProps) {
  const { commodities, error } = useCommodities(props.authed);
  if (!commodities) {
    return (
      <div className="app is-stale" data-live={false}>
        <Header session={props.session} connection={{ status: 'connecting', detail: null, reconnects: 0 }} onSignOut={props.onSignOut} />
        {error && <div className="banner error">Cannot load the commodity catalogue: {error}</div>}
      </div>
    );
  }
  return <Terminal {...props} commodities={commodities} />;
}

function Terminal(props: ScreenProps & { commodities: readonly Commodity[] }) {
  const { session, commodities } = props;
  const t = useTerminal(session, commodities, props.renew, props.authed, props.onSignOut);
  const [chosen, setChosen] = useState<string | null>(null);
  const [picked, setPicked] = useState<{ price: number; nonce: number } | null>(null);
  const selected = chosen ?? commodities[0]?.symbol ?? null;
  const { book, error: bookError } = useBook(t.client, selected, BOOK_DEPTH);
  const tape = useMarketTrades(t.client, selected, 100);

  const bySymbol = useMemo(() => new Map(commodities.map((c) => [c.symbol, c])), [commodities]);
  const tickOf = useCallback((symbol: string | undefined) => (symbol ? bySymbol.get(symbol) : undefined), [bySymbol]);
  const { notify, dispatch, refreshPositions } = t;
  const notifyOrder = useCallback((message: string) => notify('order', message), [notify]);
  const select = useCallback((symbol: string) => setChosen(symbol), []);

  const live = isLive(t.connection);
  return (
    <div className={`app ${live ? '' : 'is-stale'}`} data-live={live}>
      <Header session={session} connection={t.connection} onSignOut={props.onSignOut} />
      <main className="screen">
        <MarketWatch commodities={commodities} market={t.market} selected={selected} onSelect={select} live={live} />
        <PriceChart authed={props.authed} client={t.client} commodity={tickOf(selected ?? undefined) ?? null} fills={t.trades} />
        <OrderBook commodity={tickOf(selected ?? undefined) ?? null} book={book} error={bookError} live={live} onPickPrice={(price) => setPicked({ price, nonce: Date.now() })} />
        <TimeAndSales commodity={tickOf(selected ?? undefined) ?? null} tape={tape} live={live} />
        <OrderTicket
          authed={props.authed}
          commodities={commodities}
          commodity={selected}
          quote={selected ? t.market[selected] : undefined}
          connection={t.connection}
          picked={picked}
          onCommodity={select}
          onPlaced={(order) => {
            dispatch({ type: 'order', payload: order });
            refreshPositions();
          }}
        />
        <OrdersTable
          authed={props.authed}
          client={t.client}
          orders={t.orders}
          tickOf={tickOf}
          commodity={tickOf(selected ?? undefined) ?? null}
          onError={notifyOrder}
          onChanged={(orders) => {
            dispatch({ type: 'orders', orders });
            refreshPositions();
          }}
        />
        <TradesTable trades={t.trades} tickOf={tickOf} />
        <PositionsTable
          positions={t.positions}
          market={t.market}
          tickOf={tickOf}
          action={(p) =>
            p.netQuantity !== 0 ? (
              <FlattenButton
                client={t.client}
                commodity={p.commodity}
                onDone={(order) => {
                  dispatch({ type: 'order', payload: order });
                  refreshPositions();
                }}
                onError={notifyOrder}
              />
            ) : null
          }
        />
        <AlertsFeed alerts={t.alerts} />
      </main>
    </div>
  );
}
