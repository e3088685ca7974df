/**
 * One error type for everything the SDK rejects with: the gateway's coded errors (`{code,
 * message}` from an ack or `auth-error`) and the few the client decides itself.
 */
import type { ErrorCodeName, OrderUpdatePayload, WireError } from '@qx/protocol/wire';

export const ClientErrorCode = {
  /** no answer (or no authentication to send the request on) within its time limit */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** `connect()` was never called */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** the gateway could not be reached: reconnection gave up (`reconnection.attempts`) */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** `close()` was called while the request waited */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** the caller's `AbortSignal` fired */
  ABORTED: 'ABORTED',
  /** neither a usable `token` nor a working `getToken()` */
  TOKEN_UNAVAILABLE: 'TOKEN_UNAVAILABLE',
  /** an option the client cannot work with (a malformed `url`) */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** a REST call (the event log, order management) answered with an error or could not be reached */
  HTTP_ERROR: 'HTTP_ERROR',
} as const;
export type ClientErrorCodeName = keyof typeof ClientErrorCode;

export type QuantEnergxErrorCode = ErrorCodeName | ClientErrorCodeName;

export interface QuantEnergxErrorDetails {
  event?: string | undefined;
  field?: string | undefined;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
  order?: OrderUpdatePayload | undefined;
  cause?: unknown;
}

export class QuantEnergxError extends Error {
  override readonly name = 'QuantEnergxError';
  readonly code: QuantEnergxErrorCode;
  /** the client event that failed, when the error answers a request */
  readonly event: string | undefined;
  /** the payload field at fault, when the gateway named one */
  readonly field: string | undefined;
  /** the HTTP status of a REST answer */
  readonly status: number | undefined;
  /** how long to wait before trying again, when the gateway said (`RATE_LIMITED`) */
  readonly retryAfterMs: number | undefined;
  /** the order the gateway answered with when it refused an order call (a rejected order, one no longer open) */
  readonly order: OrderUpdatePayload | undefined;

  constructor(code: QuantEnergxErrorCode, message: string, details: QuantEnergxErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.event = details.event;
    this.field = details.field;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.order = details.order;
  }

  static fromWire(error: WireError, event?: string, order?: OrderUpdatePayload): QuantEnergxError {
    return new QuantEnergxError(error.code, error.message, { event, field: error.field, retryAfterMs: error.retryAfterMs, order });
  }
}

/** Any throwable as a QuantEnergxError (one shape for everything the SDK hands out). */
export function toQuantEnergxError(err: unknown, code: QuantEnergxErrorCode = 'INTERNAL'): QuantEnergxError {
  if (err instanceof QuantEnergxError) return err;
  return new QuantEnergxError(code, err instanceof Error ? err.message : String(err), { cause: err });
}

/** Authentication errors that another attempt with the same credentials cannot fix. */
export function isFatalAuthError(code: QuantEnergxErrorCode): boolean {
  return code === 'INVALID_AUTH_DATA' || code === 'INVALID_TOKEN' || code === 'USER_MISMATCH' || code === 'USER_SWITCH_REFUSED' || code === 'TOKEN_UNAVAILABLE';
}
