/**
 * The gateway's order REST routes: place, cancel, amend (cancel/replace), cancel all, flatten and
 * the dead-man's switch (cancel all after).
 * Every failure is a QuantEnergxError: the gateway's code (`ORDER_NOT_FOUND`, `INVALID_QUANTITY`,
 * `NO_POSITION`, ...) with the HTTP status (and the order it answered with, when it refused one),
 * `REQUEST_TIMEOUT` when no answer came in time, `ABORTED` when the caller's signal fired, and
 * `HTTP_ERROR` when the gateway could not be reached or answered something else.
 */
import { ErrorCode, type CancelAllAfterAck, type ErrorCodeName, type OrderRequestBody, type OrderUpdatePayload } from '@qx/protocol/wire';
import { QuantEnergxError } from './errors.js';
import { eitherSignal, fetchFailure, type FetchLike } from './http.js';

/** A new limit price (number or decimal string), a new total quantity (above the filled), or both. */
export interface OrderAmendment {
  price?: number | string;
  quantity?: number;
}

/** One order call, whatever carries it. */
export type OrderCall =
  | { kind: 'place'; body: OrderRequestBody }
  | { kind: 'cancel'; orderId: string }
  | { kind: 'amend'; orderId: string; change: OrderAmendment }
  | { kind: 'cancel-all'; commodity: string | undefined }
  | { kind: 'flatten'; commodity: string; clientOrderId: string | undefined }
  | { kind: 'cancel-all-after'; timeoutMs: number };

export type OrderCallResult<C extends OrderCall> = C extends { kind: 'cancel-all' }
  ? OrderUpdatePayload[]
  : C extends { kind: 'cancel-all-after' }
    ? CancelAllAfterAck
    : OrderUpdatePayload;

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string; retryAfterMs?: number };
  order?: OrderUpdatePayload;
}

export class TradingRest {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  /** One order call over REST; `signal` aborts it (`ABORTED`), the time limit ends it (`REQUEST_TIMEOUT`). */
  async send<C extends OrderCall>(call: C, token: string, signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<OrderCallResult<C>> {
    const orders = '/api/v1/trading/orders';
    const limits = { signal, timeoutMs };
    switch (call.kind) {
      case 'place':
        return (await this.call<{ order: OrderUpdatePayload }>('POST', orders, token, call.body, limits)).order as OrderCallResult<C>;
      case 'cancel':
        return (await this.call<{ order: OrderUpdatePayload }>('DELETE', `${orders}/${encodeURIComponent(call.orderId)}`, token, undefined, limits)).order as OrderCallResult<C>;
      case 'amend':
        return (await this.call<{ order: OrderUpdatePayload }>('PATCH', `${orders}/${encodeURIComponent(call.orderId)}`, token, call.change, limits)).order as OrderCallResult<C>;
      case 'cancel-all': {
        const query = call.commodity === undefined ? '' : `?commodity=${encodeURIComponent(call.commodity)}`;
        return (await this.call<{ cancelled: OrderUpdatePayload[] }>('DELETE', orders + query, token, undefined, limits)).cancelled as OrderCallResult<C>;
      }
      case 'flatten': {
        const path = `/api/v1/trading/positions/${encodeURIComponent(call.commodity)}/flatten`;
        const body = call.clientOrderId === undefined ? undefined : { clientOrderId: call.clientOrderId };
        return (await this.call<{ order: OrderUpdatePayload }>('POST', path, token, body, limits)).order as OrderCallResult<C>;
      }
      case 'cancel-all-after': {
        const { timeoutMs: ms, firesAt } = await this.call<CancelAllAfterAck>('POST', '/api/v1/trading/cancel-all-after', token, { timeoutMs: call.timeoutMs }, limits);
        return { timeoutMs: ms, firesAt } as OrderCallResult<C>;
      }
    }
  }

  /** `POST /api/v1/trading/orders` → the order placed (`201`; a repeated `clientOrderId` answers the same order). */
  placeOrder(body: OrderRequestBody, token: string, signal?: AbortSignal): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'place', body }, token, signal);
  }

  /** `DELETE /api/v1/trading/orders/:id` → the cancelled order. */
  cancelOrder(orderId: string, token: string, signal?: AbortSignal): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'cancel', orderId }, token, signal);
  }

  /** `PATCH /api/v1/trading/orders/:id` → the amended order. */
  amendOrder(orderId: string, change: OrderAmendment, token: string, signal?: AbortSignal): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'amend', orderId, change }, token, signal);
  }

  /** `DELETE /api/v1/trading/orders[?commodity=]` → the orders cancelled. */
  cancelAll(commodity: string | undefined, token: string, signal?: AbortSignal): Promise<OrderUpdatePayload[]> {
    return this.send({ kind: 'cancel-all', commodity }, token, signal);
  }

  /** `POST /api/v1/trading/positions/:commodity/flatten` → the market order placed (with its fills). */
  flatten(commodity: string, token: string, options: { clientOrderId?: string; signal?: AbortSignal } = {}): Promise<OrderUpdatePayload> {
    return this.send({ kind: 'flatten', commodity, clientOrderId: options.clientOrderId }, token, options.signal);
  }

  private async call<T>(method: string, path: string, token: string, json: unknown, limits: { signal: AbortSignal | undefined; timeoutMs: number }): Promise<T> {
    const what = `${method} ${path}`;
    const { signal, timeoutMs } = limits;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: signal ? eitherSignal(signal, timeout) : timeout,
      });
    } catch (err) {
      throw fetchFailure(err, what, timeoutMs, signal, timeout);
    }
    const body = (await res.json().catch(() => null)) as (ErrorBody & T) | null;
    if (!res.ok || body === null) {
      const wire = body?.error?.code;
      const code = wire !== undefined && wire in ErrorCode ? (wire as ErrorCodeName) : 'HTTP_ERROR';
      const retryAfter = Number(res.headers?.get('retry-after'));
      throw new QuantEnergxError(code, body?.error?.message ?? `${what} answered HTTP ${res.status}`, {
        field: body?.error?.field,
        status: res.status,
        retryAfterMs: body?.error?.retryAfterMs ?? (retryAfter > 0 ? retryAfter * 1000 : undefined),
        order: body?.order,
      });
    }
    return body;
  }
}
