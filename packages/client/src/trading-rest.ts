/**
 * The gateway's order-management REST routes that the trading screen needs beyond the socket:
 * amend (cancel/replace), cancel all and flatten. Every failure is a QuantEnergxError with the
 * gateway's code (`ORDER_NOT_FOUND`, `INVALID_QUANTITY`, `NO_POSITION`, ...) or `HTTP_ERROR`.
 */
import { ErrorCode, type ErrorCodeName, type OrderUpdatePayload } from '@qx/protocol';
import { QuantEnergxError } from './errors.js';
import type { FetchLike } from './event-log-api.js';

/** A new limit price (number or decimal string), a new total quantity (above the filled), or both. */
export interface OrderAmendment {
  price?: number | string;
  quantity?: number;
}

export class TradingRest {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  /** `PATCH /api/v1/trading/orders/:id` → the amended order. */
  async amendOrder(orderId: string, change: OrderAmendment, token: string): Promise<OrderUpdatePayload> {
    const body = await this.call('PATCH', `/api/v1/trading/orders/${encodeURIComponent(orderId)}`, token, change);
    return (body as { order: OrderUpdatePayload }).order;
  }

  /** `DELETE /api/v1/trading/orders[?commodity=]` → the orders cancelled. */
  async cancelAll(commodity: string | undefined, token: string): Promise<OrderUpdatePayload[]> {
    const query = commodity === undefined ? '' : `?commodity=${encodeURIComponent(commodity)}`;
    const body = await this.call('DELETE', `/api/v1/trading/orders${query}`, token);
    return (body as { cancelled: OrderUpdatePayload[] }).cancelled;
  }

  /** `POST /api/v1/trading/positions/:commodity/flatten` → the market order placed (with its fills). */
  async flatten(commodity: string, token: string): Promise<OrderUpdatePayload> {
    const body = await this.call('POST', `/api/v1/trading/positions/${encodeURIComponent(commodity)}/flatten`, token);
    return (body as { order: OrderUpdatePayload }).order;
  }

  private async call(method: string, path: string, token: string, json?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new QuantEnergxError('HTTP_ERROR', `${method} ${path}: gateway unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string } } | null;
    if (!res.ok || body === null) {
      const wire = body?.error?.code;
      const code = wire !== undefined && wire in ErrorCode ? (wire as ErrorCodeName) : 'HTTP_ERROR';
      throw new QuantEnergxError(code, body?.error?.message ?? `${method} ${path} answered HTTP ${res.status}`, { field: body?.error?.field });
    }
    return body;
  }
}
