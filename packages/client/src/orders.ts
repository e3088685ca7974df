/**
 * Order calls: place, cancel, amend, cancel all, flatten, and the dead-man's switch. Placing is
 * idempotent by `clientOrderId` (one is generated when the caller gives none, flatten included):
 * a call answered by nothing — a timeout, a connection lost before the answer, an unreachable
 * gateway, `ENGINE_UNAVAILABLE` — is sent again with the same id (`orderRetries` times), so it can
 * never trade twice, whichever way each attempt travels. `transport()` is the one place that
 * decides how an order call travels: over the socket (the gateway's trading events, answered
 * through the ack) while it is connected and authenticated, over REST with this client's token
 * otherwise.
 */
import { ClientEvent, type CancelAllAfterAck, type OrderRequestBody, type OrderUpdatePayload } from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { QuantEnergxError } from './errors.js';
import { eitherSignal } from './http.js';
import { bounded, type RequestOptions, type Requests } from './requests.js';
import type { Session } from './session.js';
import { backoffDelay } from './token.js';
import type { OrderAmendment, OrderCall, OrderCallResult, TradingRest } from './trading-rest.js';

/** Answers that say nothing about whether the call took effect: it may be sent again, unchanged. */
const UNANSWERED = new Set(['REQUEST_TIMEOUT', 'HTTP_ERROR', 'ENGINE_UNAVAILABLE']);

/** A `clientOrderId` (1-64 of `A-Z a-z 0-9 _ . : -`): 96 random bits, without `crypto.randomUUID` (secure contexts only in browsers). */
export function newClientOrderId(prefix = 'qx'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export class OrderEntry {
  /** aborted by close(): order calls still waiting end at once */
  private readonly closing = new AbortController();
  /** errors that answered a retry (not the first attempt) */
  private readonly retried = new WeakSet<QuantEnergxError>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly session: Session,
    private readonly requests: Requests,
    private readonly rest: TradingRest,
    /** settles once no change of cancel-on-disconnect is in flight: an order sent before it would not be covered */
    private readonly safetyReady: () => Promise<void>,
  ) {}

  close(): void {
    this.closing.abort(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
  }

  placeOrder(body: OrderRequestBody, options: RequestOptions = {}): Promise<OrderUpdatePayload> {
    const order = { ...body, clientOrderId: body.clientOrderId ?? newClientOrderId() };
    return this.send({ kind: 'place', body: order }, options);
  }

  async cancelOrder(orderId: string, options: RequestOptions = {}): Promise<OrderUpdatePayload> {
    try {
      return await this.send({ kind: 'cancel', orderId }, options);
    } catch (err) {
      // a retry after the first attempt went through: the order is cancelled, as asked
      if (err instanceof QuantEnergxError && err.code === 'ORDER_NOT_CANCELLABLE' && err.order?.status === 'cancelled' && this.retried.has(err)) return err.order;
      throw err;
    }
  }

  amendOrder(orderId: string, change: OrderAmendment, options: RequestOptions = {}): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'amend', orderId, change }, options);
  }

  cancelAll(commodity: string | undefined, options: RequestOptions = {}): Promise<OrderUpdatePayload[]> {
    return this.send({ kind: 'cancel-all', commodity }, options, 0);
  }

  flatten(commodity: string, options: RequestOptions & { clientOrderId?: string } = {}): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'flatten', commodity, clientOrderId: options.clientOrderId ?? newClientOrderId('flat') }, options);
  }

  /** The dead-man's switch: each call moves the deadline (sending it again is harmless). */
  cancelAllAfter(timeoutMs: number, options: RequestOptions = {}): Promise<CancelAllAfterAck> {
    return this.send({ kind: 'cancel-all-after', timeoutMs }, options);
  }

  /** Sends a call, again (unchanged) while nothing answered it, up to `retries` times. */
  private async send<C extends OrderCall>(call: C, options: RequestOptions, retries = this.ctx.options.orderRetries ?? 2): Promise<OrderCallResult<C>> {
    const signal = options.signal ? eitherSignal(options.signal, this.closing.signal) : this.closing.signal;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transport(call, signal, options.timeoutMs);
      } catch (err) {
        const error = this.closing.signal.aborted ? new QuantEnergxError('CLIENT_CLOSED', 'The client was closed', { cause: err }) : err;
        if (!(error instanceof QuantEnergxError)) throw error;
        if (attempt > 0) this.retried.add(error);
        // an HTTP error below 500 is an answer (a proxy's 404, say), not a silence
        if (attempt >= retries || !UNANSWERED.has(error.code) || (error.code === 'HTTP_ERROR' && error.status !== undefined && error.status < 500)) throw error;
        if (error.code !== 'REQUEST_TIMEOUT') await this.pause(attempt, signal);
      }
    }
  }

  /**
   * How an order call travels: over the socket while it is connected and authenticated (flatten,
   * which has no socket event, excepted), over REST otherwise. A socket that turns out not to be
   * authenticated any more (the gateway answers `NOT_AUTHENTICATED` or `TOKEN_EXPIRED` before
   * doing anything) hands the call to REST at once.
   */
  private async transport<C extends OrderCall>(call: C, signal: AbortSignal, timeoutMs: number | undefined): Promise<OrderCallResult<C>> {
    if (call.kind !== 'flatten' && this.session.authenticated) {
      await bounded(this.safetyReady(), { event: 'order', timeoutMs: null, signal });
      if (this.session.authenticated) {
        try {
          return await this.overSocket(call, signal, timeoutMs ?? this.ctx.requestTimeoutMs);
        } catch (err) {
          if (!(err instanceof QuantEnergxError) || (err.code !== 'NOT_AUTHENTICATED' && err.code !== 'TOKEN_EXPIRED')) throw err;
          this.session.authLost();
        }
      }
    }
    return this.rest.send(call, await this.session.currentToken(), signal, timeoutMs);
  }

  /** One attempt over the socket; no answer (a timeout, the connection lost first) is `REQUEST_TIMEOUT`. */
  private async overSocket<C extends OrderCall>(call: C, signal: AbortSignal, timeoutMs: number): Promise<OrderCallResult<C>> {
    const limits = { signal, timeoutMs };
    const r = this.requests;
    let result: unknown;
    switch (call.kind) {
      case 'place':
        result = (await r.call(ClientEvent.PlaceOrder, call.body, limits)).order;
        break;
      case 'cancel':
        result = (await r.call(ClientEvent.CancelOrder, { orderId: call.orderId }, limits)).order;
        break;
      case 'amend':
        result = (await r.call(ClientEvent.AmendOrder, { ...call.change, orderId: call.orderId }, limits)).order;
        break;
      case 'cancel-all':
        result = (await r.call(ClientEvent.CancelAllOrders, call.commodity === undefined ? {} : { commodity: call.commodity }, limits)).cancelled;
        break;
      case 'cancel-all-after':
        result = await r.call(ClientEvent.CancelAllAfter, { timeoutMs: call.timeoutMs }, limits);
        break;
      case 'flatten':
        throw new QuantEnergxError('INTERNAL', 'flatten has no socket event');
    }
    return result as OrderCallResult<C>;
  }

  private pause(attempt: number, signal: AbortSignal): Promise<void> {
    const { reconnection } = this.ctx.options;
    const delay = backoffDelay(attempt, reconnection?.delayMs ?? 500, reconnection?.delayMaxMs ?? 10_000, reconnection?.jitter ?? 0.5);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
