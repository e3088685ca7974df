/**
 * Requests and their acks: one attempt (`call`) emits with a Socket.IO acknowledgement and maps the
 * answer, or its absence, onto the confirmation or a coded error; a user request (`request`) waits
 * until the client is authenticated and is sent again when the connection dropped before its answer
 * or the token lapsed meanwhile (every request of the protocol is idempotent).
 */
import type {
  AckResponse,
  AuthSuccess,
  BookConfirmation,
  BookUnsubscribed,
  ClientEvent,
  MarketConfirmation,
  Pong,
  Resumed,
  RoomConfirmation,
  UserRoomConfirmation,
} from '@qx/protocol';
import type { ClientContext } from './context.js';
import { QuantEnergxError } from './errors.js';

/** What each request's ack carries on success (`ok` removed). */
export interface AckBodies {
  [ClientEvent.Authenticate]: AuthSuccess;
  [ClientEvent.JoinTrading]: RoomConfirmation;
  [ClientEvent.LeaveTrading]: RoomConfirmation;
  [ClientEvent.SubscribeMarket]: MarketConfirmation;
  [ClientEvent.UnsubscribeMarket]: MarketConfirmation;
  [ClientEvent.SubscribeOrders]: UserRoomConfirmation;
  [ClientEvent.UnsubscribeOrders]: UserRoomConfirmation;
  [ClientEvent.SubscribeCompliance]: UserRoomConfirmation;
  [ClientEvent.UnsubscribeCompliance]: UserRoomConfirmation;
  [ClientEvent.Ping]: Pong;
  [ClientEvent.Resume]: Resumed;
  [ClientEvent.SubscribeBook]: BookConfirmation;
  [ClientEvent.UnsubscribeBook]: BookUnsubscribed;
  [ClientEvent.SubscribeTrades]: MarketConfirmation;
  [ClientEvent.UnsubscribeTrades]: MarketConfirmation;
}
export type RequestEvent = keyof AckBodies;

/** What requests need to know of the connection and authentication (the session). */
export interface AuthGate {
  readonly started: boolean;
  readonly closed: boolean;
  whenAuthenticated(): Promise<void>;
  /** the gateway answered as if this socket were not authenticated (any more): refresh */
  authLost(): void;
}

export class Requests {
  constructor(
    private readonly ctx: ClientContext,
    private readonly gate: AuthGate,
  ) {}

  /** A user request: waits until authenticated; sent again after a drop or a lapsed token. */
  async request<E extends RequestEvent>(event: E, payload: unknown): Promise<AckBodies[E]> {
    if (!this.gate.started) throw new QuantEnergxError('NOT_CONNECTED', 'Call connect() first', { event });
    for (;;) {
      await this.gate.whenAuthenticated();
      try {
        return await this.call(event, payload);
      } catch (err) {
        if (this.gate.closed) throw new QuantEnergxError('CLIENT_CLOSED', 'The client was closed', { event });
        if (err instanceof QuantEnergxError && (err.code === 'TOKEN_EXPIRED' || err.code === 'NOT_AUTHENTICATED')) {
          this.gate.authLost();
          continue;
        }
        if (err instanceof QuantEnergxError && err.code === 'REQUEST_TIMEOUT' && !this.ctx.socket.connected) continue;
        throw err;
      }
    }
  }

  /** One attempt: emits with an ack and maps the answer (or its absence) onto a result or a coded error. */
  async call<E extends RequestEvent>(event: E, payload: unknown): Promise<AckBodies[E]> {
    const emitter = this.ctx.socket.timeout(this.ctx.requestTimeoutMs) as unknown as {
      emitWithAck(event: string, ...args: unknown[]): Promise<AckResponse<AckBodies[E]>>;
    };
    let response: AckResponse<AckBodies[E]>;
    try {
      response = payload === undefined ? await emitter.emitWithAck(event) : await emitter.emitWithAck(event, payload);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new QuantEnergxError('REQUEST_TIMEOUT', `${event}: no answer (${reason})`, { event, cause: err });
    }
    if (!response.ok) throw QuantEnergxError.fromWire(response.error, event);
    const { ok: _ok, ...body } = response;
    return body as unknown as AckBodies[E];
  }
}
