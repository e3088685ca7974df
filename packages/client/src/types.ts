/** The SDK's public options and the events a user can listen to. */
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type { AuthSuccess, DataEventName, DisconnectNotice, Envelope, MarketStatusPayload, MarketTrade } from '@qx/protocol/wire';
import type { BookApplied, BookView } from './order-book.js';
import type { QuantEnergxError } from './errors.js';
import type { FetchLike } from './event-log-api.js';

export interface QuantEnergxClientOptions {
  /** the gateway, e.g. `http://localhost:3001` */
  url: string;
  userId: string;
  /** a JWT for `userId`; optional when `getToken` is given */
  token?: string;
  /**
   * Returns a fresh JWT (a provider: called when a token is needed). Called for the first token,
   * before the current one expires, when the gateway says "Token expired" or refuses the token
   * held (a restart with a new key, a key rotation: one fresh token is tried), and before a
   * reconnect when the token on hand is about to lapse.
   */
  getToken?: () => string | Promise<string>;
  /** `handshake` (default): the token rides in the Socket.IO handshake; `event`: the seed's `authenticate` event after connecting */
  authMode?: 'handshake' | 'event';
  /** how long a request may take in all, waiting for authentication included (default 10 000 ms) */
  requestTimeoutMs?: number;
  /** how long `connect()` waits for the first authentication before it gives up (default 30 000 ms) */
  connectTimeoutMs?: number;
  /** order calls answered by nothing (a timeout, a connection lost before the answer, an unreachable gateway, `ENGINE_UNAVAILABLE`) are sent again this many times, with the same `clientOrderId` (default 2) */
  orderRetries?: number;
  /** fetch a fresh token before the current one expires (default true); when false, only after the gateway says "Token expired" */
  refreshBeforeExpiry?: boolean;
  /** refresh the token this long before it expires, at most a fifth of its remaining life (default 30 000 ms) */
  refreshLeadMs?: number;
  /** how long a gap in a private stream may wait for `resume` before the REST event log is read (default 3 000 ms) */
  gapTimeoutMs?: number;
  /** the most events the gateway replays for one `resume`; a full replay means more may remain (default 1 000) */
  serverReplayLimit?: number;
  /** read each private stream's position from the REST event log when subscribing, so a reconnect before its first event loses nothing (default true) */
  fetchStreamPositions?: boolean;
  /** reconnect backoff: exponential from `delayMs` to `delayMaxMs`, randomized by ±`jitter` (defaults 500, 10 000, 0.5) */
  reconnection?: { delayMs?: number; delayMaxMs?: number; jitter?: number; attempts?: number };
  /** base URL of the REST API (default: the origin of `url`) */
  restUrl?: string;
  fetch?: FetchLike;
  /** passed to socket.io-client as they are (after the SDK's own) */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface StreamGap {
  stream: string;
  /** the first and last seq that could not be recovered */
  from: number;
  to: number;
}

export interface ConnectInfo {
  /** Socket.IO connection state recovery kept the session (rooms, authentication) */
  recovered: boolean;
}

export interface DisconnectInfo {
  /** Socket.IO's reason (`transport close`, `io server disconnect`, ...) */
  reason: string;
  /** what the gateway said just before it closed the socket, if it did */
  notice: DisconnectNotice | null;
  /** whether the client will reconnect by itself */
  willReconnect: boolean;
}

export interface QuantEnergxClientEvents {
  'market-update': (envelope: Envelope<'market-update'>) => void;
  'trade-update': (envelope: Envelope<'trade-update'>) => void;
  'order-update': (envelope: Envelope<'order-update'>) => void;
  'system-alert': (envelope: Envelope<'system-alert'>) => void;
  'compliance-alert': (envelope: Envelope<'compliance-alert'>) => void;
  connect: (info: ConnectInfo) => void;
  disconnect: (info: DisconnectInfo) => void;
  /** every `auth-success`: the first sign-in, each token refresh, each new session */
  authenticated: (data: AuthSuccess) => void;
  /** every authentication failure, including "Token expired" (which the client then refreshes) and a refused token it retries with a fresh one */
  'auth-error': (error: QuantEnergxError) => void;
  /** the client gave up for good (credentials refused again with a fresh token, reconnection exhausted); requests reject with this error until `connect()` is called again */
  failed: (error: QuantEnergxError) => void;
  /** every `request-error` the gateway sends (a request's promise rejects with the same error) */
  'request-error': (error: QuantEnergxError) => void;
  /** why the gateway is closing the connection (slow consumer, abuse, shutdown) */
  'disconnect-reason': (notice: DisconnectNotice) => void;
  /** private events that could not be recovered from the gateway (pruned from its event log) */
  'stream-gap': (gap: StreamGap) => void;
  /** a streamed book after its snapshot and after each update that checked out */
  book: (book: BookView) => void;
  /** a streamed book failed its checksum or skipped a seq: a fresh snapshot has been asked for */
  'book-resync': (info: { commodity: string; reason: Exclude<BookApplied, 'applied' | 'stale'> }) => void;
  /** one trade of the public tape (`subscribe-trades`) */
  'market-trade': (trade: MarketTrade) => void;
  /** a commodity's market status (`subscribe-status`): the current one on subscribing, then each change */
  'market-status': (status: MarketStatusPayload) => void;
  /** anything else that went wrong in the background (event log unreachable, a listener threw) */
  error: (error: Error) => void;
}

export type DataListenerEvent = Extract<keyof QuantEnergxClientEvents, DataEventName>;
