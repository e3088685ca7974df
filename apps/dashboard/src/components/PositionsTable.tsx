/** Positions from the server, marked to the live price. */
import { formatPrice, formatQuantity, formatSigned, signClass } from '../model/format.js';
import type { MarketState } from '../model/market.js';
import { markToMarket } from '../model/positions.js';
import type { Commodity, Position } from '../model/types.js';
import { Panel } from './Panel.js';

export function PositionsTable(props: { positions: readonly Position[]; market: MarketState; tickOf: (symbol: string | undefined) => Commodity | undefined }) {
  const rows = markToMarket(props.positions, props.market);
  return (
    <Panel title="Positions" area="positions">
      <table className="grid positions-table">
        <thead>
          <tr>
            <th>Commodity</th>
            <th className="num">Net</th>
            <th className="num col-opt">Avg</th>
            <th className="num">Last</th>
            <th className="num">Unreal. P&amp;L</th>
            <th className="num col-opt">Real. P&amp;L</th>
            <th className="num">Open B/S</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr className="empty">
              <td colSpan={7}>Flat</td>
            </tr>
          )}
          {rows.map((p) => {
            const c = props.tickOf(p.commodity);
            const tick = c?.tickSize ?? 0.0001;
            return (
              <tr key={p.commodity} data-commodity={p.commodity}>
                <td>{p.commodity}</td>
                <td className={`num ${signClass(p.netQuantity)}`} data-testid="net-quantity">
                  {formatSigned(p.netQuantity, 0)}
                </td>
                <td className="num col-opt">{p.netQuantity ? formatPrice(p.averagePrice, tick / 100) : '—'}</td>
                <td className="num">{formatPrice(p.lastPrice, tick)}</td>
                <td className={`num ${signClass(p.unrealizedPnl)}`}>{formatSigned(p.unrealizedPnl, 2)}</td>
                <td className={`num col-opt ${signClass(p.realizedPnl)}`}>{formatSigned(p.realizedPnl, 2)}</td>
                <td className="num muted" data-testid="open-quantity">
                  {formatQuantity(p.openBuyQuantity)}/{formatQuantity(p.openSellQuantity)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
