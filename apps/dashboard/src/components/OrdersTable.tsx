/**
 * My orders, live from order-update: working orders first ("open only" by default, remembered),
 * any column sorts. Open ones can be cancelled, resting limit orders amended (cancel/replace: a
 * new price and/or whole lots; the form opens in view with the price focused, Escape closes it, a
 * refusal says why), and every open order cancelled at once — of the selected commodity, or of
 * all of them. Every action goes through the screen's order actions.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { OrderActions } from '../api/order-actions.js';
import { useFlagPref, PREF } from '../hooks/prefs.js';
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import { explainError } from '../model/messages.js';
import { displayStatus } from '../model/order-outcome.js';
import { parseLots, parsePrice } from '../model/order-form.js';
import { workingFirst } from '../model/sort.js';
import type { Commodity, Order } from '../model/types.js';
import { Panel } from './Panel.js';
import { SortHeader, useSort } from './SortHeader.js';

const isOpen = (o: Pick<Order, 'status'>) => o.status === 'new' || o.status === 'partially_filled';

interface OrdersProps {
  actions: OrderActions;
  orders: readonly Order[];
  tickOf: (symbol: string | undefined) => Commodity | undefined;
  /** the commodity the first "Cancel all" applies to */
  commodity: Commodity | null;
  /** a refused request, in words, for the alerts feed */
  onError: (message: string) => void;
  /** what an action did, for the notifications */
  onDone: (message: string, tone?: 'ok' | 'warn') => void;
  /** an order changed by a request of this table (the order-update follows too) */
  onChanged: (orders: readonly Order[]) => void;
}

function CancelButton(props: { actions: OrderActions; order: Order; commodity: Commodity | undefined; onError: (message: string) => void; onChanged: (orders: readonly Order[]) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      name="cancel"
      className="btn-small"
      disabled={busy}
      onClick={() => {
        setBusy(true);
        // the order-update that follows moves the row to cancelled
        props.actions
          .cancel(props.order.id)
          .then((o) => props.onChanged([o]))
          .catch((err: unknown) => props.onError(`Cancel ${props.order.id}: ${explainError(err, props.commodity)}`))
          .finally(() => setBusy(false));
      }}
    >
      Cancel
    </button>
  );
}

