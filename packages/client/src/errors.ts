/**
 * One error type for everything the SDK rejects with: the gateway's coded errors (`{code,
 * message}` from an ack or `auth-error`) and the few the client decides itself.
 */
import type { ErrorCodeName, WireError } from '@qx/protocol';

export const ClientErrorCode = {
  /** no answer within `requestTimeoutMs` */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** `connect()` was never called */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** `close()` was called while the request waited */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** neither a usable `token` nor a working `getToken()` */
  TOKEN_UNAVAILABLE: 'TOKEN_UNAVAILABLE',
  /** a REST call (the event log, order management) answered with an error or could not be reached */
  HTTP_ERROR: 'HTTP_ERROR',
} as const;
export type ClientErrorCodeName = keyof typeof ClientErrorCode;

export type QuantEnergxErrorCode = ErrorCodeName | ClientErrorCodeName;

export class QuantEnergxError extends Error {
  override readonly name = 'QuantEnergxError';
  readonly code: QuantEnergxErrorCode;
  /** the client event that failed, when the error answers a request */
  readonly event: string | undefined;
  /** the payload field at fault, when the gateway named one */
  readonly field: string | undefined;

  constructor(code: QuantEnergxErrorCode, message: string, details: { event?: string | undefined; field?: string | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.event = details.event;
    this.field = details.field;
  }

  static fromWire(error: WireError, event?: string): QuantEnergxError {
    return new QuantEnergxError(error.code, error.message, { event, field: error.field });
  }
}

/** Authentication errors that another attempt with the same credentials cannot fix. */
export function isFatalAuthError(code: QuantEnergxErrorCode): boolean {
  return code === 'INVALID_AUTH_DATA' || code === 'INVALID_TOKEN' || code === 'USER_MISMATCH' || code === 'USER_SWITCH_REFUSED' || code === 'TOKEN_UNAVAILABLE';
}
