/** Depth ladder of the selected commodity: asks above, bids below, cumulative size bars. */
import { depth, type DepthRow } from '../model/book.js';
import { formatPrice, formatQuantity } from '../model/format.js';
import type { Book, Commodity } from '../model/types.js';
import { Panel } from './Panel.js';

function Level(props: { row: DepthRow; side: 'bid' | 'ask'; tick: number; onPick: (price: number) => void }) {
  const { row, side } = props;
  return (
    <tr className={`level level-${side}`} onClick={() => props.onPick(row.price)} title="Use this price in the ticket">
      <td className="num muted col-opt">{row.orders}</td>
      <td className="num">{formatQuantity(row.quantity)}</td>
      <td className={`num price-${side}`}>
        <span className="level-price">{formatPrice(row.price, props.tick)}</span>
      </td>
      <td className="num muted depth">
        {/* cumulative depth as a bar behind the running total */}
        <span className="bar" style={{ width: `${(row.share * 100).toFixed(1)}%` }} />
        <span className="depth-total">{formatQuantity(row.cumulative)}</span>
      </td>
    </tr>
  );
}

export function OrderBook(props: { commodity: Commodity | null; book: Book | null; error: string | null; onPickPrice: (price: number) => void }) {
  const tick = props.commodity?.tickSize ?? 0.01;
  const d = depth(props.book?.commodity === props.commodity?.symbol ? props.book : null, tick);
  return (
    <Panel title="Order book" area="book" extra={<span className="muted">{props.commodity?.name ?? '—'}</span>}>
      {props.error && <div className="error-line">{props.error}</div>}
      <table className="grid book-table">
        <thead>
          <tr>
            <th className="num col-opt">Orders</th>
            <th className="num">Size</th>
            <th className="num">Price</th>
            <th className="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {d.asks.map((r) => (
            <Level key={`a${r.price}`} row={r} side="ask" tick={tick} onPick={props.onPickPrice} />
          ))}
          <tr className="spread-row">
            <td colSpan={4}>
              {d.spread === null ? (
                'No two-sided market'
              ) : (
                <>
                  Spread <b>{formatPrice(d.spread, tick)}</b> · Mid <b>{formatPrice(d.mid, tick / 2)}</b>
                </>
              )}
            </td>
          </tr>
          {d.bids.map((r) => (
            <Level key={`b${r.price}`} row={r} side="bid" tick={tick} onPick={props.onPickPrice} />
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
