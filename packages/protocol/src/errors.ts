/**
 * One error catalogue for sockets and REST. A code is stable and never reused; `status` is the
 * HTTP status the REST API answers with; `numeric` lets clients switch on a number.
 */
export const ErrorCode = {
  // authentication (auth-error carries these; its `message` is the seed's text)
  INVALID_AUTH_DATA: { numeric: 4001, status: 400, message: 'Invalid authentication data' },
  INVALID_TOKEN: { numeric: 4002, status: 401, message: 'Invalid token' },
  TOKEN_EXPIRED: { numeric: 4003, status: 401, message: 'Token expired' },
  USER_MISMATCH: { numeric: 4004, status: 401, message: 'User ID does not match token' },
  USER_SWITCH_REFUSED: { numeric: 4005, status: 403, message: 'Socket is already authenticated as another user' },
  AUTH_RATE_LIMITED: { numeric: 4006, status: 429, message: 'Too many failed authentication attempts' },
  NOT_AUTHENTICATED: { numeric: 4007, status: 401, message: 'Authenticate first' },
  TOO_MANY_CONNECTIONS: { numeric: 4008, status: 429, message: 'Too many connections for this user' },
  TOO_MANY_UNAUTHENTICATED: { numeric: 4009, status: 429, message: 'Too many unauthenticated connections from this address' },
  // requests
  INVALID_PAYLOAD: { numeric: 4100, status: 400, message: 'Invalid payload' },
  FORBIDDEN: { numeric: 4101, status: 403, message: 'Not allowed' },
  UNKNOWN_COMMODITY: { numeric: 4102, status: 400, message: 'Unknown commodity' },
  UNKNOWN_EVENT: { numeric: 4103, status: 400, message: 'Unknown event' },
  PAYLOAD_TOO_LARGE: { numeric: 4104, status: 413, message: 'Payload too large' },
  TOO_MANY_COMMODITIES: { numeric: 4105, status: 400, message: 'Too many commodities in one request' },
  TOO_MANY_SUBSCRIPTIONS: { numeric: 4106, status: 400, message: 'Too many subscriptions on this socket' },
  RATE_LIMITED: { numeric: 4107, status: 429, message: 'Too many requests' },
  NOT_FOUND: { numeric: 4108, status: 404, message: 'Not found' },
  UNAUTHORIZED: { numeric: 4109, status: 401, message: 'Missing or invalid credentials' },
  INVALID_STREAM: { numeric: 4110, status: 400, message: 'Unknown stream' },
  BAD_REQUEST: { numeric: 4111, status: 400, message: 'Malformed request' },
  URI_TOO_LONG: { numeric: 4112, status: 414, message: 'URI too long' },
  HEADERS_TOO_LARGE: { numeric: 4113, status: 431, message: 'Request headers too large' },
  UNSUPPORTED_MEDIA_TYPE: { numeric: 4114, status: 415, message: 'Content-Type must be application/json' },
  REQUEST_TIMEOUT: { numeric: 4115, status: 408, message: 'Request timed out' },
  // trading
  INVALID_ORDER: { numeric: 4200, status: 400, message: 'Invalid order' },
  PRICE_OFF_TICK: { numeric: 4201, status: 400, message: 'Price is not on the tick grid' },
  PRICE_OUT_OF_BAND: { numeric: 4202, status: 400, message: 'Price is outside the allowed band' },
  QUANTITY_INVALID: { numeric: 4203, status: 400, message: 'Quantity must be a positive whole number of contracts' },
  ORDER_NOT_FOUND: { numeric: 4204, status: 404, message: 'Order not found' },
  ORDER_NOT_CANCELLABLE: { numeric: 4205, status: 409, message: 'Order is no longer open' },
  COMPLIANCE_REJECTED: { numeric: 4206, status: 422, message: 'Order rejected by compliance' },
  CLIENT_ORDER_ID_CONFLICT: { numeric: 4207, status: 409, message: 'clientOrderId was used for a different order' },
  NO_LIQUIDITY: { numeric: 4208, status: 422, message: 'No liquidity' },
  ORDER_NOT_OPEN: { numeric: 4209, status: 409, message: 'Order is no longer open: it cannot be amended' },
  INVALID_QUANTITY: { numeric: 4210, status: 409, message: 'The new quantity must exceed the quantity already filled' },
  NO_POSITION: { numeric: 4211, status: 409, message: 'No position to flatten' },
  /** the user's kill switch is on: new orders and amends are refused, cancels allowed */
  TRADING_DISABLED: { numeric: 4212, status: 403, message: 'Trading is disabled for this account' },
  /** the commodity is halted (a velocity halt or an operator's): new orders and amends are refused, cancels allowed */
  MARKET_HALTED: { numeric: 4213, status: 409, message: 'Trading in this market is halted' },
  /** the commodity's trading session is closed: new orders and amends are refused, cancels allowed */
  MARKET_CLOSED: { numeric: 4214, status: 409, message: 'The market is closed' },
  // server
  SERVICE_UNAVAILABLE: { numeric: 5001, status: 503, message: 'Service unavailable' },
  ENGINE_UNAVAILABLE: { numeric: 5002, status: 503, message: 'No trading engine is available; the order was not executed' },
  INTERNAL: { numeric: 5000, status: 500, message: 'Internal error' },
} as const satisfies Record<string, { numeric: number; status: number; message: string }>;

export type ErrorCodeName = keyof typeof ErrorCode;

/** The wire shape of an error: `{code, message}` (plus `field` when one field is at fault). */
export interface WireError {
  code: ErrorCodeName;
  message: string;
  field?: string;
  /** `RATE_LIMITED`: how long until a request would be accepted, in ms */
  retryAfterMs?: number;
}

export function wireError(code: ErrorCodeName, message?: string, field?: string): WireError {
  const e: WireError = { code, message: message ?? ErrorCode[code].message };
  if (field !== undefined) e.field = field;
  return e;
}

/** Why the server closed a socket; sent as `disconnect-reason` just before it does. */
export const DisconnectCode = {
  SLOW_CONSUMER: { numeric: 4500, message: 'Client could not keep up with its private event stream' },
  ABUSE: { numeric: 4501, message: 'Sustained rate-limit or protocol abuse' },
  AUTH_FAILURES: { numeric: 4502, message: 'Too many failed authentication attempts' },
  SHUTDOWN: { numeric: 4503, message: 'Server shutting down' },
  AUTH_TIMEOUT: { numeric: 4504, message: 'Not authenticated in time' },
  USER_DISCONNECTED: { numeric: 4505, message: 'Disconnected by an operator' },
} as const;
export type DisconnectCodeName = keyof typeof DisconnectCode;
