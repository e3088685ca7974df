/** My orders, live from order-update; open ones can be cancelled. */
import { useState } from 'react';
import { cancelOrder } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import { formatFullTime, formatLots, formatPrice, formatTime } from '../model/format.js';
import { isOpenOrder as isOpen } from '@qx/client/react';
import type { Commodity, Order } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { Panel } from './Panel.js';

function CancelButton(props: { authed: Authed; order: Order; onError: (message: string) => void; onCancelled: () => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="btn-small"
      disabled={busy}
      onClick={() => {
        setBusy(true);
        // the order-update that follows moves the row to cancelled
        props
          .authed((token) => cancelOrder(token, props.order.id))
          .then(() => props.onCancelled())
          .catch((err: unknown) => props.onError(`Cancel ${props.order.id}: ${describeError(err)}`))
          .finally(() => setBusy(false));
      }}
    >
      Cancel
    </button>
  );
}

export function OrdersTable(props: { authed: Authed; orders: readonly Order[]; tickOf: (symbol: string | undefined) => Commodity | undefined; onError: (message: string) => void; onCancelled: () => void }) {
  const [openOnly, setOpenOnly] = useState(false);
  const rows = openOnly ? props.orders.filter(isOpen) : props.orders;
  const openCount = props.orders.filter(isOpen).length;
  return (
    <Panel
      title="My orders"
      area="orders"
      extra={
        <label className="toggle">
          <input type="checkbox" checked={openOnly} onChange={(e) => setOpenOnly(e.target.checked)} /> open only ({openCount})
        </label>
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
            <th className="num">Filled</th>
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
            return (
              <tr key={o.id} data-order-id={o.id} data-status={o.status}>
                <td className="muted col-opt" title={formatFullTime(o.createdAt ?? o.timestamp)}>
                  {formatTime(o.createdAt ?? o.timestamp)}
                </td>
                <td className="mono muted col-opt">{o.id}</td>
                <td>{o.commodity ?? '—'}</td>
                <td className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side ?? '—'}</td>
                <td className="col-opt">{o.type ?? '—'}</td>
                <td className="num">{o.type === 'market' ? 'MKT' : formatPrice(o.price, tick)}</td>
                <td className="num">{formatLots(o.quantity ?? o.filledQuantity + o.remainingQuantity, lot)}</td>
                <td className="num">{formatLots(o.filledQuantity, lot)}</td>
                <td className="num col-opt">{o.averagePrice ? formatPrice(o.averagePrice, tick / 100) : '—'}</td>
                <td className="muted col-opt">{o.timeInForce?.toUpperCase() ?? '—'}</td>
                <td>
                  <span className={`status status-${o.status}`} title={o.reason}>
                    {o.status.replace('_', ' ')}
                  </span>
                </td>
                <td>{isOpen(o) && <CancelButton authed={props.authed} order={o} onError={props.onError} onCancelled={props.onCancelled} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
