/** Every commodity's live quote and market status; clicking a row selects it for the book and the ticket. */
import type { MarketStatusPayload } from '@qx/protocol';
import type { MarketState } from '../model/market.js';
import type { Commodity } from '../model/types.js';
import { MarketRow } from './MarketRow.js';
import { Panel } from './Panel.js';

export function MarketWatch(props: {
  commodities: readonly Commodity[];
  market: MarketState;
  statuses: Readonly<Record<string, MarketStatusPayload>>;
  selected: string | null;
  onSelect: (symbol: string) => void;
  live: boolean;
}) {
  return (
    <Panel title="Market watch" area="market" extra={props.live ? <span className="muted">{props.commodities.length} markets</span> : <span className="stale-tag">stale: not connected</span>}>
      <table className={`grid market-table ${props.live ? '' : 'stale'}`} data-stale={!props.live}>
        <thead>
          <tr>
            <th>Commodity</th>
            <th className="num">Last</th>
            <th className="num col-opt">Chg</th>
            <th className="num">Chg %</th>
            <th className="num">Bid</th>
            <th className="num">Ask</th>
            <th className="num col-opt" title="Traded this session, in lots">Volume (lots)</th>
          </tr>
        </thead>
        <tbody>
          {props.commodities.map((c) => (
            <MarketRow key={c.symbol} commodity={c} quote={props.market[c.symbol]} status={props.statuses[c.symbol]} selected={props.selected === c.symbol} onSelect={props.onSelect} />
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
