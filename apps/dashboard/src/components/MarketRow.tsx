/** One commodity's quote and, when it is not open, its status (halted, closed: why and until when on hover); the price flashes green or red on each move. */
import type { MarketStatusPayload } from '@qx/protocol';
import { statusNotice, statusTag } from '../model/market-status.js';
import { formatCompact, formatPrice, formatQuantity, formatSigned, signClass, decimalsOf, toLots } from '../model/format.js';
import type { Quote } from '../model/market.js';
import type { Commodity } from '../model/types.js';

export function MarketRow(props: { commodity: Commodity; quote: Quote | undefined; status: MarketStatusPayload | undefined; selected: boolean; onSelect: (symbol: string) => void }) {
  const { commodity: c, quote: q, status } = props;
  const notice = statusNotice(status, c.name);
  const tick = c.tickSize;
  const flash = q && q.moves > 0 ? `flash-${q.direction}` : '';
  return (
    <tr
      className={[props.selected ? 'selected' : '', notice ? 'not-open' : ''].join(' ').trim() || undefined}
      onClick={() => props.onSelect(c.symbol)}
      data-commodity={c.symbol}
      data-market-status={status?.status ?? 'open'}
      aria-selected={props.selected}
    >
      <td className="sym" title={`${c.name} (${c.symbol}) · ${c.currency}/${c.unit} · 1 lot = ${formatQuantity(c.contractSize)} ${c.unit}`}>
        <span className="sym-name">{c.name}</span> <span className="sym-code">{c.currency}/{c.unit}</span>
        {notice && status && (
          <span className={`mkt-status mkt-${status.status}`} data-testid="market-status" title={notice}>
            {statusTag(status.status)}
          </span>
        )}
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
