/** My fills, live from trade-update. */
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import type { Commodity, Trade } from '../model/types.js';
import { Panel } from './Panel.js';

export function TradesTable(props: { trades: readonly Trade[]; tickOf: (symbol: string | undefined) => Commodity | undefined }) {
  return (
    <Panel title="My trades" area="trades" extra={<span className="muted">{props.trades.length}</span>}>
      <table className="grid trades-table">
        <thead>
          <tr>
            <th>Time</th>
            <th className="col-opt">Trade</th>
            <th className="col-opt">Order</th>
            <th className="col-narrow">Commodity</th>
            <th>Side</th>
            <th className="num">Lots</th>
            <th className="num">Price</th>
            <th className="col-opt">Liq.</th>
          </tr>
        </thead>
        <tbody>
          {props.trades.length === 0 && (
            <tr className="empty">
              <td colSpan={8}>No trades yet</td>
            </tr>
          )}
          {props.trades.map((t) => (
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
              <td className="num" title={`${t.quantity.toLocaleString('en-US')} ${props.tickOf(t.commodity)?.unit ?? ''}`}>
                {formatLots(t.quantity, props.tickOf(t.commodity)?.contractSize ?? 1)}
              </td>
              <td className="num">{formatPrice(t.price, props.tickOf(t.commodity)?.tickSize ?? 0.0001)}</td>
              <td className="muted col-opt">{t.liquidity ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
