/** Positions from the server in lots, marked to the live price; exposure against each limit; total P&L. */
import type { ReactNode } from 'react';
import { formatLots, formatPrice, formatQuantity, formatSigned, signClass } from '../model/format.js';
import type { MarketState } from '../model/market.js';
import { exposureOf, markToMarket, totalPnl } from '../model/positions.js';
import type { Commodity, Position } from '../model/types.js';
import { Panel } from './Panel.js';

export function PositionsTable(props: {
  positions: readonly Position[];
  market: MarketState;
  tickOf: (symbol: string | undefined) => Commodity | undefined;
  /** an action per row (flatten), when the screen offers one */
  action?: (p: Position) => ReactNode;
}) {
  const rows = markToMarket(props.positions, props.market);
  const totals = totalPnl(rows, (c) => props.tickOf(c)?.currency);
  return (
    <Panel
      title="Positions"
      area="positions"
      extra={
        <span className="total-pnl" data-testid="total-pnl">
          Total P&amp;L{' '}
          {totals.length === 0
            ? '—'
            : totals.map((t) => (
                <b key={t.currency} className={signClass(t.pnl)} data-currency={t.currency} title={t.complete ? undefined : 'a position has no last price yet'}>
                  {t.currency} {formatSigned(t.pnl, 2)}
                  {t.complete ? '' : '*'}{' '}
                </b>
              ))}
        </span>
      }
    >
      <table className="grid positions-table">
        <thead>
          <tr>
            <th>Commodity</th>
            <th className="num">Net (lots)</th>
            <th className="num col-opt">Avg</th>
            <th className="num col-tight">Last</th>
            <th className="num">Unreal. P&amp;L</th>
            <th className="num col-opt">Real. P&amp;L</th>
            <th className="num">Exposure</th>
            <th className="num col-opt">Open B/S</th>
            {props.action && <th />}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr className="empty">
              <td colSpan={9}>Flat</td>
            </tr>
          )}
          {rows.map((p) => {
            const c = props.tickOf(p.commodity);
            const tick = c?.tickSize ?? 0.0001;
            const lot = c?.contractSize ?? 1;
            const exposure = exposureOf(p, c?.positionLimit);
            return (
              <tr key={p.commodity} data-commodity={p.commodity}>
                <td>{p.commodity}</td>
                <td className={`num ${signClass(p.netQuantity)}`} data-testid="net-quantity" title={`${formatQuantity(p.netQuantity)} ${c?.unit ?? ''}`}>
                  {(p.netQuantity > 0 ? '+' : p.netQuantity < 0 ? '−' : '') + formatLots(Math.abs(p.netQuantity), lot)}
                </td>
                <td className="num col-opt">{p.netQuantity ? formatPrice(p.averagePrice, tick / 100) : '—'}</td>
                <td className="num col-tight">{formatPrice(p.lastPrice, tick)}</td>
                <td className={`num ${signClass(p.unrealizedPnl)}`}>{formatSigned(p.unrealizedPnl, 2)}</td>
                <td className={`num col-opt ${signClass(p.realizedPnl)}`}>{formatSigned(p.realizedPnl, 2)}</td>
                <td
                  className={`num exposure ${exposure && exposure.used >= 0.8 ? 'exposure-high' : ''}`}
                  data-testid="exposure"
                  data-used={exposure?.used}
                  title={exposure ? `${formatQuantity(exposure.units)} of ${formatQuantity(exposure.limit)} ${c?.unit ?? ''} position limit` : undefined}
                >
                  {exposure ? `${(exposure.used * 100).toFixed(exposure.used < 0.01 && exposure.used > 0 ? 2 : 1)}%` : '—'}
                  {exposure && <span className="exposure-bar" style={{ width: `${Math.min(100, exposure.used * 100).toFixed(1)}%` }} />}
                </td>
                <td className="num muted col-opt" data-testid="open-quantity">
                  {formatLots(p.openBuyQuantity, lot)}/{formatLots(p.openSellQuantity, lot)}
                </td>
                {props.action && <td>{props.action(p)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
