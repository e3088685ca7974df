/**
 * Order entry. Sends `POST /api/v1/trading/orders` and shows the outcome: the accepted order's
 * status, or the server's coded error (PRICE_OFF_TICK, COMPLIANCE_REJECTED, ...) as it came.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { OrderRequestBody } from '@qx/protocol';
import { placeOrder } from '../api/endpoints.js';
import { ApiError, describeError } from '../api/http.js';
import { formatLots, formatMoney, formatPrice, formatQuantity } from '../model/format.js';
import type { Quote } from '../model/market.js';
import { TIME_IN_FORCE, buildOrder, notionalOf, unitsOf, withType, type OrderForm, type OrderType, type Side, type TimeInForce } from '../model/order-form.js';
import { describeOutcome } from '../model/order-outcome.js';
import type { Connection } from '../model/connection.js';
import type { Commodity, Order } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';
import { Panel } from './Panel.js';

type Outcome =
  | { kind: 'ok' | 'warn'; text: string; orderId: string; status: string }
  | { kind: 'error'; code: string; text: string }
  | { kind: 'info'; text: string }
  | null;

/** errors that say the server was out of reach: moot once the connection is back */
const isConnectivityError = (code: string) => code === 'NETWORK' || code === 'SERVICE_UNAVAILABLE' || /^HTTP_5\d\d$/.test(code);

/** Orders above this many lots ask for a confirmation first (kept per browser). */
const CONFIRM_KEY = 'qx.confirmAboveLots';
export const DEFAULT_CONFIRM_ABOVE_LOTS = 100;
function loadConfirmAbove(): number {
  try {
    const n = Number(localStorage.getItem(CONFIRM_KEY) ?? NaN);
    return Number.isFinite(n) && n >= 0 ? n : DEFAULT_CONFIRM_ABOVE_LOTS;
  } catch {
    return DEFAULT_CONFIRM_ABOVE_LOTS;
  }
}
function saveConfirmAbove(n: number): void {
  try {
    localStorage.setItem(CONFIRM_KEY, String(n));
  } catch {
    /* storage disabled: the setting lasts as long as the page */
  }
}

let nextId = 0;
const clientOrderId = () => `web-${Date.now().toString(36)}-${(nextId++).toString(36)}`;

export interface TicketProps {
  authed: Authed;
  commodities: readonly Commodity[];
  commodity: string | null;
  quote: Quote | undefined;
  connection: Connection;
  /** a price picked from the book; the nonce makes picking the same price again count */
  picked: { price: number; nonce: number } | null;
  onCommodity: (symbol: string) => void;
  onPlaced: (order: Order) => void;
}

