/**
 * Depth ladder of the selected commodity from the streamed book (`subscribe-book` via the SDK):
 * asks above, bids below, sizes in lots, the running total, and the cumulative depth as a bar in
 * a column of its own, so it never covers a number.
 */
import { depth, levelKey, type DepthRow } from '../model/book.js';
import { formatLots, formatPrice } from '../model/format.js';
import type { Book, Commodity } from '../model/types.js';
import { Panel } from './Panel.js';

function Level(props: { row: DepthRow; side: 'bid' | 'ask'; tick: number; lot: number; mine: number | undefined; onPick: (price: number) => void }) {
  const { row, side, lot, mine } = props;
  return (
    <tr
      className={`level level-${side}${mine ? ' mine' : ''}`}
      onClick={() => props.onPick(row.price)}
      title={mine ? `Your working orders: ${formatLots(mine, lot)} of the ${formatLots(row.quantity, lot)} lots here. Click to use this price in the ticket` : 'Use this price in the ticket'}
      data-price={row.price}
      data-mine={mine ? formatLots(mine, lot) : undefined}
    >
      <td className="num muted col-opt">{row.orders}</td>
      {/* mine: a dot before the size (drawn by CSS, so the cell reads as a number) */}
      <td className="num level-size" aria-label={mine ? `${formatLots(row.quantity, lot)}, ${formatLots(mine, lot)} yours` : undefined}>
        {formatLots(row.quantity, lot)}
      </td>
      <td className={`num price-${side}`}>
        <span className="level-price">{formatPrice(row.price, props.tick)}</span>
      </td>
      <td className="num muted">{formatLots(row.cumulative, lot)}</td>
      <td className="depth-cell" aria-hidden="true">
        <span className="bar" style={{ width: `${(row.share * 100).toFixed(1)}%` }} />
      </td>
    </tr>
  );
}

export function OrderBook(props: {
  commodity: Commodity | null;
  book: Book | null;
  error: string | null;
  onPickPrice: (price: number) => void;
  live: boolean;
  /** my working orders' remaining units per level (book.ts `myLevels`) */
  mine: ReadonlyMap<string, number>;
}) {
  const tick = props.commodity?.tickSize ?? 0.01;
  const lot = props.commodity?.contractSize ?? 1;
  const d = depth(props.book?.commodity === props.commodity?.symbol ? props.book : null, tick);
  return (
    <Panel
      title={props.commodity ? `Order book · ${props.commodity.name}` : 'Order book'}
      area="book"
      extra={
        <span className="muted" data-testid="book-levels" data-bids={d.bids.length} data-asks={d.asks.length}>
          {props.commodity ? `lots of ${lot.toLocaleString('en-US')} ${props.commodity.unit} · ● yours` : '—'}
        </span>
      }
    >
      {props.error && <div className="error-line">{props.error}</div>}
      <table className={`grid book-table ${props.live ? '' : 'stale'}`}>
        <thead>
          <tr>
            <th className="num col-opt">Orders</th>
            <th className="num">Size</th>
            <th className="num">Price</th>
            <th className="num">Total</th>
            <th className="depth-cell">
              <span className="sr-only">Depth</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {/* rows keyed by their place in the ladder: every update rewrites them in place */}
          {d.asks.map((r, i) => (
            <Level key={`a${i}`} row={r} side="ask" tick={tick} lot={lot} mine={props.mine.get(levelKey('ask', r.price, tick))} onPick={props.onPickPrice} />
          ))}
          <tr className="spread-row">
            <td colSpan={5}>
              {d.spread === null ? (
                'No two-sided market'
              ) : (
                <>
                  Spread <b>{formatPrice(d.spread, tick)}</b> · Mid <b>{formatPrice(d.mid, tick / 2)}</b>
                </>
              )}
            </td>
          </tr>
          {d.bids.map((r, i) => (
            <Level key={`b${i}`} row={r} side="bid" tick={tick} lot={lot} mine={props.mine.get(levelKey('bid', r.price, tick))} onPick={props.onPickPrice} />
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
