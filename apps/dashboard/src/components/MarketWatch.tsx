/** Every commodity's live quote; clicking a row selects it for the book and the ticket. */
import type { MarketState } from '../model/market.js';
import type { Commodity } from '../model/types.js';
import { MarketRow } from './MarketRow.js';
import { Panel } from './Panel.js';

export function MarketWatch(props: { commodities: readonly Commodity[]; market: MarketState; selected: string | null; onSelect: (symbol: string) => void }) {
  return (
    <Panel title="Market watch" area="market" extra={<span className="muted">{props.commodities.length} markets</span>}>
      <table className="grid market-table">
        <thead>
          <tr>
            <th>Commodity</th>
            <th>Unit</th>
            <th className="num">Last</th>
            <th className="num">Chg</th>
            <th className="num">Chg %</th>
            <th className="num">Bid</th>
            <th className="num">Ask</th>
            <th className="num">Volume</th>
          </tr>
        </thead>
        <tbody>
          {props.commodities.map((c) => (
            <MarketRow key={c.symbol} commodity={c} quote={props.market[c.symbol]} selected={props.selected === c.symbol} onSelect={props.onSelect} />
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
