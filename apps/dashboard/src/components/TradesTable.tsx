/** My fills, live from trade-update; any column sorts. */
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import type { Commodity, Trade } from '../model/types.js';
import { Panel } from './Panel.js';
import { SortHeader, useSort } from './SortHeader.js';

type Key = 'time' | 'commodity' | 'side' | 'lots' | 'price';

export function TradesTable(props: { trades: readonly Trade[]; tickOf: (symbol: string | undefined) => Commodity | undefined }) {
  const lotsOf = (t: Trade) => t.quantity / (props.tickOf(t.commodity)?.contractSize ?? 1);
  const { sorted, sort, toggle } = useSort<Trade, Key>(props.trades, (t, key) =>
    key === 'time' ? Date.parse(t.executionTime) : key === 'commodity' ? t.commodity : key === 'side' ? t.side : key === 'lots' ? lotsOf(t) : t.price,
  );
  return (
    <Panel title="My trades" area="trades" extra={<span className="muted">{props.trades.length}</span>}>
      <table className="grid trades-table">
        <thead>
          <tr>
            <SortHeader label="Time (UTC)" sortKey="time" sort={sort} onSort={toggle} title="Times are UTC (date, milliseconds and your local time on hover)" />
            <th className="col-opt">Trade</th>
            <th className="col-opt">Order</th>
            <SortHeader label="Commodity" sortKey="commodity" sort={sort} onSort={toggle} className="col-narrow" />
            <SortHeader label="Side" sortKey="side" sort={sort} onSort={toggle} />
            <SortHeader label="Lots" sortKey="lots" sort={sort} onSort={toggle} className="num" />
            <SortHeader label="Price" sortKey="price" sort={sort} onSort={toggle} className="num" />
            <th className="col-opt">Liq.</th>
          </tr>
        </thead>
        <tbody>
          {props.trades.length === 0 && (
            <tr className="empty">
              <td colSpan={8}>No trades yet</td>
            </tr>
          )}
          {sorted.map((t) => {
            const c = props.tickOf(t.commodity);
            return (
              <tr key={t.id} data-trade-id={t.id} data-order-id={t.orderId}>
                <td className="muted" title={formatFullTime(t.executionTime)}>
                  {formatTime(t.executionTime)}
                </td>
                <td className="mono muted col-opt">{t.id}</td>
                <td className="mono muted col-opt">{t.orderId}</td>
                <td className="col-narrow">{t.commodity}</td>
                <td className={t.side === 'buy' ? 'pos' : 'neg'} title={t.commodity}>
                  {t.side}
                </td>
                <td className="num" title={`${t.quantity.toLocaleString('en-US')} ${c?.unit ?? ''}`}>
                  {formatLots(t.quantity, c?.contractSize ?? 1)}
                </td>
                <td className="num">{formatPrice(t.price, c?.tickSize ?? 0.0001)}</td>
                <td className="muted col-opt">{t.liquidity ?? '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
