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
  CancelAllAck,
  CancelAllAfterAck,
  CancelOnDisconnectAck,
  ClientEvent,
  MarketConfirmation,
  OrderAck,
  OrderUpdatePayload,
  Pong,
  Resumed,
  RoomConfirmation,
  UserRoomConfirmation,
} from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { QuantEnergxError, toQuantEnergxError } from './errors.js';

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
  [ClientEvent.SubscribeStatus]: MarketConfirmation;
  [ClientEvent.UnsubscribeStatus]: MarketConfirmation;
  [ClientEvent.PlaceOrder]: OrderAck;
  [ClientEvent.CancelOrder]: OrderAck;
  [ClientEvent.AmendOrder]: OrderAck;
  [ClientEvent.CancelAllOrders]: CancelAllAck;
  [ClientEvent.CancelOnDisconnect]: CancelOnDisconnectAck;
  [ClientEvent.CancelAllAfter]: CancelAllAfterAck;
}
export type RequestEvent = keyof AckBodies;

/** Per-call limits any request takes. */
export interface RequestOptions {
  /** rejects the call with `ABORTED` when it fires */
  signal?: AbortSignal;
  /** how long the call may take in all, waiting for authentication included (default: `requestTimeoutMs`) */
  timeoutMs?: number;
}

/** What requests need to know of the connection and authentication (the session). */
export interface AuthGate {
  readonly started: boolean;
  readonly closed: boolean;
  /** why the client gave up for good, if it did */
  readonly failure: QuantEnergxError | null;
  /** the latest connection failure, to say why a wait ran out */
  readonly lastConnectError: string | null;
  whenAuthenticated(): Promise<void>;
  /** the gateway answered as if this socket were not authenticated (any more): refresh */
  authLost(): void;
}

/** Something waiting that `close()` ends at once. */
type Cancel = (error: QuantEnergxError) => void;

/**
 * `work`, settled within `timeoutMs` (null: no limit of its own) with `timeout()`, at once with
 * `ABORTED` when `signal` fires, and with whatever `cancels` is handed (close()).
 */
export function bounded<T>(
  work: Promise<T>,
  opts: { event: string; timeoutMs: number | null; signal?: AbortSignal | undefined; timeout?: () => QuantEnergxError; cancels?: Set<Cancel> },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal, cancels } = opts;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cancels?.delete(cancel);
      settle();
    };
    const cancel: Cancel = (error) => finish(() => reject(error));
    const onAbort = (): void => cancel(new QuantEnergxError('ABORTED', `${opts.event}: aborted`, { event: opts.event, cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    cancels?.add(cancel);
    if (opts.timeoutMs !== null && Number.isFinite(opts.timeoutMs)) {
      const timeout = opts.timeout ?? (() => new QuantEnergxError('REQUEST_TIMEOUT', `${opts.event}: no answer within ${opts.timeoutMs} ms`, { event: opts.event }));
      timer = setTimeout(() => cancel(timeout()), Math.max(0, opts.timeoutMs));
    }
    work.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(toQuantEnergxError(err))),
    );
  });
}

export class Requests {
  /** requests sent or waiting to be sent: close() rejects them at once */
  readonly inFlight = new Set<Cancel>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly gate: AuthGate,
  ) {}

  /** Rejects everything waiting with `error` (close()). */
  cancelAll(error: QuantEnergxError): void {
    for (const cancel of [...this.inFlight]) cancel(error);
  }

  /**
   * A user request: waits until authenticated, and is sent again after a drop or a lapsed token,
   * all within its time limit (`REQUEST_TIMEOUT`, saying what it waited for).
   */
  async request<E extends RequestEvent>(event: E, payload: unknown, options: RequestOptions = {}): Promise<AckBodies[E]> {
    if (this.gate.closed) throw new QuantEnergxError('CLIENT_CLOSED', 'The client was closed', { event });
    if (this.gate.failure) throw this.withEvent(this.gate.failure, event, true);
    if (!this.gate.started) throw new QuantEnergxError('NOT_CONNECTED', 'Call connect() first', { event });
    const timeoutMs = options.timeoutMs ?? this.ctx.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await bounded(this.gate.whenAuthenticated(), {
          event,
          timeoutMs: deadline - Date.now(),
          signal: options.signal,
          cancels: this.inFlight,
          timeout: () => {
            const why = this.ctx.socket.connected ? 'not authenticated' : `not connected${this.gate.lastConnectError ? ` (${this.gate.lastConnectError})` : ''}`;
            return new QuantEnergxError('REQUEST_TIMEOUT', `${event}: ${why} within ${timeoutMs} ms`, { event });
          },
        });
      } catch (err) {
        throw this.withEvent(err, event, err === this.gate.failure);
      }
      try {
        return await this.call(event, payload, { signal: options.signal, timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        if (this.gate.closed) throw new QuantEnergxError('CLIENT_CLOSED', 'The client was closed', { event });
        if (!(err instanceof QuantEnergxError) || Date.now() >= deadline) throw err;
        if (err.code === 'TOKEN_EXPIRED' || err.code === 'NOT_AUTHENTICATED') {
          this.gate.authLost();
          continue;
        }
        if (err.code === 'REQUEST_TIMEOUT' && !this.ctx.socket.connected) continue;
        throw err;
      }
    }
  }

  /** One attempt: emits with an ack and maps the answer (or its absence) onto a result or a coded error. */
  call<E extends RequestEvent>(event: E, payload: unknown, options: RequestOptions = {}): Promise<AckBodies[E]> {
    const timeoutMs = options.timeoutMs ?? this.ctx.requestTimeoutMs;
    const emitter = this.ctx.socket.timeout(timeoutMs) as unknown as {
      emitWithAck(event: string, ...args: unknown[]): Promise<AckResponse<AckBodies[E]>>;
    };
    const attempt = (payload === undefined ? emitter.emitWithAck(event) : emitter.emitWithAck(event, payload)).then(
      (response) => {
        // an order call's refusal carries the order when the gateway recorded one (`{ok: false, error, order}`)
        if (!response.ok) throw QuantEnergxError.fromWire(response.error, event, (response as { order?: OrderUpdatePayload }).order);
        const { ok: _ok, ...body } = response;
        return body as unknown as AckBodies[E];
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        throw new QuantEnergxError('REQUEST_TIMEOUT', `${event}: no answer within ${timeoutMs} ms (${reason})`, { event, cause: err });
      },
    );
    // socket.io's own timeout ends the attempt; close() and the signal end it sooner
    return bounded(attempt, { event, timeoutMs: null, signal: options.signal, cancels: this.inFlight });
  }

  /** The error as this request's (the session's failure answers every request, each under its own name). */
  private withEvent(err: unknown, event: string, always = false): unknown {
    if (!(err instanceof QuantEnergxError) || (err.event !== undefined && !always)) return err;
    return new QuantEnergxError(err.code, err.message, { event, field: err.field, status: err.status, retryAfterMs: err.retryAfterMs, cause: err.cause });
  }
}
