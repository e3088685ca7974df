/**
 * The typed contract, shared by the server (`Server<ClientToServerEvents, ServerToClientEvents>`)
 * and every TypeScript client.
 */
import type { Envelope } from './envelopes.js';
import type { ErrorCodeName, WireError, DisconnectCodeName } from './errors.js';
import type { BookConfirmation, BookSnapshot, BookUnsubscribed, BookUpdate, MarketTrade } from './book.js';
import type { CancelOnDisconnectScope, MarketStatusPayload, OrderRequestBody, OrderUpdatePayload } from './schemas.js';

export interface AuthSuccess {
  message: string;
  userId: string;
  /** additions: when the token expires (ISO) and the roles it grants */
  expiresAt: string | null;
  roles: string[];
}
export interface AuthError {
  message: string;
  code: ErrorCodeName;
}
export interface RoomConfirmation {
  room: string;
  message: string;
}
export interface UserRoomConfirmation {
  userId: string;
  room: string;
  message: string;
}
export interface MarketConfirmation {
  commodities: string[];
  message: string;
}
export interface Pong {
  timestamp: number;
}
export interface RequestError {
  event: string;
  code: ErrorCodeName;
  message: string;
  field?: string;
  /** `RATE_LIMITED`: how long until a request would be accepted, in ms */
  retryAfterMs?: number;
}
export interface Resumed {
  /** per stream: how many missed envelopes were replayed, and the last seq now held */
  streams: Record<string, { replayed: number; lastSeq: number }>;
}
export interface DisconnectNotice {
  code: DisconnectCodeName;
  numeric: number;
  message: string;
}

/**
 * Sent once after connecting. Its last argument is a string, which is what lets a Socket.IO
 * client present an offset when it reconnects, and so have its session (rooms, authentication)
 * recovered after a short disconnect. Clients that do not listen for it lose nothing.
 */
export interface SessionInfo {
  recovered: boolean;
  /** how long a dropped connection stays recoverable, in ms */
  recoveryWindowMs: number;
}

/** The ack of `place-order`, `cancel-order` and `amend-order`: the order, as the REST call answers it. */
export interface OrderAck {
  order: OrderUpdatePayload;
}
/** The ack of `cancel-all-orders`: every order it cancelled. */
export interface CancelAllAck {
  cancelled: OrderUpdatePayload[];
}
/** The ack of `cancel-on-disconnect`: the scope now in force for this socket. */
export interface CancelOnDisconnectAck {
  scope: CancelOnDisconnectScope;
}
/** The ack of `cancel-all-after`: when the user's open orders will be cancelled (ISO), null once disarmed. */
export interface CancelAllAfterAck {
  timeoutMs: number;
  firesAt: string | null;
}

export type AckResponse<T = object> = ({ ok: true } & T) | { ok: false; error: WireError };
export type Ack<T = object> = (response: AckResponse<T>) => void;

export interface ClientToServerEvents {
  authenticate: (payload: { userId: string; token: string }, ack?: Ack<AuthSuccess>) => void;
  'join-trading': (userId: string, ack?: Ack<RoomConfirmation>) => void;
  'leave-trading': (userId: string, ack?: Ack<RoomConfirmation>) => void;
  'subscribe-market': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
  'unsubscribe-market': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
  'subscribe-orders': (userId: string, ack?: Ack<UserRoomConfirmation>) => void;
  'unsubscribe-orders': (userId: string, ack?: Ack<UserRoomConfirmation>) => void;
  'subscribe-compliance': (userId: string, ack?: Ack<UserRoomConfirmation>) => void;
  'unsubscribe-compliance': (userId: string, ack?: Ack<UserRoomConfirmation>) => void;
  ping: (ack?: Ack<Pong>) => void;
  resume: (lastSeqs: Record<string, number>, ack?: Ack<Resumed>) => void;
  'subscribe-book': (request: { commodity: string; depth?: number } | { commodities: string[]; depth?: number } | string[] | string, ack?: Ack<BookConfirmation>) => void;
  'unsubscribe-book': (request: { commodity: string } | { commodities: string[] } | string[] | string, ack?: Ack<BookUnsubscribed>) => void;
  'subscribe-trades': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
  'unsubscribe-trades': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
  'place-order': (order: OrderRequestBody, ack?: Ack<OrderAck>) => void;
  'cancel-order': (request: { orderId: string } | string, ack?: Ack<OrderAck>) => void;
  'amend-order': (request: { orderId: string; price?: number | string; quantity?: number }, ack?: Ack<OrderAck>) => void;
  /** `{commodity?}`; on the wire the payload may be left out altogether */
  'cancel-all-orders': (request: { commodity?: string } | undefined, ack?: Ack<CancelAllAck>) => void;
  'cancel-on-disconnect': (request: { scope: CancelOnDisconnectScope }, ack?: Ack<CancelOnDisconnectAck>) => void;
  'cancel-all-after': (request: { timeoutMs: number }, ack?: Ack<CancelAllAfterAck>) => void;
  'subscribe-status': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
  'unsubscribe-status': (commodities: string[] | string, ack?: Ack<MarketConfirmation>) => void;
}

export interface ServerToClientEvents {
  'auth-success': (data: AuthSuccess) => void;
  'auth-error': (data: AuthError) => void;
  'trading-joined': (data: RoomConfirmation) => void;
  'trading-left': (data: RoomConfirmation) => void;
  'market-subscribed': (data: MarketConfirmation) => void;
  'market-unsubscribed': (data: MarketConfirmation) => void;
  'orders-subscribed': (data: UserRoomConfirmation) => void;
  'orders-unsubscribed': (data: UserRoomConfirmation) => void;
  'compliance-subscribed': (data: UserRoomConfirmation) => void;
  'compliance-unsubscribed': (data: UserRoomConfirmation) => void;
  'market-update': (data: Envelope<'market-update'>) => void;
  'trade-update': (data: Envelope<'trade-update'>) => void;
  'order-update': (data: Envelope<'order-update'>) => void;
  'system-alert': (data: Envelope<'system-alert'>) => void;
  'compliance-alert': (data: Envelope<'compliance-alert'>) => void;
  pong: (data: Pong) => void;
  resumed: (data: Resumed) => void;
  session: (data: SessionInfo, offset: string) => void;
  'request-error': (data: RequestError) => void;
  'disconnect-reason': (data: DisconnectNotice) => void;
  'book-subscribed': (data: BookConfirmation) => void;
  'book-unsubscribed': (data: BookUnsubscribed) => void;
  'trades-subscribed': (data: MarketConfirmation) => void;
  'trades-unsubscribed': (data: MarketConfirmation) => void;
  'book-snapshot': (data: BookSnapshot) => void;
  'book-update': (data: BookUpdate) => void;
  'market-trade': (data: MarketTrade) => void;
  'status-subscribed': (data: MarketConfirmation) => void;
  'status-unsubscribed': (data: MarketConfirmation) => void;
  'market-status': (data: MarketStatusPayload) => void;
}
