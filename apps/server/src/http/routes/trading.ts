/**
 * Orders over REST, with the same JWT as the sockets: place (idempotent by clientOrderId), list,
 * get, amend (cancel/replace) and cancel one's own orders (another user's order is a 404), cancel
 * them all, trades, positions and flattening a position.
 */
import type { FastifyInstance } from 'fastify';
import type { Exchange, TradeRecord } from '@qx/engine';
import { tradeToWire } from '@qx/engine';
import {
  ErrorCode,
  cancelAllAfterPayloadSchema,
  cancelAllQuerySchema,
  commoditySchema,
  describeZodError,
  flattenRequestSchema,
  orderAmendSchema,
  orderListQuerySchema,
  orderRequestSchema,
  tradeListQuerySchema,
  type ErrorCodeName,
} from '@qx/protocol';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import { isUnavailable, type TradingApi } from '../../backplane/backplane.js';
import type { Store } from '../../store/store.js';
import { bearerAuth } from '../bearer.js';
import { wallClock } from '../../core/wall-clock.js';
import { sendError } from '../errors.js';
import { outcomeOf, traceRequest } from '../../tracing/order-tracing.js';
import { z } from 'zod';

export interface TradingRouteDeps {
  /** the trading core: in this process, or the cluster's engine leader */
  trading: TradingApi;
  store: Store;
  exchange: Exchange;
  verifier: TokenVerifier;
}

const orderIdParam = z.strictObject({ id: z.string().min(1).max(128) });

