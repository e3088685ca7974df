/**
 * Positions from the server in lots, marked to the live price (exact P&L, with its currency);
 * exposure as the limit check sees it (net plus working orders on the side that grows it); the
 * total P&L per currency. While disconnected the valuations are marked stale. Flatten asks first,
 * saying the side, the size, and how many orders it takes when the position is larger than the
 * maximum order size.
 */
import { useEffect, useRef, useState } from 'react';
import { exposureOf } from '../model/limits.js';
import { formatFullTime, formatLots, formatPrice, formatQuantity, formatSigned, formatTime, signClass } from '../model/format.js';
import type { MarketState } from '../model/market.js';
import { markToMarket, totalPnl } from '../model/positions.js';
import type { Commodity, Position } from '../model/types.js';
import { Panel } from './Panel.js';
import { SortHeader, useSort } from './SortHeader.js';

type Key = 'commodity' | 'net' | 'unrealized' | 'exposure';

export function PositionsTable(props: {
  positions: readonly Position[];
  market: MarketState;
  tickOf: (symbol: string | undefined) => Commodity | undefined;
  /** false while disconnected: valuations use frozen prices */
  live: boolean;
  /** since when the prices are frozen (epoch ms) */
  staleSince: number | null;
  /** closes a position (the screen's order actions); resolves when done */
  onFlatten?: (p: Position, commodity: Commodity) => Promise<void>;
}) {
  const rows = markToMarket(props.positions, props.market, (c) => props.tickOf(c)?.tickSize);
  const totals = totalPnl(rows, (c) => props.tickOf(c)?.currency);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const exposure = (p: Position) => exposureOf(p, props.tickOf(p.commodity)?.positionLimit);
  const { sorted, sort, toggle } = useSort(rows, (p, key: Key) =>
    key === 'commodity' ? p.commodity : key === 'net' ? p.netQuantity / (props.tickOf(p.commodity)?.contractSize ?? 1) : key === 'unrealized' ? p.unrealizedPnl : (exposure(p)?.used ?? null),
  );
  const stale = !props.live;
  const staleNote = stale ? `prices frozen${props.staleSince ? ` since ${formatTime(new Date(props.staleSince).toISOString())} UTC` : ''}: not connected` : undefined;
  return (
    <Panel
      title="Positions"
      area="positions"
      stale={stale}
      extra={
        <span className={`total-pnl ${stale ? 'stale' : ''}`} data-testid="total-pnl" title={staleNote}>
          {stale && <span className="stale-tag">stale </span>}
          Total P&amp;L{' '}
          {totals.length === 0
            ? '—'
            : totals.map((t) => (
                <b key={t.currency} className={signClass(t.pnl)} data-currency={t.currency} data-pnl={t.pnl} title={t.complete ? undefined : 'a position has no last price yet'}>
                  {t.currency} {formatSigned(t.pnl, 2)}
                  {t.complete ? '' : '*'}{' '}
                </b>
              ))}
        </span>
      }
    >
      <table className={`grid positions-table ${stale ? 'stale' : ''}`} data-stale={stale}>
        <thead>
          <tr>
            <SortHeader label="Commodity" sortKey="commodity" sort={sort} onSort={toggle} />
            <SortHeader label="Net (lots)" sortKey="net" sort={sort} onSort={toggle} className="num" />
            <th className="num col-mid">Avg</th>
            <th className="num col-tight">Last</th>
            <SortHeader label="Unreal. P&L" sortKey="unrealized" sort={sort} onSort={toggle} className="num" />
            <th className="num col-opt">Real. P&amp;L</th>
            <SortHeader label="Exposure" sortKey="exposure" sort={sort} onSort={toggle} className="num" title="Net position plus working orders on the side that grows it, against the position limit (as the limit check counts)" />
            <th className="num col-opt">Working B/S</th>
            {props.onFlatten && <th />}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr className="empty">
              <td colSpan={9}>Flat</td>
            </tr>
          )}
          {sorted.map((p) => {
            const c = props.tickOf(p.commodity);
            const tick = c?.tickSize ?? 0.0001;
            const lot = c?.contractSize ?? 1;
            const currency = c?.currency ?? '';
            const e = exposure(p);
            const lots = (units: number) => formatLots(units, lot);
            const confirm = confirming === p.commodity && c && p.netQuantity !== 0;
            return [
              <tr key={p.commodity} data-commodity={p.commodity}>
                <td>{p.commodity}</td>
                <td className={`num ${signClass(p.netQuantity)}`} data-testid="net-quantity" title={`${formatQuantity(p.netQuantity)} ${c?.unit ?? ''}`}>
                  {(p.netQuantity > 0 ? '+' : p.netQuantity < 0 ? '−' : '') + lots(Math.abs(p.netQuantity))}
                </td>
                <td className="num col-mid" title={p.netQuantity ? `average entry ${p.averagePrice}` : undefined}>
                  {p.netQuantity ? formatPrice(p.averagePrice, tick) : '—'}
                </td>
                <td className="num col-tight" title={staleNote}>
                  {formatPrice(p.lastPrice, tick)}
                </td>
                <td className={`num ${signClass(p.unrealizedPnl)}`} data-testid="unrealized-pnl" data-pnl={p.unrealizedPnl ?? undefined} title={staleNote}>
                  {formatSigned(p.unrealizedPnl, 2)} <span className="ccy">{currency}</span>
                </td>
                <td className={`num col-opt ${signClass(p.realizedPnl)}`} data-testid="realized-pnl">
                  {formatSigned(p.realizedPnl, 2)} <span className="ccy">{currency}</span>
                </td>
                <td
                  className={`num exposure ${e && e.used >= 0.8 ? 'exposure-high' : ''}`}
                  data-testid="exposure"
                  data-used={e?.used}
                  title={
                    e
                      ? `${formatQuantity(e.units)} of ${formatQuantity(e.limit)} ${c?.unit ?? ''} position limit: ${lots(e.units)} of ${lots(e.limit)} lots, ` +
                        `net ${lots(e.position)} plus working ${e.side}s ${lots(e.side === 'buy' ? p.openBuyQuantity : p.openSellQuantity)}, as the limit check counts`
                      : undefined
                  }
                >
                  {e ? `${(e.used * 100).toFixed(e.used < 0.01 && e.used > 0 ? 2 : 1)}%` : '—'}
                  {e && <span className="exposure-bar" style={{ width: `${Math.min(100, e.used * 100).toFixed(1)}%` }} />}
                </td>
                <td className="num muted col-opt" data-testid="open-quantity">
                  {lots(p.openBuyQuantity)}/{lots(p.openSellQuantity)}
                </td>
                {props.onFlatten && (
                  <td>
                    {p.netQuantity !== 0 && (
                      <button
                        type="button"
                        name="flatten"
                        className="btn-small btn-danger"
                        disabled={busy === p.commodity}
                        aria-expanded={confirming === p.commodity}
                        title={`Close the ${p.commodity} position at market`}
                        onClick={() => setConfirming(confirming === p.commodity ? null : p.commodity)}
                      >
                        {busy === p.commodity ? '…' : 'Flatten'}
                      </button>
                    )}
                  </td>
                )}
              </tr>,
              confirm ? (
                <tr key={`${p.commodity}-flatten`} className="confirm-row">
                  <td colSpan={9}>
                    <FlattenConfirm
                      position={p}
                      commodity={c}
                      onBack={() => setConfirming(null)}
                      onConfirm={() => {
                        setConfirming(null);
                        setBusy(p.commodity);
                        void props.onFlatten?.(p, c).finally(() => setBusy(null));
                      }}
                    />
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
      {stale && (
        <div className="stale-note muted" data-testid="positions-stale" title={props.staleSince ? formatFullTime(props.staleSince) : undefined}>
          {staleNote}
        </div>
      )}
    </Panel>
  );
}

/** "Sell 2 lots (2,000 bbl) of WTI Crude Oil at market", and in how many orders; Confirm has the focus, Escape goes back. */
function FlattenConfirm(props: { position: Position; commodity: Commodity; onConfirm: () => void; onBack: () => void }) {
  const { position: p, commodity: c } = props;
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => confirm.current?.focus(), []);
  const units = Math.abs(p.netQuantity);
  const orders = Math.ceil(units / Math.max(1, c.maxOrderSize));
  const lots = (n: number) => `${formatLots(n, c.contractSize)} ${n === c.contractSize ? 'lot' : 'lots'}`;
  return (
    <div
      className="inline-confirm"
      role="alertdialog"
      aria-label={`Flatten ${c.name}`}
      data-testid="flatten-confirm"
      onKeyDown={(e) => {
        if (e.key === 'Escape') props.onBack();
      }}
    >
      <span>
        {p.netQuantity > 0 ? 'Sell' : 'Buy'} <b>{lots(units)}</b> ({formatQuantity(units)} {c.unit}) of {c.name} at market
        {orders > 1 && ` in ${orders} orders of at most ${lots(c.maxOrderSize)} (the maximum order size)`}?
      </span>
      <button type="button" ref={confirm} name="confirm-flatten" className={`btn-small btn-danger`} onClick={props.onConfirm}>
        Confirm
      </button>
      <button type="button" name="cancel-flatten" className="btn-small" onClick={props.onBack}>
        Back
      </button>
    </div>
  );
}
