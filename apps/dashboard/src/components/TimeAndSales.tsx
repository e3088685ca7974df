/** The public tape of the selected commodity (`subscribe-trades` via the SDK), newest first. */
import type { MarketTrade } from '@qx/protocol';
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import type { Commodity } from '../model/types.js';
import { Panel } from './Panel.js';

export function TimeAndSales(props: { commodity: Commodity | null; tape: readonly MarketTrade[]; live: boolean }) {
  const tick = props.commodity?.tickSize ?? 0.01;
  const lot = props.commodity?.contractSize ?? 1;
  return (
    <Panel title={props.commodity ? `Time & sales · ${props.commodity.name}` : 'Time & sales'} area="tape" extra={<span className="muted">{props.tape.length}</span>}>
      <table className={`grid tape-table ${props.live ? '' : 'stale'}`}>
        <thead>
          <tr>
            <th title="Times are UTC (date, milliseconds and your local time on hover)">Time (UTC)</th>
            <th className="num">Price</th>
            <th className="num">Lots</th>
            <th>Aggr.</th>
          </tr>
        </thead>
        <tbody>
          {props.tape.length === 0 && (
            <tr className="empty">
              <td colSpan={4}>No trades yet</td>
            </tr>
          )}
          {props.tape.map((t) => (
            <tr key={t.tradeId} data-trade-id={t.tradeId} className={`tape-${t.side}`}>
              <td className="muted" title={formatFullTime(t.time)}>
                {formatTime(t.time)}
              </td>
              <td className={`num ${t.side === 'buy' ? 'pos' : 'neg'}`}>{formatPrice(t.price, tick)}</td>
              <td className="num">{formatLots(t.quantity, lot)}</td>
              <td className={t.side === 'buy' ? 'pos' : 'neg'}>{t.side}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