export function tradingRoutes(app: FastifyInstance, deps: TradingRouteDeps): void {
  const auth = { preHandler: bearerAuth(deps.verifier) };

  app.post('/api/v1/trading/orders', auth, async (request, reply) => {
    const times = { receivedAt: wallClock() };
    const body = orderRequestSchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_ORDER', message, field || undefined);
    }
    const span = traceRequest({ transport: 'http', method: 'POST', route: '/api/v1/trading/orders', userId: request.user!.userId, commodity: body.data.commodity }, times);
    const outcome = await deps.trading.submit(request.user!.userId, body.data, times);
    span?.end(outcomeOf(outcome, outcome.ok ? 201 : statusOf(outcome.error.code)));
    if (outcome.ok) {
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ order: outcome.order });
    }
    return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error, ...(outcome.order ? { order: outcome.order } : {}) });
  });

  app.get('/api/v1/trading/orders', auth, async (request, reply) => {
    const q = orderListQuerySchema.safeParse(request.query);
    if (!q.success) {
      const { field, message } = describeZodError(q.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const records = await deps.store.orders({ userId: request.user!.userId, ...q.data, limit: q.data.limit + 1 });
    const page = records.slice(0, q.data.limit);
    const last = page.at(-1);
    return {
      orders: page.map((r) => deps.exchange.wire(r)),
      nextCursor: records.length > q.data.limit && last ? String(last.priority) : null,
    };
  });

  app.get('/api/v1/trading/orders/:id', auth, async (request, reply) => {
    const params = orderIdParam.safeParse(request.params);
    const record = params.success ? await deps.store.order(params.data.id) : null;
    // another user's order does not exist, as far as this caller can tell
    if (!record || record.userId !== request.user!.userId) return sendError(reply, 'ORDER_NOT_FOUND');
    return { order: deps.exchange.wire(record) };
  });

  app.delete('/api/v1/trading/orders/:id', auth, async (request, reply) => {
    const times = { receivedAt: wallClock() };
    const params = orderIdParam.safeParse(request.params);
    if (!params.success) return sendError(reply, 'ORDER_NOT_FOUND');
    // straight to the engine, which knows whose each order is (another user's is not found there
    // either) and answers a closed one ORDER_NOT_CANCELLABLE with the order: no read of the store first
    const userId = request.user!.userId;
    const span = traceRequest({ transport: 'http', method: 'DELETE', route: '/api/v1/trading/orders/:id', userId, orderId: params.data.id }, times);
    const outcome = await deps.trading.cancel(userId, params.data.id, times);
    span?.end(outcomeOf(outcome, outcome.ok ? 200 : statusOf(outcome.error.code)));
    if (outcome.ok) return { order: outcome.order };
    return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error, ...(outcome.order ? { order: outcome.order } : {}) });
  });

  app.patch('/api/v1/trading/orders/:id', auth, async (request, reply) => {
    const times = { receivedAt: wallClock() };
    const params = orderIdParam.safeParse(request.params);
    const body = orderAmendSchema.safeParse(request.body ?? {});
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_ORDER', message, field || undefined);
    }
    const record = params.success ? await deps.store.order(params.data.id) : null;
    if (!record || record.userId !== request.user!.userId) return sendError(reply, 'ORDER_NOT_FOUND');
    if (record.status !== 'new' && record.status !== 'partially_filled') {
      return reply.code(statusOf('ORDER_NOT_OPEN')).send({
        error: { code: 'ORDER_NOT_OPEN', message: `Order ${record.id} is ${record.status}: it cannot be amended` },
        order: deps.exchange.wire(record),
      });
    }
    const span = traceRequest({ transport: 'http', method: 'PATCH', route: '/api/v1/trading/orders/:id', userId: record.userId, commodity: record.commodity, orderId: record.id }, times);
    const outcome = await deps.trading.amend(request.user!.userId, record.id, body.data, times);
    span?.end(outcomeOf(outcome, outcome.ok ? 200 : statusOf(outcome.error.code)));
    if (outcome.ok) return { order: outcome.order };
    return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error, ...(outcome.order ? { order: outcome.order } : {}) });
  });

  app.delete('/api/v1/trading/orders', auth, async (request, reply) => {
    const q = cancelAllQuerySchema.safeParse(request.query);
    if (!q.success) {
      const { field, message } = describeZodError(q.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const outcome = await deps.trading.cancelAll(request.user!.userId, q.data.commodity);
    if (outcome.ok) return { cancelled: outcome.cancelled };
    return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error });
  });

  app.post('/api/v1/trading/positions/:commodity/flatten', auth, async (request, reply) => {
    const params = z.strictObject({ commodity: commoditySchema }).safeParse(request.params);
    const commodity = params.success ? params.data.commodity : '';
    if (!deps.exchange.market(commodity)) return sendError(reply, 'UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity');
    const body = flattenRequestSchema.safeParse(request.body ?? {});
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_ORDER', message, field || undefined);
    }
    const outcome = await deps.trading.flatten(request.user!.userId, commodity, body.data.clientOrderId);
    if (outcome.ok) {
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ order: outcome.order });
    }
    return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error, ...(outcome.order ? { order: outcome.order } : {}) });
  });

  // the dead-man's switch (Kraken's cancel_all_orders_after): re-armed by each call, 0 disarms
  app.post('/api/v1/trading/cancel-all-after', auth, async (request, reply) => {
    const body = cancelAllAfterPayloadSchema.safeParse(request.body);
    if (!body.success) {
      const { message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', `Expected {timeoutMs}: ${message}`, 'timeoutMs');
    }
    const outcome = await deps.trading.cancelAllAfter(request.user!.userId, body.data.timeoutMs);
    if (!outcome.ok) return reply.code(statusOf(outcome.error.code)).send({ error: outcome.error });
    return { timeoutMs: outcome.timeoutMs, firesAt: outcome.firesAt === null ? null : new Date(outcome.firesAt).toISOString() };
  });

  app.get('/api/v1/trading/trades', auth, async (request, reply) => {
    const q = tradeListQuerySchema.safeParse(request.query);
    if (!q.success) {
      const { field, message } = describeZodError(q.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const records = await deps.store.trades({ userId: request.user!.userId, ...q.data, limit: q.data.limit + 1 });
    const page = records.slice(0, q.data.limit);
    const last = page.at(-1);
    return {
      trades: page.map((t) => wireTrade(deps.exchange, t)),
      nextCursor: records.length > q.data.limit && last ? String(last.seq) : null,
    };
  });

  app.get('/api/v1/trading/positions', auth, async (request, reply) => {
    const positions = await deps.trading.positions(request.user!.userId);
    if (isUnavailable(positions)) return sendError(reply, 'ENGINE_UNAVAILABLE');
    return { positions };
  });

  app.get('/api/v1/market/:commodity/book', auth, async (request, reply) => {
    const params = z.strictObject({ commodity: z.string().max(64) }).safeParse(request.params);
    const query = z.strictObject({ depth: z.coerce.number().int().min(1).max(100).default(10) }).safeParse(request.query);
    if (!query.success) return sendError(reply, 'INVALID_PAYLOAD', describeZodError(query.error).message, 'depth');
    const book = params.success && deps.exchange.market(params.data.commodity) ? await deps.trading.book(params.data.commodity, query.data.depth) : null;
    if (isUnavailable(book)) return sendError(reply, 'ENGINE_UNAVAILABLE');
    if (!book) return sendError(reply, 'UNKNOWN_COMMODITY', `Unknown commodity: ${params.success ? params.data.commodity : ''}`, 'commodity');
    return book;
  });
}

function wireTrade(exchange: Exchange, trade: TradeRecord) {
  const market = exchange.market(trade.commodity);
  return market ? tradeToWire(trade, market.grid) : trade;
}

function statusOf(code: ErrorCodeName): number {
  return ErrorCode[code].status;
}