export function OrderTicket(props: TicketProps) {
  const [form, setForm] = useState<Omit<OrderForm, 'commodity'>>({ side: 'buy', type: 'limit', quantity: '1', price: '', timeInForce: 'gtc' });
  /** an order above the confirmation size, waiting for the trader to confirm it */
  const [pending, setPending] = useState<OrderRequestBody | null>(null);
  const [confirmAbove, setConfirmAbove] = useState(loadConfirmAbove);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  /** answers received, so a test (or a screen reader) can tell a repeated answer from the last one */
  const [answers, setAnswers] = useState(0);
  const commodity = props.commodities.find((c) => c.symbol === props.commodity) ?? null;

  useEffect(() => {
    if (props.picked) setForm((f) => ({ ...f, type: 'limit', price: String(props.picked?.price) }));
  }, [props.picked]);

  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) => setForm((f) => ({ ...f, [key]: value }));
  const setType = (type: OrderType) => setForm((f) => withType(f, type));

  // back online after a loss: a "server cannot be reached" from before is no longer true
  const reconnects = useRef(props.connection.reconnects);
  useEffect(() => {
    if (props.connection.reconnects === reconnects.current) return;
    reconnects.current = props.connection.reconnects;
    setOutcome((o) => (o === null || (o.kind === 'error' && isConnectivityError(o.code)) ? { kind: 'info', text: 'Reconnected to the server' } : o));
  }, [props.connection.reconnects]);

  const contractSize = commodity?.contractSize ?? 1;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const built = buildOrder({ ...form, commodity: props.commodity ?? '' }, clientOrderId(), contractSize);
    if (!built.ok) {
      setOutcome({ kind: 'error', code: 'INVALID_ORDER', text: built.message });
      setAnswers((n) => n + 1);
      return;
    }
    // a large order is sent only once the trader confirms it
    if (built.body.quantity / contractSize > confirmAbove) {
      setPending(built.body);
      return;
    }
    send(built.body);
  };

  const send = (body: OrderRequestBody) => {
    setPending(null);
    setBusy(true);
    setOutcome(null);
    props
      .authed((token) => placeOrder(token, body))
      .then((order) => {
        const said = describeOutcome(order, commodity ?? undefined);
        setOutcome({ kind: said.tone, text: said.text, orderId: order.id, status: order.status });
        props.onPlaced(order);
      })
      .catch((err: unknown) => setOutcome({ kind: 'error', code: err instanceof ApiError ? err.code : 'ERROR', text: err instanceof ApiError ? err.message : describeError(err) }))
      .finally(() => {
        setBusy(false);
        setAnswers((n) => n + 1);
      });
  };

  const tick = commodity?.tickSize ?? 0.01;
  const units = unitsOf(form.quantity, contractSize);
  const notional = notionalOf(form, contractSize, props.quote);
  return (
    <Panel title="Order ticket" area="ticket" testId="ticket-panel">
      <form className="ticket" onSubmit={submit} data-testid="ticket">
        <label>
          Commodity
          <select name="commodity" value={props.commodity ?? ''} onChange={(e) => props.onCommodity(e.target.value)}>
            {props.commodities.map((c) => (
              <option key={c.symbol} value={c.symbol}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <div className="seg" role="group" aria-label="Side">
          {(['buy', 'sell'] as Side[]).map((s) => (
            <button key={s} type="button" name={`side-${s}`} className={`seg-btn ${s} ${form.side === s ? 'on' : ''}`} onClick={() => set('side', s)}>
              {s === 'buy' ? 'Buy' : 'Sell'}
            </button>
          ))}
        </div>
        <div className="seg" role="group" aria-label="Type">
          {(['limit', 'market'] as OrderType[]).map((t) => (
            <button key={t} type="button" name={`type-${t}`} className={`seg-btn ${form.type === t ? 'on' : ''}`} onClick={() => setType(t)}>
              {t === 'limit' ? 'Limit' : 'Market'}
            </button>
          ))}
        </div>
        <div className="row2">
          <label>
            Quantity (lots)
            <input name="quantity" inputMode="decimal" value={form.quantity} onChange={(e) => set('quantity', e.target.value)} />
          </label>
          <label>
            Price{commodity ? ` (${commodity.currency})` : ''}
            <input
              name="price"
              inputMode="decimal"
              value={form.type === 'market' ? '' : form.price}
              placeholder={form.type === 'market' ? 'at market' : formatPrice(props.quote?.price, tick)}
              disabled={form.type === 'market'}
              onChange={(e) => set('price', e.target.value)}
            />
          </label>
        </div>
        <label>
          Time in force
          <select name="timeInForce" value={form.timeInForce} onChange={(e) => set('timeInForce', e.target.value as TimeInForce)}>
            {TIME_IN_FORCE[form.type].map((t) => (
              <option key={t} value={t}>
                {t.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <div className="ticket-size muted" data-testid="ticket-size">
          {commodity && (
            <>
              1 lot = {formatQuantity(commodity.contractSize)} {commodity.unit}
              {units !== null && (
                <>
                  {' · '}
                  <b>{formatQuantity(units)}</b> {commodity.unit}
                </>
              )}
            </>
          )}
        </div>
        <div className="ticket-notional" data-testid="ticket-notional" data-notional={notional ?? undefined}>
          Notional <b>{commodity ? formatMoney(notional, commodity.currency) : '—'}</b>
          {form.type === 'market' && notional !== null && <span className="muted"> at the {form.side === 'buy' ? 'ask' : 'bid'}</span>}
        </div>
        <div className={`ticket-quote muted ${props.connection.status === 'connected' ? '' : 'stale'}`}>
          Bid <span className="bid">{formatPrice(props.quote?.bid, tick)}</span> · Ask <span className="ask">{formatPrice(props.quote?.ask, tick)}</span> · tick {tick}
        </div>
        {pending ? (
          <div className="ticket-confirm" role="alertdialog" aria-label="Confirm a large order" data-testid="ticket-confirm">
            <div>
              Confirm {pending.side} <b>{formatLots(pending.quantity, contractSize)} lots</b> ({formatQuantity(pending.quantity)} {commodity?.unit}) {pending.type}
              {pending.price !== undefined ? ` @ ${formatPrice(pending.price, tick)}` : ''}: above your confirmation size of {formatQuantity(confirmAbove)} lots
            </div>
            <div className="row2">
              <button type="button" name="confirm-place" className={`btn-primary ${pending.side}`} onClick={() => send(pending)}>
                Confirm
              </button>
              <button type="button" name="cancel-place" className="btn-secondary" onClick={() => setPending(null)}>
                Back
              </button>
            </div>
          </div>
        ) : (
          <button type="submit" name="place" className={`btn-primary ${form.side}`} disabled={busy || !props.commodity}>
            {busy ? 'Sending…' : `${form.side === 'buy' ? 'Buy' : 'Sell'} ${form.type}`}
          </button>
        )}
        <label className="ticket-setting">
          Confirm orders above (lots)
          <input
            name="confirmAbove"
            inputMode="numeric"
            value={confirmAbove}
            onChange={(e) => {
              const n = Number(e.target.value.replace(/[,\s]/g, ''));
              if (Number.isFinite(n) && n >= 0) {
                setConfirmAbove(n);
                saveConfirmAbove(n);
              }
            }}
          />
        </label>
        <div
          className="ticket-outcome"
          data-testid="ticket-outcome"
          data-answers={answers}
          aria-live="polite"
          data-order-id={outcome && 'orderId' in outcome ? outcome.orderId : undefined}
          data-status={outcome && 'status' in outcome ? outcome.status : undefined}
        >
          {(outcome?.kind === 'ok' || outcome?.kind === 'warn') && <span className={outcome.kind}>{outcome.text}</span>}
          {outcome?.kind === 'info' && <span className="info">{outcome.text}</span>}
          {outcome?.kind === 'error' && (
            <span className="error">
              <code>{outcome.code}</code> {outcome.text}
            </span>
          )}
        </div>
      </form>
    </Panel>
  );
}
