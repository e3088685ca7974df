/** The signed-in screen: market watch, chart, streamed book and tape, ticket, orders, trades, positions, alerts. */
import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { useBook, useMarketTrades } from '@qx/client/react';
import { clientOrderActions } from '../api/order-actions.js';
import { useCancelOnDisconnect } from '../hooks/useCancelOnDisconnect.js';
import { useCommodities } from '../hooks/useCommodities.js';
import { useTerminal } from '../hooks/useTerminal.js';
import { myLevels } from '../model/book.js';
import { isLive } from '../model/connection.js';
import { formatLots, formatPrice } from '../model/format.js';
import { explainError } from '../model/messages.js';
import type { Session } from '../model/session.js';
import type { Commodity, Order, Position } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { AlertsFeed } from './AlertsFeed.js';
import { Header } from './Header.js';
import { MarketWatch } from './MarketWatch.js';
import { OrderBook } from './OrderBook.js';
import { OrdersTable } from './OrdersTable.js';
import { OrderTicket } from './OrderTicket.js';
import { Panel } from './Panel.js';
import { PositionsTable } from './PositionsTable.js';
import { TimeAndSales } from './TimeAndSales.js';
import { TradesTable } from './TradesTable.js';

/** levels per side of the streamed book */
const BOOK_DEPTH = 12;

// the chart library is the largest part of the screen: it loads after the first paint
const PriceChart = lazy(() => import('./PriceChart.js').then((m) => ({ default: m.PriceChart })));

/**
 * True once the screen has been painted (the task after the next animation frame): the chart's
 * chunk is asked for then, never ahead of the first paint, however fast the catalogue came.
 */
function usePainted(): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setPainted(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);
  return painted;
}

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

/** What a flatten did, in words: "Flattened WTI Crude Oil: sold 2 lots at avg 75.10". */
function flattenSummary(orders: readonly Order[], c: Commodity): string {
  const filled = orders.reduce((n, o) => n + o.filledQuantity, 0);
  const notional = orders.reduce((n, o) => n + o.filledQuantity * (o.averagePrice ?? 0), 0);
  const side = orders[0]?.side === 'buy' ? 'bought' : 'sold';
  const avg = filled > 0 ? ` at avg ${formatPrice(notional / filled, c.tickSize)}` : '';
  return `Flatten ${c.name}: ${side} ${formatLots(filled, c.contractSize)} lots${avg}${orders.length > 1 ? ` in ${orders.length} orders` : ''}`;
}

function Terminal(props: ScreenProps & { commodities: readonly Commodity[] }) {
  const { session, commodities } = props;
  const t = useTerminal(session, commodities, props.renew, props.authed, props.onSignOut);
  const [chosen, setChosen] = useState<string | null>(null);
  const [picked, setPicked] = useState<{ price: number; nonce: number } | null>(null);
  const selected = chosen ?? commodities[0]?.symbol ?? null;
  const { book, error: bookError } = useBook(t.client, selected, BOOK_DEPTH);
  const tape = useMarketTrades(t.client, selected, 100);
  const actions = useMemo(() => clientOrderActions(t.client, props.authed), [t.client, props.authed]);

  const bySymbol = useMemo(() => new Map(commodities.map((c) => [c.symbol, c])), [commodities]);
  const tickOf = useCallback((symbol: string | undefined) => (symbol ? bySymbol.get(symbol) : undefined), [bySymbol]);
  const { notify, dispatch, refreshPositions, acknowledgeAction } = t;
  const notifyOrder = useCallback((message: string) => notify('order', message), [notify]);
  const select = useCallback((symbol: string) => setChosen(symbol), []);
  const selectedCommodity = tickOf(selected ?? undefined) ?? null;
  const mine = useMemo(() => (selectedCommodity ? myLevels(t.orders, selectedCommodity.symbol, selectedCommodity.tickSize) : new Map<string, number>()), [t.orders, selectedCommodity]);
  const merged = useCallback(
    (orders: readonly Order[]) => {
      dispatch({ type: 'orders', orders });
      refreshPositions();
    },
    [dispatch, refreshPositions],
  );
  const flatten = useCallback(
    async (p: Position, c: Commodity) => {
      try {
        const orders = await actions.flatten(p.commodity, c.maxOrderSize, (o) => merged([o]));
        acknowledgeAction(flattenSummary(orders, c), orders.every((o) => o.status === 'filled') ? 'ok' : 'warn');
      } catch (err) {
        const why = `Flatten ${c.name} refused: ${explainError(err, c)}`;
        notifyOrder(why);
        acknowledgeAction(why, 'warn');
      } finally {
        refreshPositions();
      }
    },
    [actions, merged, acknowledgeAction, notifyOrder, refreshPositions],
  );

  const live = isLive(t.connection);
  const painted = usePainted();
  const chartLoading = (
    <Panel title="Chart" area="chart">
      <div className="muted chart-loading">Loading the chart…</div>
    </Panel>
  );
  const cod = useCancelOnDisconnect(t.client, session.userId, live, (message) => notify('cancel-on-disconnect', message));
  return (
    <div className={`app ${live ? '' : 'is-stale'}`} data-live={live}>
      <Header session={session} connection={t.connection} downSince={t.downSince} cod={cod} notifications={t.notifications} onDismiss={t.dismissNotification} onSignOut={props.onSignOut} />
      <main className="screen">
        <MarketWatch commodities={commodities} market={t.market} statuses={t.marketStatus} selected={selected} onSelect={select} live={live} />
        {painted ? (
          <Suspense fallback={chartLoading}>
            <PriceChart authed={props.authed} client={t.client} commodity={selectedCommodity} fills={t.trades} live={live} staleSince={t.downSince} reconnects={t.connection.reconnects} />
          </Suspense>
        ) : (
          chartLoading
        )}
        <OrderBook commodity={selectedCommodity} book={book} error={bookError} live={live} mine={mine} onPickPrice={(price) => setPicked({ price, nonce: Date.now() })} />
        <TimeAndSales commodity={selectedCommodity} tape={tape} live={live} />
        <OrderTicket
          actions={actions}
          commodities={commodities}
          commodity={selected}
          quote={selected ? t.market[selected] : undefined}
          status={selected ? t.marketStatus[selected] : undefined}
          cancelOnDisconnect={cod.state === 'on'}
          connection={t.connection}
          position={t.positions.find((p) => p.commodity === selected)}
          orders={t.orders}
          picked={picked}
          onCommodity={select}
          onPlaced={(order) => merged([order])}
        />
        <div className="blotters">
          <OrdersTable actions={actions} orders={t.orders} tickOf={tickOf} commodity={selectedCommodity} onError={notifyOrder} onDone={acknowledgeAction} onChanged={merged} />
          <PositionsTable positions={t.positions} market={t.market} tickOf={tickOf} live={live} staleSince={t.downSince} onFlatten={flatten} />
          <TradesTable trades={t.trades} tickOf={tickOf} />
        </div>
        <AlertsFeed alerts={t.alerts} acknowledged={t.acknowledged} onAcknowledge={t.acknowledge} commodityOf={tickOf} />
      </main>
    </div>
  );
}
