/**
 * Every request gets an answer: on success the documented confirmation event (and the ack
 * `{ok: true, ...body}`), on failure `request-error {event, code, message}` (and the ack
 * `{ok: false, error}`); authentication failures answer with the seed's `auth-error`.
 */
import { ClientEvent, ServerEvent, wireError, type ErrorCodeName, type ServerEventName, type WireError } from '@qx/protocol';
import type { QxSocket } from './types.js';
import type { Metrics } from '../metrics.js';

/**
 * A request's answer. `event` null: the ack carries it alone (socket order entry answers as REST
 * does, through the ack; the owner's order-updates follow as always). `extra`: more of the body
 * of a failure's ack (the order a refusal is about).
 */
export type Outcome = { ok: true; event: ServerEventName | null; body: object } | { ok: false; error: WireError; extra?: object | undefined };
export type AckFn = (response: unknown) => void;

export const success = (event: ServerEventName | null, body: object): Outcome => ({ ok: true, event, body });
export const failure = (code: ErrorCodeName, message?: string, field?: string): Outcome => ({
  ok: false,
  error: wireError(code, message, field),
});

/** `RATE_LIMITED`, saying when a request would be accepted again. */
export const rateLimited = (retryAfterMs: number, message: string): Outcome => ({
  ok: false,
  error: { ...wireError('RATE_LIMITED', message), retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) },
});

export function answer(socket: QxSocket, requestEvent: string, outcome: Outcome, ack: AckFn | undefined, metrics: Metrics): void {
  if (outcome.ok) {
    if (outcome.event !== null) (socket.emit as (event: string, body: object) => void)(outcome.event, outcome.body);
    ack?.({ ok: true, ...outcome.body });
    return;
  }
  metrics.requestErrors.labels(outcome.error.code).inc();
  if (requestEvent === ClientEvent.Authenticate) {
    socket.emit(ServerEvent.AuthError, { message: outcome.error.message, code: outcome.error.code });
  } else {
    socket.emit(ServerEvent.RequestError, { event: requestEvent, ...outcome.error });
  }
  ack?.({ ok: false, error: outcome.error, ...outcome.extra });
}