/** The amend form under the order's row: in view and focused on the price when it opens. */
function AmendRow(props: { order: Order; commodity: Commodity | undefined; actions: OrderActions; onDone: (order: Order | null) => void; onError: (message: string) => void }) {
  const { order } = props;
  const lot = props.commodity?.contractSize ?? 1;
  const total = order.quantity ?? order.filledQuantity + order.remainingQuantity;
  const [price, setPrice] = useState(order.price === null || order.price === undefined ? '' : formatPrice(order.price, props.commodity?.tickSize ?? 0.0001).replace(/,/g, ''));
  const [quantity, setQuantity] = useState(formatLots(total, lot).replace(/,/g, ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const priceInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // the row may sit at the bottom of a scrolled blotter: bring the form into view, then type
    form.current?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    priceInput.current?.focus({ preventScroll: true });
    priceInput.current?.select();
  }, []);
  const save = (e: FormEvent) => {
    e.preventDefault();
    const change: { price?: number; quantity?: number } = {};
    const p = parsePrice(price);
    if (!p.ok) return setError(p.message);
    if (p.value <= 0) return setError('Price must be positive');
    if (p.value !== order.price) change.price = p.value;
    const lots = parseLots(quantity);
    if (!lots.ok) return setError(lots.message);
    const units = lots.value * lot;
    if (units !== total) change.quantity = units;
    if (change.price === undefined && change.quantity === undefined) return props.onDone(null);
    setBusy(true);
    setError(null);
    props.actions
      .amend(order.id, change)
      .then((o) => props.onDone(o))
      .catch((err: unknown) => {
        const why = explainError(err, props.commodity);
        setError(why);
        props.onError(`Amend ${order.id} refused: ${why}`);
        // back to the price, to correct it (or Escape to close)
        priceInput.current?.focus();
      })
      .finally(() => setBusy(false));
  };
  return (
    <form
      ref={form}
      className="amend"
      onSubmit={save}
      data-testid="amend-form"
      data-order-id={order.id}
      onKeyDown={(e) => {
        if (e.key === 'Escape') props.onDone(null);
      }}
    >
      <label>
        Price
        <input ref={priceInput} name="amend-price" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      </label>
      <label>
        Lots
        <input name="amend-quantity" inputMode="numeric" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
      </label>
      <button type="submit" name="amend-save" className="btn-small" disabled={busy}>
        {busy ? '…' : 'Save'}
      </button>
      <button type="button" name="amend-close" className="btn-small" onClick={() => props.onDone(null)}>
        Close
      </button>
      {error && (
        <span className="error amend-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

type Key = 'time' | 'commodity' | 'side' | 'price' | 'lots' | 'status';

export function OrdersTable(props: OrdersProps) {
  const [openOnly, setOpenOnly] = useFlagPref(PREF.openOnly, true);
  const [amending, setAmending] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState<'one' | 'all' | null>(null);
  const ordered = workingFirst(openOnly ? props.orders.filter(isOpen) : props.orders);
  const lotsOf = (o: Order) => (o.quantity ?? o.filledQuantity + o.remainingQuantity) / (props.tickOf(o.commodity)?.contractSize ?? 1);
  const { sorted: rows, sort, toggle } = useSort<Order, Key>(ordered, (o, key) =>
    key === 'time' ? Date.parse(o.createdAt ?? o.timestamp ?? '') : key === 'commodity' ? o.commodity : key === 'side' ? o.side : key === 'price' ? o.price : key === 'lots' ? lotsOf(o) : displayStatus(o).label,
  );
  const openCount = props.orders.filter(isOpen).length;
  const selected = props.commodity;
  const openHere = selected ? props.orders.filter((o) => isOpen(o) && o.commodity === selected.symbol).length : 0;
  const cancelAll = (scope: 'one' | 'all') => {
    const commodity = scope === 'one' ? selected?.symbol : undefined;
    if (scope === 'one' && !commodity) return;
    setCancelling(scope);
    props.actions
      .cancelAll(commodity)
      .then((cancelled) => {
        props.onChanged(cancelled);
        props.onDone(`Cancelled ${cancelled.length} open order${cancelled.length === 1 ? '' : 's'}${commodity ? ` of ${selected?.name ?? commodity}` : ' (all commodities)'}`, cancelled.length ? 'ok' : 'warn');
      })
      .catch((err: unknown) => props.onError(`Cancel all${commodity ? ` ${commodity}` : ''}: ${explainError(err)}`))
      .finally(() => setCancelling(null));
  };
  return (
    <Panel
      title="My orders"
      area="orders"
      extra={
        <div className="panel-actions">
          <label className="toggle">
            <input type="checkbox" name="open-only" checked={openOnly} onChange={(e) => setOpenOnly(e.target.checked)} /> open only ({openCount})
          </label>
          <button type="button" name="cancel-all" className="btn-small btn-danger" disabled={!selected || openHere === 0 || cancelling !== null} onClick={() => cancelAll('one')} title="Cancel every open order of this commodity">
            Cancel all {selected?.symbol ?? ''} ({openHere})
          </button>
          <button type="button" name="cancel-everything" className="btn-small btn-danger" disabled={openCount === 0 || cancelling !== null} onClick={() => cancelAll('all')} title="Cancel every open order of every commodity">
            Cancel all ({openCount})
          </button>
        </div>
      }
    >
      <table className="grid orders-table">
        <thead>
          <tr>
            <SortHeader label="Time (UTC)" sortKey="time" sort={sort} onSort={toggle} className="col-opt" title="Times are UTC (date, milliseconds and your local time on hover)" />
            <th className="col-wide">Id</th>
            <SortHeader label="Commodity" sortKey="commodity" sort={sort} onSort={toggle} />
            <SortHeader label="Side" sortKey="side" sort={sort} onSort={toggle} />
            <th className="col-wide">Type</th>
            <SortHeader label="Price" sortKey="price" sort={sort} onSort={toggle} className="num" />
            <SortHeader label="Lots" sortKey="lots" sort={sort} onSort={toggle} className="num" />
            <th className="num col-tight">Filled</th>
            <th className="num col-mid">Avg</th>
            <th className="col-mid">TIF</th>
            <SortHeader label="Status" sortKey="status" sort={sort} onSort={toggle} />
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr className="empty">
              <td colSpan={12}>{openOnly && props.orders.length > 0 ? 'No working orders' : 'No orders yet'}</td>
            </tr>
          )}
          {rows.map((o) => {
            const c = props.tickOf(o.commodity);
            const tick = c?.tickSize ?? 0.0001;
            const lot = c?.contractSize ?? 1;
            const open = isOpen(o);
            const canAmend = open && o.type === 'limit';
            const shown = displayStatus(o, c);
            return [
              <tr key={o.id} data-order-id={o.id} data-status={o.status} data-price={o.price ?? undefined} data-quantity={o.quantity ?? undefined} className={open ? 'working' : undefined}>
                <td className="muted col-opt" title={formatFullTime(o.createdAt ?? o.timestamp)}>
                  {formatTime(o.createdAt ?? o.timestamp)}
                </td>
                <td className="mono muted col-wide">{o.id}</td>
                <td>{o.commodity ?? '—'}</td>
                <td className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side ?? '—'}</td>
                <td className="col-wide">{o.type ?? '—'}</td>
                <td className="num">{o.type === 'market' ? 'MKT' : formatPrice(o.price, tick)}</td>
                <td className="num">{formatLots(o.quantity ?? o.filledQuantity + o.remainingQuantity, lot)}</td>
                <td className="num col-tight">{formatLots(o.filledQuantity, lot)}</td>
                <td className="num col-mid" title={o.averagePrice ? `average fill price ${o.averagePrice}` : undefined}>
                  {o.averagePrice ? formatPrice(o.averagePrice, tick) : '—'}
                </td>
                <td className="muted col-mid">{o.timeInForce?.toUpperCase() ?? '—'}</td>
                <td>
                  <span className={`status status-${shown.status}`} title={shown.note} data-testid="order-status">
                    {shown.label}
                  </span>
                </td>
                <td>
                  <div className="row-actions">
                    {canAmend && (
                      <button type="button" name="amend" className="btn-small" onClick={() => setAmending(amending === o.id ? null : o.id)} aria-expanded={amending === o.id}>
                        Amend
                      </button>
                    )}
                    {open && <CancelButton actions={props.actions} order={o} commodity={c} onError={props.onError} onChanged={props.onChanged} />}
                  </div>
                </td>
              </tr>,
              amending === o.id && canAmend ? (
                <tr key={`${o.id}-amend`} className="amend-row">
                  <td colSpan={12}>
                    <AmendRow
                      order={o}
                      commodity={c}
                      actions={props.actions}
                      onError={props.onError}
                      onDone={(changed) => {
                        setAmending(null);
                        if (changed) props.onChanged([changed]);
                      }}
                    />
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
    </Panel>
  );
}
