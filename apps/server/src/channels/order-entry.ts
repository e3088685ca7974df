/**
 * Trading over the socket (addition, opt-in): `place-order`, `cancel-order`, `amend-order` and
 * `cancel-all-orders`, answered through the acknowledgement with the same body as the REST calls
 * (the same coded errors, authorization, limits and clientOrderId idempotency: the trading core
 * decides, wherever it runs); the owner's `order-update`s and `trade-update`s follow as for REST.
 * The connection carries the safety nets exchanges give it: `cancel-on-disconnect` (the orders
 * placed through this socket, or all the user's, are cancelled when it ends and is not recovered)
 * and `cancel-all-after` (the dead-man's switch).
 */
import {
  ClientEvent,
  amendOrderPayloadSchema,
  cancelAllAfterPayloadSchema,
  cancelAllOrdersPayloadSchema,
  cancelOnDisconnectPayloadSchema,
  cancelOrderPayloadSchema,
  describeZodError,
  placeOrderPayloadSchema,
  type WireError,
} from '@qx/protocol';
import type { Logger } from 'pino';
import type { PathTimes, TradingApi } from '../backplane/backplane.js';
import type { SubmitOutcome } from '../core/outcomes.js';
import { wallClock } from '../core/wall-clock.js';
import { outcomeOf, traceRequest, type TraceSpan } from '../tracing/order-tracing.js';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { QxSocket } from '../realtime/types.js';
import type { Channel } from './channel.js';

export interface OrderEntryDeps {
  trading: TradingApi;
  /** this node (cancel-on-disconnect watches the node a connection is on) */
  nodeId: string;
  /** the socket's recoverable state changed (a cluster saves its session) */
  touch: (socket: QxSocket) => void;
  logger: Logger;
}

export function orderEntryChannel(deps: OrderEntryDeps): Channel {
  const { trading } = deps;

  /** `INVALID_ORDER` naming the field, as REST answers a bad order body. */
  function invalid(error: Parameters<typeof describeZodError>[0]): Outcome {
    const { field, message } = describeZodError(error);
    return failure('INVALID_ORDER', message, field || undefined);
  }

  /** The outcome as the ack answers it (`span`: the request's, ended with it when traced). */
  function answered(outcome: SubmitOutcome, span: TraceSpan | null): Outcome {
    span?.end(outcomeOf(outcome));
    if (outcome.ok) return success(null, { order: outcome.order });
    return refused(outcome.error, outcome.order ? { order: outcome.order } : undefined);
  }

  function refused(error: WireError, extra?: object): Outcome {
    return { ok: false, error, ...(extra ? { extra } : {}) };
  }

  const userOf = (socket: QxSocket): string => socket.data.auth!.userId;
  const received = (): PathTimes => ({ receivedAt: wallClock() });

  async function place(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const times = received();
    const body = placeOrderPayloadSchema.safeParse(payload);
    if (!body.success) return invalid(body.error);
    // the orders this connection cancels on disconnect are the ones placed through it
    const origin = socket.data.cancelOnDisconnect === 'connection' ? { connection: socket.id } : undefined;
    const span = traceRequest({ transport: 'socket.io', event: ClientEvent.PlaceOrder, userId: userOf(socket), commodity: body.data.commodity }, times);
    return answered(await trading.submit(userOf(socket), body.data, times, origin), span);
  }

  async function cancel(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const times = received();
    const body = cancelOrderPayloadSchema.safeParse(payload);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return failure('INVALID_PAYLOAD', `Expected {orderId} or an order id (${message})`, field || 'orderId');
    }
    const span = traceRequest({ transport: 'socket.io', event: ClientEvent.CancelOrder, userId: userOf(socket), orderId: body.data.orderId }, times);
    return answered(await trading.cancel(userOf(socket), body.data.orderId, times), span);
  }

  async function amend(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const times = received();
    const body = amendOrderPayloadSchema.safeParse(payload);
    if (!body.success) return invalid(body.error);
    const { orderId, ...change } = body.data;
    const span = traceRequest({ transport: 'socket.io', event: ClientEvent.AmendOrder, userId: userOf(socket), orderId }, times);
    return answered(await trading.amend(userOf(socket), orderId, change, times), span);
  }

  async function cancelAll(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const body = cancelAllOrdersPayloadSchema.safeParse(payload);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return failure('INVALID_PAYLOAD', `Expected {commodity?} or nothing (${message})`, field || undefined);
    }
    const outcome = await trading.cancelAll(userOf(socket), body.data.commodity);
    return outcome.ok ? success(null, { cancelled: outcome.cancelled }) : refused(outcome.error);
  }

  async function cancelOnDisconnect(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const body = cancelOnDisconnectPayloadSchema.safeParse(payload);
    if (!body.success) return failure('INVALID_PAYLOAD', 'Expected {scope: "connection" | "account" | "off"}', 'scope');
    const { scope } = body.data;
    const outcome = await trading.setCancelOnDisconnect(userOf(socket), socket.id, deps.nodeId, scope);
    if (!outcome.ok) return refused(outcome.error);
    socket.data.cancelOnDisconnect = scope === 'off' ? undefined : scope;
    deps.touch(socket);
    return success(null, { scope });
  }

  async function cancelAllAfter(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const body = cancelAllAfterPayloadSchema.safeParse(payload);
    if (!body.success) {
      const { message } = describeZodError(body.error);
      return failure('INVALID_PAYLOAD', `Expected {timeoutMs}: ${message}`, 'timeoutMs');
    }
    const outcome = await trading.cancelAllAfter(userOf(socket), body.data.timeoutMs);
    if (!outcome.ok) return refused(outcome.error);
    return success(null, { timeoutMs: outcome.timeoutMs, firesAt: outcome.firesAt === null ? null : new Date(outcome.firesAt).toISOString() });
  }

  return {
    name: 'order-entry',
    handlers: {
      [ClientEvent.PlaceOrder]: place,
      [ClientEvent.CancelOrder]: cancel,
      [ClientEvent.AmendOrder]: amend,
      [ClientEvent.CancelAllOrders]: cancelAll,
      [ClientEvent.CancelOnDisconnect]: cancelOnDisconnect,
      [ClientEvent.CancelAllAfter]: cancelAllAfter,
    },
    onDisconnected(socket) {
      // the core cancels after the grace unless the connection comes back (on any node)
      if (socket.data.cancelOnDisconnect) void trading.connectionLost(socket.id).catch((err: unknown) => deps.logger.error({ err, socket: socket.id }, 'cancel-on-disconnect: the loss of a connection was not heard'));
    },
    onRecovered(socket) {
      if (socket.data.cancelOnDisconnect) void trading.connectionRestored(socket.id, deps.nodeId).catch((err: unknown) => deps.logger.error({ err, socket: socket.id }, 'cancel-on-disconnect: a recovered connection was not heard'));
    },
  };
}
