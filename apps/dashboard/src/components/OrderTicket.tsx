/**
 * Order entry, in whole lots. Before sending, the ticket shows what the server will hold the order
 * to — the maximum order size and the position limit in lots, the price band around the last
 * price — and warns when the order would be refused (counting working orders, as the limit check
 * does); a decimal comma or a fraction of a lot is refused with what to type instead. Orders above
 * the confirmation size ask first (Confirm has the focus, Escape goes back). The answer is said in
 * the trader's terms and follows the order afterwards: "working" becomes "filled" or "cancelled".
 * A halted or closed market is said as such (why, and for a halt until when) and the ticket refuses
 * before sending; with cancel-on-disconnect on, the ticket says so.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { MarketStatusPayload, OrderRequestBody } from '@qx/protocol';
import type { OrderActions } from '../api/order-actions.js';
import { PREF, readPref, writePref } from '../hooks/prefs.js';
import { formatLots, formatMoney, formatPrice, formatQuantity } from '../model/format.js';
import { preTradeWarnings, priceBand } from '../model/limits.js';
import type { Quote } from '../model/market.js';
import { explainError, problemOf } from '../model/messages.js';
import { TIME_IN_FORCE, buildOrder, notionalOf, parseLots, parsePrice, ticketPrice, unitsOf, withType, type OrderForm, type OrderType, type Side, type TimeInForce } from '../model/order-form.js';
import { describeOutcome } from '../model/order-outcome.js';
import { isLive, type Connection } from '../model/connection.js';
import { statusNotice, statusTag } from '../model/market-status.js';
import type { Commodity, Order, Position } from '../model/types.js';
import { Panel } from './Panel.js';

type Outcome =
  /** an order the server answered: what is said follows the order's later updates */
  | { kind: 'order'; order: Order }
  | { kind: 'error'; code: string; text: string }
  | { kind: 'info'; text: string }
  | null;

/** errors that say the server was out of reach: moot once the connection is back */
const isConnectivityError = (code: string) =>
  ['NETWORK', 'SERVICE_UNAVAILABLE', 'HTTP_ERROR', 'REQUEST_TIMEOUT', 'NOT_CONNECTED', 'CONNECT_FAILED'].includes(code) || /^HTTP_5\d\d$/.test(code);

/** The order a refusal carries, when the server recorded one (a rejected order). */
const orderOfError = (err: unknown): Order | undefined => {
  const order = (err as { order?: unknown } | null)?.order;
  return typeof order === 'object' && order !== null ? (order as Order) : undefined;
};

/** Orders above this many lots ask for a confirmation first (kept per browser; an empty box is the default, not 0). */
export const DEFAULT_CONFIRM_ABOVE_LOTS = 100;
function confirmAboveOf(text: string): number {
  const lots = parseLots(text);
  return text.trim() === '' ? DEFAULT_CONFIRM_ABOVE_LOTS : lots.ok ? lots.value : text.trim() === '0' ? 0 : DEFAULT_CONFIRM_ABOVE_LOTS;
}

let nextId = 0;
const clientOrderId = () => `web-${Date.now().toString(36)}-${(nextId++).toString(36)}`;

export interface TicketProps {
  actions: OrderActions;
  commodities: readonly Commodity[];
  commodity: string | null;
  quote: Quote | undefined;
  /** the selected market's status: a halted or closed market refuses orders here, before sending */
  status: MarketStatusPayload | undefined;
  /** cancel-on-disconnect is on for this screen (said under the button) */
  cancelOnDisconnect: boolean;
  connection: Connection;
  /** the trader's standing in the selected commodity (net, working buys and sells) */
  position: Position | undefined;
  /** the live orders, so the answer follows the order it is about */
  orders: readonly Order[];
  /** a price picked from the book; the nonce makes picking the same price again count */
  picked: { price: number; nonce: number } | null;
  onCommodity: (symbol: string) => void;
  onPlaced: (order: Order) => void;
}

