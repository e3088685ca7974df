/**
 * `GET /api/v1/openapi.json`: an OpenAPI 3.1 description of the REST API. Request bodies and
 * event payloads come from the same zod schemas that validate them, so the document cannot drift.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  CANDLE_INTERVALS,
  MAX_CANDLES,
  complianceAlertPayloadSchema,
  marketUpdatePayloadSchema,
  cancelAllAfterPayloadSchema,
  flattenRequestSchema,
  marketHaltBodySchema,
  tradingControlBodySchema,
  orderAmendSchema,
  orderRequestSchema,
  orderUpdatePayloadSchema,
  publishBatchSchema,
  publishRequestSchema,
  systemAlertPayloadSchema,
  tradeUpdatePayloadSchema,
  userIdSchema,
} from '@qx/protocol';

const schema = (s: z.ZodType) => {
  const json = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
};

export function buildOpenApi(): object {
  const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
  const errorResponse = { description: 'Error', ...json('Error') };
  const bearer = [{ bearerJwt: [] }];
  const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
  const query = (name: string, type: string, description: string) => ({ name, in: 'query', required: false, schema: { type }, description });
  return {
    openapi: '3.1.0',
    info: { title: 'QuantEnergx Realtime REST API', version: '1.0.0', description: 'See docs/protocol.md for the Socket.IO protocol.' },
    components: {
      securitySchemes: {
        bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        publishKey: { type: 'http', scheme: 'bearer', description: 'PUBLISH_API_KEY' },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, retryAfterMs: { type: 'integer' } }, required: ['code', 'message'] } },
        },
        OrderRequest: schema(orderRequestSchema),
        OrderAmend: schema(orderAmendSchema),
        FlattenRequest: schema(flattenRequestSchema),
        CancelAllAfter: schema(cancelAllAfterPayloadSchema),
        TradingControl: schema(tradingControlBodySchema),
        MarketHalt: schema(marketHaltBodySchema),
        Order: schema(orderUpdatePayloadSchema),
        PublishRequest: schema(publishRequestSchema),
        MarketUpdate: schema(marketUpdatePayloadSchema),
        TradeUpdate: schema(tradeUpdatePayloadSchema),
        OrderUpdate: schema(orderUpdatePayloadSchema),
        SystemAlert: schema(systemAlertPayloadSchema),
        ComplianceAlert: schema(complianceAlertPayloadSchema),
        PublishBatch: schema(publishBatchSchema),
        DevTokenRequest: {
          type: 'object',
          properties: { userId: schema(userIdSchema), roles: { type: 'array', items: { enum: ['trader', 'compliance', 'risk', 'admin'] } } },
          required: ['userId'],
        },
      },
    },
    paths: {
      // with ADMIN_PORT set these three are served there instead (and answer 404 here)
      '/health': { get: { summary: 'Liveness (on ADMIN_PORT instead when it is set)', responses: { 200: ok('alive') } } },
      '/ready': { get: { summary: 'Readiness (on ADMIN_PORT instead when it is set)', responses: { 200: ok('ready'), 503: ok('not ready') } } },
      '/metrics': { get: { summary: 'Prometheus metrics (on ADMIN_PORT instead when it is set)', responses: { 200: { description: 'text exposition format' } } } },
      '/api/v1/auth/dev-token': {
        post: { summary: 'Demo mode only: a token for any userId', requestBody: json('DevTokenRequest'), responses: { 200: ok('token'), 400: errorResponse, 404: errorResponse } },
      },
      '/api/v1/publish': {
        post: {
          summary: 'Publish a data event to its rooms (back-end services)',
          security: [{ publishKey: [] }],
          requestBody: json('PublishRequest'),
          responses: { 202: ok('{event, stream, seq}'), 400: errorResponse, 401: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/publish/batch': {
        post: {
          summary: 'Publish up to 500 data events at once: all valid or none published',
          security: [{ publishKey: [] }],
          requestBody: json('PublishBatch'),
          responses: { 202: ok('{published: [{event, stream, seq}]}'), 400: errorResponse, 401: errorResponse, 413: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/users/{userId}/disconnect': {
        post: {
          summary: "Close every socket of the user, on every gateway (disconnect-reason USER_DISCONNECTED; not recoverable)",
          security: [{ publishKey: [] }],
          parameters: [{ name: 'userId', in: 'path', required: true, schema: schema(userIdSchema) }],
          responses: { 202: ok('{userId, disconnected: true}'), 400: errorResponse, 401: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/events': {
        get: {
          summary: 'Missed events of a stream, by sequence number',
          security: bearer,
          parameters: [
            { name: 'stream', in: 'query', required: true, schema: { type: 'string' }, description: 'orders-<userId>, trading-<userId>, compliance-<userId> or system' },
            query('after', 'integer', 'return events with seq > after'),
            query('limit', 'integer', '1-1000, default 100'),
          ],
          responses: { 200: ok('{stream, after, events, hasMore, lastSeq}'), 400: errorResponse, 401: errorResponse, 403: errorResponse },
        },
      },
      '/api/v1/market/commodities': { get: { summary: 'The commodity catalogue', security: bearer, responses: { 200: ok('{commodities}') } } },
      '/api/v1/market/snapshot': { get: { summary: 'Latest market-update per commodity', security: bearer, responses: { 200: ok('{snapshot}') } } },
      '/api/v1/market/candles': {
        get: {
          summary: 'OHLC candles with volume from the stored tape (every trade, simulated ones included)',
          security: bearer,
          parameters: [
            { name: 'commodity', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'interval', in: 'query', required: false, schema: { enum: Object.keys(CANDLE_INTERVALS) }, description: 'default 1m; buckets are UTC-aligned' },
            query('from', 'string', 'ms since the epoch or ISO-8601 (default: limit intervals before to)'),
            query('to', 'string', 'ms since the epoch or ISO-8601, exclusive (default: now)'),
            query('limit', 'integer', `the latest candles of the range, 1-${MAX_CANDLES}, default 500`),
          ],
          responses: { 200: ok('{commodity, interval, from, to, candles: [{time, open, high, low, close, volume, trades}]} oldest first; intervals without trades are left out'), 400: errorResponse, 401: errorResponse },
        },
      },
      '/api/v1/market/{commodity}/book': {
        get: {
          summary: 'Order book depth',
          security: bearer,
          parameters: [{ name: 'commodity', in: 'path', required: true, schema: { type: 'string' } }, query('depth', 'integer', '1-100, default 10')],
          responses: { 200: ok('{commodity, bids, asks}'), 400: errorResponse },
        },
      },
      '/api/v1/trading/orders': {
        post: {
          summary: 'Place an order (idempotent by clientOrderId)',
          security: bearer,
          requestBody: json('OrderRequest'),
          responses: { 201: ok('{order}'), 400: errorResponse, 401: errorResponse, 409: errorResponse, 422: errorResponse },
        },
        get: {
          summary: "The caller's orders, newest first",
          security: bearer,
          parameters: [query('status', 'string', 'open or an order status'), query('commodity', 'string', ''), query('limit', 'integer', '1-500'), query('before', 'integer', 'cursor')],
          responses: { 200: ok('{orders, nextCursor}'), 400: errorResponse },
        },
        delete: {
          summary: "Cancel all the caller's open orders (of one commodity, when given); one order-update each",
          security: bearer,
          parameters: [query('commodity', 'string', 'only this commodity')],
          responses: { 200: ok('{cancelled: [order]}'), 400: errorResponse, 401: errorResponse },
        },
      },
      '/api/v1/trading/orders/{id}': {
        get: { summary: 'One of the caller\'s orders', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: ok('{order}'), 404: errorResponse } },
        delete: { summary: 'Cancel an open order', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: ok('{order}'), 404: errorResponse, 409: errorResponse } },
        patch: {
          summary:
            'Amend (cancel/replace) a resting limit order: new price and/or new total quantity. A quantity decrease keeps time priority; a price change or an increase loses it; a crossing price matches at once',
          security: bearer,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: json('OrderAmend'),
          responses: { 200: ok('{order}'), 400: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse },
        },
      },
      '/api/v1/trading/trades': {
        get: { summary: "The caller's trades, newest first", security: bearer, parameters: [query('commodity', 'string', ''), query('limit', 'integer', '1-500'), query('before', 'integer', 'cursor')], responses: { 200: ok('{trades, nextCursor}') } },
      },
      '/api/v1/trading/positions': { get: { summary: "The caller's positions", security: bearer, responses: { 200: ok('{positions}') } } },
      '/api/v1/trading/positions/{commodity}/flatten': {
        post: {
          summary: "Close the caller's net position with a market order on the other side (409 NO_POSITION when flat); an optional clientOrderId makes a retry answer the same order",
          security: bearer,
          parameters: [{ name: 'commodity', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/FlattenRequest' } } } },
          responses: { 201: ok('{order}'), 400: errorResponse, 409: errorResponse, 422: errorResponse },
        },
      },
      '/api/v1/trading/cancel-all-after': {
        post: {
          summary: "The dead-man's switch: all the caller's open orders are cancelled unless this is called again within timeoutMs (0 disarms); the timer lives with the trading core",
          security: bearer,
          requestBody: json('CancelAllAfter'),
          responses: { 200: ok('{timeoutMs, firesAt}'), 400: errorResponse, 401: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/market/status': {
        get: { summary: "Each commodity's market status: open, halted (until when) or closed, with its reason and seq", security: bearer, responses: { 200: ok('{statuses: [{commodity, status, reason, since, until, seq}]}') } },
      },
      '/api/v1/admin/users/{userId}/trading': {
        post: {
          summary: "The kill switch (role risk or admin): enabled false cancels the user's open orders and refuses new ones (403 TRADING_DISABLED) until enabled again",
          security: bearer,
          parameters: [{ name: 'userId', in: 'path', required: true, schema: schema(userIdSchema) }],
          requestBody: json('TradingControl'),
          responses: { 200: ok('{userId, enabled, reason, cancelled: [order, …]}'), 400: errorResponse, 401: errorResponse, 403: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/admin/market/{commodity}/halt': {
        post: {
          summary: 'Halt a commodity (role risk or admin): new orders and amends refused with MARKET_HALTED, resting orders kept, for durationMs or until reopened',
          security: bearer,
          parameters: [{ name: 'commodity', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: json('MarketHalt'),
          responses: { 200: ok('{status}'), 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 503: errorResponse },
        },
      },
      '/api/v1/admin/market/{commodity}/reopen': {
        post: {
          summary: 'Reopen a halted commodity (role risk or admin)',
          security: bearer,
          parameters: [{ name: 'commodity', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: ok('{status}'), 401: errorResponse, 403: errorResponse, 404: errorResponse, 503: errorResponse },
        },
      },
    },
  };
}

export interface RouteInfo {
  method: string;
  url: string;
}

/** Records every route registered on `app` from now on (a test checks the document against them). */
export function trackRoutes(app: FastifyInstance): RouteInfo[] {
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url });
  });
  return routes;
}

export function openApiRoutes(app: FastifyInstance): void {
  const doc = JSON.stringify(buildOpenApi());
  app.get('/api/v1/openapi.json', (_request, reply) => reply.type('application/json').send(doc));
}
