/** One commodity's quote; the price flashes green or red on each move. */
import { formatCompact, formatPrice, formatQuantity, formatSigned, signClass, decimalsOf, toLots } from '../model/format.js';
import type { Quote } from '../model/market.js';
import type { Commodity } from '../model/types.js';

export function MarketRow(props: { commodity: Commodity; quote: Quote | undefined; selected: boolean; onSelect: (symbol: string) => void }) {
  const { commodity: c, quote: q } = props;
  const tick = c.tickSize;
  const flash = q && q.moves > 0 ? `flash-${q.direction}` : '';
  return (
    <tr
      className={props.selected ? 'selected' : undefined}
      onClick={() => props.onSelect(c.symbol)}
      data-commodity={c.symbol}
      aria-selected={props.selected}
    >
      <td className="sym" title={`${c.name} (${c.symbol}) · ${c.currency}/${c.unit} · 1 lot = ${formatQuantity(c.contractSize)} ${c.unit}`}>
        <span className="sym-name">{c.name}</span> <span className="sym-code">{c.currency}/{c.unit}</span>
      </td>
      <td className="num last">
        {/* the key restarts the flash animation on every move */}
        <span key={q?.moves ?? 0} className={`price ${flash}`} data-testid="last-price">
          {formatPrice(q?.price, tick)}
        </span>
      </td>
      <td className={`num col-opt ${signClass(q?.change)}`}>{formatSigned(q?.change, decimalsOf(tick))}</td>
      <td className={`num ${signClass(q?.changePercent)}`}>{formatSigned(q?.changePercent, 2, '%')}</td>
      <td className="num bid">{formatPrice(q?.bid, tick)}</td>
      <td className="num ask">{formatPrice(q?.ask, tick)}</td>
      {/* in lots, as every size on the screen; the units on hover */}
      <td className="num muted col-opt" data-testid="volume" title={q ? `${formatQuantity(q.volume)} ${c.unit}` : undefined}>
        {formatCompact(q ? toLots(q.volume, c.contractSize) : undefined)}
      </td>
    </tr>
  );
}