export function OrderTicket(props: TicketProps) {
  const [form, setForm] = useState<Omit<OrderForm, 'commodity'>>({ side: 'buy', type: 'limit', quantity: '1', price: '', timeInForce: 'gtc' });
  /** an order above the confirmation size, waiting for the trader to confirm it */
  const [pending, setPending] = useState<OrderRequestBody | null>(null);
  const [confirmText, setConfirmText] = useState(() => readPref(PREF.confirmAbove) ?? '');
  const confirmAbove = confirmAboveOf(confirmText);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  /** answers received, so a test (or a screen reader) can tell a repeated answer from the last one */
  const [answers, setAnswers] = useState(0);
  const commodity = props.commodities.find((c) => c.symbol === props.commodity) ?? null;
  const confirmButton = useRef<HTMLButtonElement>(null);
  const quantityInput = useRef<HTMLInputElement>(null);
  const live = isLive(props.connection);
  const notice = commodity ? statusNotice(props.status, commodity.name) : null;

  useEffect(() => {
    if (props.picked) setForm((f) => ({ ...f, type: 'limit', price: String(props.picked?.price) }));
  }, [props.picked]);

  // the confirmation takes the focus: Enter confirms, Escape goes back
  useEffect(() => {
    if (pending) confirmButton.current?.focus();
  }, [pending]);

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
  const answer = (o: Outcome) => {
    setOutcome(o);
    setAnswers((n) => n + 1);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pending) return;
    if (notice && props.status) return answer({ kind: 'error', code: props.status.status === 'closed' ? 'MARKET_CLOSED' : 'MARKET_HALTED', text: notice });
    const built = buildOrder({ ...form, commodity: props.commodity ?? '' }, clientOrderId(), contractSize);
    if (!built.ok) return answer({ kind: 'error', code: 'INVALID_ORDER', text: built.message });
    // a large order is sent only once the trader confirms it
    if (built.body.quantity / contractSize > confirmAbove) {
      setPending(built.body);
      return;
    }
    send(built.body);
  };

  const back = () => {
    setPending(null);
    quantityInput.current?.focus();
  };

  const send = (body: OrderRequestBody) => {
    setPending(null);
    setBusy(true);
    setOutcome(null);
    props.actions
      .place(body)
      .then((order) => {
        answer({ kind: 'order', order });
        props.onPlaced(order);
      })
      .catch((err: unknown) => {
        // a refused order the server still recorded (rejected: an unfillable FOK, a compliance refusal)
        const order = orderOfError(err);
        if (order && problemOf(err).code === 'NO_LIQUIDITY') {
          answer({ kind: 'order', order });
          props.onPlaced(order);
          return;
        }
        answer({ kind: 'error', code: problemOf(err).code, text: explainError(err, commodity ?? undefined) });
      })
      .finally(() => setBusy(false));
  };

  const tick = commodity?.tickSize ?? 0.01;
  const units = unitsOf(form.quantity, contractSize);
  const notional = notionalOf(form, contractSize, props.quote);
  const mark = props.quote?.price ?? commodity?.referencePrice ?? null;
  const band = mark !== null ? priceBand(mark, tick) : null;
  const lots = (n: number) => `${formatLots(n, contractSize)} lots`;
  // what is wrong with the fields as typed, said at once
  const quantityProblem = form.quantity.trim() === '' ? null : (() => {
    const r = parseLots(form.quantity);
    return r.ok ? null : r.message;
  })();
  const priceProblem = form.type === 'market' || form.price.trim() === '' ? null : (() => {
    const r = parsePrice(form.price);
    return r.ok ? null : r.message;
  })();
  const warnings = commodity ? preTradeWarnings({ commodity, side: form.side, units, price: form.type === 'limit' && !priceProblem ? ticketPrice(form, props.quote) : null, position: props.position, mark }) : [];
  const shownOrder = outcome?.kind === 'order' ? (props.orders.find((o) => o.id === outcome.order.id) ?? outcome.order) : null;
  const said = shownOrder ? describeOutcome(shownOrder, commodity ?? undefined) : null;
  return (
    <Panel title={commodity ? `Order ticket · ${commodity.name}` : 'Order ticket'} area="ticket" testId="ticket-panel">
      <form className="ticket" onSubmit={submit} data-testid="ticket" noValidate>
        <div className="row2">
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
        </div>
        <div className="row2">
          <div className="seg" role="group" aria-label="Side">
            {(['buy', 'sell'] as Side[]).map((s) => (
              <button key={s} type="button" name={`side-${s}`} className={`seg-btn ${s} ${form.side === s ? 'on' : ''}`} aria-pressed={form.side === s} onClick={() => set('side', s)}>
                {s === 'buy' ? 'Buy' : 'Sell'}
              </button>
            ))}
          </div>
          <div className="seg" role="group" aria-label="Type">
            {(['limit', 'market'] as OrderType[]).map((t) => (
              <button key={t} type="button" name={`type-${t}`} className={`seg-btn ${form.type === t ? 'on' : ''}`} aria-pressed={form.type === t} onClick={() => setType(t)}>
                {t === 'limit' ? 'Limit' : 'Market'}
              </button>
            ))}
          </div>
        </div>
        <div className="row2">
          <label>
            Quantity (whole lots)
            <input ref={quantityInput} name="quantity" inputMode="numeric" value={form.quantity} aria-invalid={quantityProblem !== null} onChange={(e) => set('quantity', e.target.value)} />
          </label>
          <label>
            Price{commodity ? ` (${commodity.currency})` : ''}
            <input
              name="price"
              inputMode="decimal"
              value={form.type === 'market' ? '' : form.price}
              placeholder={form.type === 'market' ? 'at market' : formatPrice(props.quote?.price, tick)}
              disabled={form.type === 'market'}
              aria-invalid={priceProblem !== null}
              onChange={(e) => set('price', e.target.value)}
            />
          </label>
        </div>
        {(quantityProblem || priceProblem) && (
          <div className="field-error error" role="alert" data-testid="field-error" data-field={quantityProblem ? 'quantity' : 'price'}>
            {quantityProblem ?? priceProblem}
          </div>
        )}
        <div className="ticket-limits muted" data-testid="ticket-limits" data-max-lots={commodity ? commodity.maxOrderSize / contractSize : undefined} data-band-low={band?.low} data-band-high={band?.high}>
          {commodity && (
            <>
              <div>
                Max order <b>{lots(commodity.maxOrderSize)}</b> · Position limit <b>{lots(commodity.positionLimit)}</b>
              </div>
              <div>
                Band{' '}
                <b>
                  {band ? `${formatPrice(band.low, tick)}–${formatPrice(band.high, tick)}` : '—'}
                </b>{' '}
                · tick {tick}
              </div>
            </>
          )}
        </div>
        {notice && props.status && (
          <div className={`ticket-market-status mkt-${props.status.status}`} role="alert" data-testid="ticket-market-status" data-status={props.status.status}>
            {notice}
          </div>
        )}
        <div className={`ticket-quote muted ${live ? '' : 'stale'}`} data-testid="ticket-quote">
          Bid <span className="bid">{formatPrice(props.quote?.bid, tick)}</span> · Ask <span className="ask">{formatPrice(props.quote?.ask, tick)}</span> · Last <span>{formatPrice(props.quote?.price, tick)}</span>
        </div>
        <div className="ticket-line muted">
          <span className="ticket-size" data-testid="ticket-size">
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
          </span>
          {' · '}
          <span className="ticket-notional" data-testid="ticket-notional" data-notional={notional ?? undefined}>
            Notional <b>{commodity ? formatMoney(notional, commodity.currency) : '—'}</b>
            {form.type === 'market' && notional !== null && <span className="muted"> at the {form.side === 'buy' ? 'ask' : 'bid'}</span>}
          </span>
        </div>
        {warnings.length > 0 && (
          <ul className="ticket-warnings" data-testid="ticket-warnings" role="alert">
            {warnings.map((w) => (
              <li key={w.kind} data-kind={w.kind}>
                {w.text}
              </li>
            ))}
          </ul>
        )}
        {pending ? (
          <div
            className="ticket-confirm"
            role="alertdialog"
            aria-label="Confirm a large order"
            data-testid="ticket-confirm"
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.preventDefault();
                back();
              }
            }}
          >
            <div>
              Confirm {pending.side} <b>{formatLots(pending.quantity, contractSize)} lots</b> ({formatQuantity(pending.quantity)} {commodity?.unit}) {pending.type}
              {pending.price !== undefined ? ` @ ${formatPrice(pending.price, tick)}` : ''}: above your confirmation size of {formatQuantity(confirmAbove)} lots
            </div>
            <div className="row2">
              <button type="button" ref={confirmButton} name="confirm-place" className={`btn-primary ${pending.side}`} onClick={() => send(pending)}>
                Confirm
              </button>
              <button type="button" name="cancel-place" className="btn-secondary" onClick={back}>
                Back
              </button>
            </div>
          </div>
        ) : (
          <button
            type="submit"
            name="place"
            className={`btn-primary ${form.side}`}
            disabled={busy || !props.commodity || !live || notice !== null}
            title={!live ? 'Not connected: orders cannot be sent until the connection is back' : (notice ?? undefined)}
          >
            {!live ? 'Not connected' : notice && props.status ? `Market ${statusTag(props.status.status).toLowerCase()}` : busy ? 'Sending…' : `${form.side === 'buy' ? 'Buy' : 'Sell'} ${form.type}`}
          </button>
        )}
        <div
          className="ticket-outcome"
          data-testid="ticket-outcome"
          data-answers={answers}
          aria-live="polite"
          data-order-id={shownOrder?.id}
          data-status={shownOrder?.status}
          data-code={outcome?.kind === 'error' ? outcome.code : undefined}
        >
          {said && <span className={said.tone}>{said.text}</span>}
          {outcome?.kind === 'info' && <span className="info">{outcome.text}</span>}
          {outcome?.kind === 'error' && <span className="error">{outcome.text}</span>}
        </div>
        {props.cancelOnDisconnect && (
          <div className="ticket-cod" data-testid="ticket-cod">
            Cancel-on-disconnect is on: orders from this screen are cancelled if it disconnects
          </div>
        )}
        <label className="ticket-setting">
          Confirm orders above (lots)
          <input
            name="confirmAbove"
            inputMode="numeric"
            value={confirmText}
            placeholder={`${DEFAULT_CONFIRM_ABOVE_LOTS} (default)`}
            onChange={(e) => {
              const text = e.target.value;
              setConfirmText(text);
              // empty: back to the default (not 0, which would confirm every order)
              writePref(PREF.confirmAbove, text.trim() === '' ? null : text.trim());
            }}
          />
        </label>
      </form>
    </Panel>
  );
}
