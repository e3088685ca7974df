/**
 * My orders, live from order-update. Open ones can be cancelled, resting limit orders amended
 * (cancel/replace: a new price and/or quantity, the SDK's `amendOrder`), and every open order of
 * the selected commodity cancelled at once (the SDK's `cancelAll`).
 */
import { useState, type FormEvent } from 'react';
import { isOpenOrder as isOpen } from '@qx/client/react';
import type { QuantEnergxClient } from '@qx/client';
import { cancelOrder } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import { unitsOf } from '../model/order-form.js';
import type { Commodity, Order } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { Panel } from './Panel.js';

interface OrdersProps {
  authed: Authed;
  /** the SDK client: amend and cancel-all go through it */
  client: QuantEnergxClient | null;
  orders: readonly Order[];
  tickOf: (symbol: string | undefined) => Commodity | undefined;
  /** the commodity "Cancel all" applies to */
  commodity: Commodity | null;
  onError: (message: string) => void;
  /** an order changed by a request of this table (the order-update follows too) */
  onChanged: (orders: readonly Order[]) => void;
}

function CancelButton(props: { authed: Authed; order: Order; onError: (message: string) => void; onChanged: (orders: readonly Order[]) => void }) {
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
        props
          .authed((token) => cancelOrder(token, props.order.id))
          .then((o) => props.onChanged([o]))
          .catch((err: unknown) => props.onError(`Cancel ${props.order.id}: ${describeError(err)}`))
          .finally(() => setBusy(false));
      }}
    >
      Cancel
    </button>
  );
}

/** The amend form in place of the row's price and quantity. */
function AmendRow(props: { order: Order; commodity: Commodity | undefined; client: QuantEnergxClient | null; onDone: (order: Order | null) => void; onError: (message: string) => void }) {
  const { order } = props;
  const lot = props.commodity?.contractSize ?? 1;
  const total = order.quantity ?? order.filledQuantity + order.remainingQuantity;
  const [price, setPrice] = useState(String(order.price ?? ''));
  const [quantity, setQuantity] = useState(formatLots(total, lot).replace(/,/g, ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = (e: FormEvent) => {
    e.preventDefault();
    const change: { price?: number; quantity?: number } = {};
    const p = Number(price.replace(/[,\s]/g, ''));
    if (!Number.isFinite(p) || p <= 0) return setError('Price must be a positive number');
    if (p !== order.price) change.price = p;
    const units = unitsOf(quantity, lot);
    if (units === null) return setError(`Quantity must be a positive number of lots (1 lot = ${lot.toLocaleString('en-US')})`);
    if (units !== total) change.quantity = units;
    if (change.price === undefined && change.quantity === undefined) return props.onDone(null);
    const client = props.client;
    if (!client) return setError('Not connected');
    setBusy(true);
    setError(null);
    client
      .amendOrder(order.id, change)
      .then((o) => props.onDone(o))
      .catch((err: unknown) => {
        setError(describeError(err));
        props.onError(`Amend ${order.id}: ${describeError(err)}`);
      })
      .finally(() => setBusy(false));
  };
  return (
    <form className="amend" onSubmit={save} data-testid="amend-form" data-order-id={order.id}>
      <label>
        Price
        <input name="amend-price" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      </label>
      <label>
        Lots
        <input name="amend-quantity" inputMode="decimal" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
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

export function OrdersTable(props: OrdersProps) {
  const [openOnly, setOpenOnly] = useState(false);
  const [amending, setAmending] = useState<string | null>(null);
  const [cancellingAll, setCancellingAll] = useState(false);
  const rows = openOnly ? props.orders.filter(isOpen) : props.orders;
  const openCount = props.orders.filter(isOpen).length;
  const selected = props.commodity;
  const openHere = selected ? props.orders.filter((o) => isOpen(o) && o.commodity === selected.symbol).length : 0;
  const cancelAll = () => {
    const client = props.client;
    if (!selected || !client) return;
    setCancellingAll(true);
    client
      .cancelAll({ commodity: selected.symbol })
      .then((cancelled) => props.onChanged(cancelled))
      .catch((err: unknown) => props.onError(`Cancel all ${selected.symbol}: ${describeError(err)}`))
      .finally(() => setCancellingAll(false));
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
          <button type="button" name="cancel-all" className="btn-small btn-danger" disabled={!selected || !props.client || openHere === 0 || cancellingAll} onClick={cancelAll} title="Cancel every open order of this commodity">
            Cancel all {selected?.symbol ?? ''} ({openHere})
          </button>
        </div>
      }
    >
      <table className="grid orders-table">
        <thead>
          <tr>
            <th className="col-opt">Time</th>
            <th className="col-opt">Id</th>
            <th>Commodity</th>
            <th>Side</th>
            <th className="col-opt">Type</th>
            <th className="num">Price</th>
            <th className="num">Lots</th>
            <th className="num col-tight">Filled</th>
            <th className="num col-opt">Avg</th>
            <th className="col-opt">TIF</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr className="empty">
              <td colSpan={12}>No orders yet</td>
            </tr>
          )}
          {rows.map((o) => {
            const c = props.tickOf(o.commodity);
            const tick = c?.tickSize ?? 0.0001;
            const lot = c?.contractSize ?? 1;
            const open = isOpen(o);
            const canAmend = open && o.type === 'limit';
            return [
              <tr key={o.id} data-order-id={o.id} data-status={o.status} data-price={o.price ?? undefined} data-quantity={o.quantity ?? undefined}>
                <td className="muted col-opt" title={formatFullTime(o.createdAt ?? o.timestamp)}>
                  {formatTime(o.createdAt ?? o.timestamp)}
                </td>
                <td className="mono muted col-opt">{o.id}</td>
                <td>{o.commodity ?? '—'}</td>
                <td className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side ?? '—'}</td>
                <td className="col-opt">{o.type ?? '—'}</td>
                <td className="num">{o.type === 'market' ? 'MKT' : formatPrice(o.price, tick)}</td>
                <td className="num">{formatLots(o.quantity ?? o.filledQuantity + o.remainingQuantity, lot)}</td>
                <td className="num col-tight">{formatLots(o.filledQuantity, lot)}</td>
                <td className="num col-opt">{o.averagePrice ? formatPrice(o.averagePrice, tick / 100) : '—'}</td>
                <td className="muted col-opt">{o.timeInForce?.toUpperCase() ?? '—'}</td>
                <td>
                  <span className={`status status-${o.status}`} title={o.reason}>
                    {o.status.replace('_', ' ')}
                  </span>
                </td>
                <td>
                  <div className="row-actions">
                  {canAmend && (
                    <button type="button" name="amend" className="btn-small" onClick={() => setAmending(amending === o.id ? null : o.id)} aria-expanded={amending === o.id}>
                      Amend
                    </button>
                  )}
                  {open && <CancelButton authed={props.authed} order={o} onError={props.onError} onChanged={props.onChanged} />}
                  </div>
                </td>
              </tr>,
              amending === o.id && canAmend ? (
                <tr key={`${o.id}-amend`} className="amend-row">
                  <td colSpan={12}>
                    <AmendRow
                      order={o}
                      commodity={c}
                      client={props.client}
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
