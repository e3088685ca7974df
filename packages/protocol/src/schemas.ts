/**
 * Payload schemas. Types are not validation: every inbound payload passes one of these before a
 * handler sees it, and every published payload is checked against its event's schema.
 */
import { z } from 'zod';
import { DataEvent, type DataEventName } from './events.js';

export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const COMMODITY_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

export const userIdSchema = z.string().regex(USER_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ . : @ -');
export const commoditySchema = z.string().regex(COMMODITY_PATTERN, 'must be a lowercase commodity symbol');
const isoTimestamp = z.iso.datetime({ offset: true });
const finite = z.number().finite();
const nonNegative = finite.nonnegative();
const text = (max: number) => z.string().min(1).max(max);

// ---- client → server -------------------------------------------------------------------------

export const authenticatePayloadSchema = z.object({
  userId: userIdSchema,
  token: z.string().min(1).max(8192),
});
export type AuthenticatePayload = z.infer<typeof authenticatePayloadSchema>;

/** `join-trading`, `subscribe-orders`, `subscribe-compliance` and their undo take a bare userId. */
export const userIdPayloadSchema = userIdSchema;

/** `subscribe-market` takes an array of symbols; a single symbol string is accepted too. */
export const commoditiesPayloadSchema = z
  .union([commoditySchema.transform((c) => [c]), z.array(commoditySchema).min(1).max(1000)])
  .transform((list) => [...new Set(list)]);

/** `resume` (addition): the last seq a client holds per private stream; missed events follow. */
export const resumePayloadSchema = z.record(z.string().max(200), z.number().int().nonnegative()).refine(
  (r) => Object.keys(r).length <= 16,
  'at most 16 streams',
);

/** The deepest book a socket may stream (addition). */
export const MAX_BOOK_DEPTH = 20;
export const DEFAULT_BOOK_DEPTH = 10;

/** `subscribe-book` (addition): `{commodity, depth?}` (1-20, default 10), or a bare symbol. */
export const subscribeBookPayloadSchema = z.union([
  commoditySchema.transform((commodity) => ({ commodity, depth: DEFAULT_BOOK_DEPTH })),
  z.strictObject({ commodity: commoditySchema, depth: z.number().int().min(1).max(MAX_BOOK_DEPTH).default(DEFAULT_BOOK_DEPTH) }),
]);

/**
 * `subscribe-book` as every other subscription takes it: an array of symbols (depth 10), or
 * `{commodities, depth?}`; one book stream per commodity, all at that depth.
 */
export const subscribeBooksPayloadSchema = z.union([
  z.array(z.unknown()).transform((commodities) => ({ commodities, depth: DEFAULT_BOOK_DEPTH })),
  z.strictObject({ commodities: z.array(z.unknown()), depth: z.number().int().min(1).max(MAX_BOOK_DEPTH).default(DEFAULT_BOOK_DEPTH) }),
]);

/** `unsubscribe-book` (addition): `{commodity}` or a bare symbol: every depth of that commodity. */
export const unsubscribeBookPayloadSchema = z.union([
  commoditySchema.transform((commodity) => ({ commodity })),
  z.strictObject({ commodity: commoditySchema }),
]);

// ---- server data payloads (validated on publish) ---------------------------------------------

export const sideSchema = z.enum(['buy', 'sell']);
export const orderTypeSchema = z.enum(['market', 'limit']);
export const timeInForceSchema = z.enum(['gtc', 'day', 'ioc', 'fok']);
export const orderStatusSchema = z.enum(['new', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired']);

export const marketUpdatePayloadSchema = z.strictObject({
  commodity: commoditySchema,
  price: finite.positive(),
  change: finite,
  changePercent: finite,
  volume: nonNegative,
  timestamp: isoTimestamp.optional(),
  bid: finite.positive().nullable().optional(),
  ask: finite.positive().nullable().optional(),
  /** publish time in ms, carried for latency measurement (addition, optional) */
  sentAt: finite.optional(),
});
export type MarketUpdatePayload = z.output<typeof marketUpdatePayloadSchema>;

export const tradeUpdatePayloadSchema = z.strictObject({
  id: text(128),
  orderId: text(128),
  userId: userIdSchema,
  commodity: commoditySchema,
  quantity: finite.positive(),
  price: finite.positive(),
  side: sideSchema,
  status: z.enum(['executed', 'cancelled', 'pending']),
  executionTime: isoTimestamp,
  counterpartyOrderId: text(128).optional(),
  liquidity: z.enum(['maker', 'taker']).optional(),
});
export type TradeUpdatePayload = z.output<typeof tradeUpdatePayloadSchema>;

export const orderUpdatePayloadSchema = z.strictObject({
  id: text(128),
  userId: userIdSchema,
  status: orderStatusSchema,
  filledQuantity: nonNegative,
  remainingQuantity: nonNegative,
  averagePrice: nonNegative.nullable(),
  timestamp: isoTimestamp.optional(),
  commodity: commoditySchema.optional(),
  side: sideSchema.optional(),
  type: orderTypeSchema.optional(),
  price: finite.positive().nullable().optional(),
  quantity: finite.positive().optional(),
  timeInForce: timeInForceSchema.optional(),
  clientOrderId: text(128).nullable().optional(),
  reason: text(512).optional(),
  createdAt: isoTimestamp.optional(),
});
export type OrderUpdatePayload = z.output<typeof orderUpdatePayloadSchema>;

export const systemAlertPayloadSchema = z.strictObject({
  alertType: text(64),
  severity: z.enum(['info', 'warning', 'critical']),
  message: text(1024),
  affectedCommodities: z.array(commoditySchema).max(64).optional(),
  timestamp: isoTimestamp.optional(),
  details: z.record(z.string().max(64), z.union([finite, z.string().max(256), z.boolean()])).optional(),
});
export type SystemAlertPayload = z.output<typeof systemAlertPayloadSchema>;

export const complianceAlertPayloadSchema = z.strictObject({
  type: z.literal('COMPLIANCE_ALERT'),
  checkType: text(64),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  message: text(1024),
  userId: userIdSchema,
  details: z
    .looseObject({
      currentPosition: finite.optional(),
      limit: finite.optional(),
      utilization: finite.optional(),
      commodity: commoditySchema.optional(),
    })
    .refine((d) => Object.keys(d).length <= 16, 'at most 16 detail fields'),
  timestamp: isoTimestamp.optional(),
});
export type ComplianceAlertPayload = z.output<typeof complianceAlertPayloadSchema>;

export const dataPayloadSchemas = {
  [DataEvent.MarketUpdate]: marketUpdatePayloadSchema,
  [DataEvent.TradeUpdate]: tradeUpdatePayloadSchema,
  [DataEvent.OrderUpdate]: orderUpdatePayloadSchema,
  [DataEvent.SystemAlert]: systemAlertPayloadSchema,
  [DataEvent.ComplianceAlert]: complianceAlertPayloadSchema,
} as const satisfies Record<DataEventName, z.ZodType>;

export interface DataPayloads {
  'market-update': MarketUpdatePayload;
  'trade-update': TradeUpdatePayload;
  'order-update': OrderUpdatePayload;
  'system-alert': SystemAlertPayload;
  'compliance-alert': ComplianceAlertPayload;
}

/** Body of `POST /api/v1/publish`. */
export const publishRequestSchema = z.strictObject({
  event: z.enum(['market-update', 'trade-update', 'order-update', 'system-alert', 'compliance-alert']),
  payload: z.unknown(),
  userId: userIdSchema.optional(),
});

/** Body of `POST /api/v1/publish/batch`: several events, validated all-or-nothing, emitted in order. */
export const publishBatchSchema = z.strictObject({
  events: z.array(publishRequestSchema).min(1).max(500),
});

/** First issue of a failed parse as `{field, message}`: the field path joined with dots. */
export function describeZodError(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '', message: 'invalid' };
  const path = issue.path.map(String).join('.');
  const message = path ? `${path}: ${issue.message}` : issue.message;
  // zod reports an unexpected key on the enclosing object: name the key itself
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
    const key = String(issue.keys[0]);
    return { field: path ? `${path}.${key}` : key, message };
  }
  return { field: path, message };
}

// ---- REST: trading ---------------------------------------------------------------------------

/** The client's own id of an order: a retry with the same id answers the same order. */
export const clientOrderIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');

/** Body of `POST /api/v1/trading/orders`: wire decimals; the engine checks grid, band and limits. */
export const orderRequestSchema = z
  .strictObject({
    commodity: commoditySchema,
    side: sideSchema,
    type: orderTypeSchema,
    quantity: z.number().int('must be a whole number of units').positive().max(1e12),
    price: finite.positive().max(1e9).nullable().optional(),
    timeInForce: timeInForceSchema.optional(),
    clientOrderId: clientOrderIdSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.type === 'limit' && (o.price === undefined || o.price === null)) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'required for limit orders' });
    }
    if (o.type === 'market' && o.price !== undefined && o.price !== null) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'must be omitted for market orders' });
    }
  });
export type OrderRequestBody = z.output<typeof orderRequestSchema>;

/** The fields of an amend (REST body, socket `amend-order`). */
const amendFields = {
  /** a number, or a decimal string such as "75.25" */
  price: z
    .union([finite.positive().max(1e9), z.string().regex(/^\d{1,10}(\.\d{1,12})?$/, 'must be a decimal number such as 75.25').transform(Number)])
    .optional(),
  /** the new total quantity in units (filled quantity included); must exceed what is filled */
  quantity: z.number().int('must be a whole number of units').positive().max(1e12).optional(),
};
const AMEND_NEEDS_A_CHANGE = { message: 'give a new price, a new quantity, or both' };

/** `PATCH /api/v1/trading/orders/:id` (cancel/replace): a new limit price, a new total quantity, or both. */
export const orderAmendSchema = z
  .strictObject(amendFields)
  .refine((o) => o.price !== undefined || o.quantity !== undefined, AMEND_NEEDS_A_CHANGE);
export type OrderAmendBody = z.output<typeof orderAmendSchema>;

/** Body of `POST /api/v1/trading/positions/:commodity/flatten` (optional): the market order's `clientOrderId`, so a retry cannot trade twice. */
export const flattenRequestSchema = z.strictObject({ clientOrderId: clientOrderIdSchema.optional() });

/** `DELETE /api/v1/trading/orders` (cancel all): optionally only one commodity's orders. */
export const cancelAllQuerySchema = z.strictObject({ commodity: commoditySchema.optional() });

export const orderListQuerySchema = z.strictObject({
  status: z.union([orderStatusSchema, z.literal('open')]).optional(),
  commodity: commoditySchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** return orders older than this cursor (an opaque value from `nextCursor`) */
  before: z.coerce.number().int().positive().optional(),
});

export const tradeListQuerySchema = z.strictObject({
  commodity: commoditySchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});

// ---- trading over the socket and its safety nets (additions) ---------------------------------

/** An order id as the engine gives it (`ord-7`). */
export const orderIdSchema = text(128);

/** `place-order`: the body of `POST /api/v1/trading/orders`. */
export const placeOrderPayloadSchema = orderRequestSchema;

/** `cancel-order`: `{orderId}` or a bare order id. */
export const cancelOrderPayloadSchema = z.union([
  orderIdSchema.transform((orderId) => ({ orderId })),
  z.strictObject({ orderId: orderIdSchema }),
]);
export type CancelOrderPayload = z.output<typeof cancelOrderPayloadSchema>;

/** `amend-order`: `{orderId, price?, quantity?}` (price and quantity as in the REST amend). */
export const amendOrderPayloadSchema = z
  .strictObject({ orderId: orderIdSchema, ...amendFields })
  .refine((o) => o.price !== undefined || o.quantity !== undefined, AMEND_NEEDS_A_CHANGE);
export type AmendOrderPayload = z.output<typeof amendOrderPayloadSchema>;

/** `cancel-all-orders`: `{commodity?}`, or nothing (every open order of the caller). */
export const cancelAllOrdersPayloadSchema = z
  .strictObject({ commodity: commoditySchema.optional() })
  .optional()
  .transform((o) => o ?? {});
export type CancelAllOrdersPayload = z.output<typeof cancelAllOrdersPayloadSchema>;

export const CANCEL_ON_DISCONNECT_SCOPES = ['connection', 'account', 'off'] as const;
export type CancelOnDisconnectScope = (typeof CANCEL_ON_DISCONNECT_SCOPES)[number];

/** `cancel-on-disconnect`: what to cancel when the connection (or the account's last one) is gone. */
export const cancelOnDisconnectPayloadSchema = z.strictObject({ scope: z.enum(CANCEL_ON_DISCONNECT_SCOPES) });
export type CancelOnDisconnectPayload = z.output<typeof cancelOnDisconnectPayloadSchema>;

/** The dead-man's switch timeout: 0 disarms it; otherwise from one second to one day. */
export const CANCEL_ALL_AFTER_MIN_MS = 1_000;
export const CANCEL_ALL_AFTER_MAX_MS = 86_400_000;

/** `cancel-all-after` (and its REST twin): `{timeoutMs}`, 0 or 1 000–86 400 000. */
export const cancelAllAfterPayloadSchema = z.strictObject({
  timeoutMs: z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0)
    .max(CANCEL_ALL_AFTER_MAX_MS)
    .refine((ms) => ms === 0 || ms >= CANCEL_ALL_AFTER_MIN_MS, `must be 0 (disarm) or at least ${CANCEL_ALL_AFTER_MIN_MS}`),
});
export type CancelAllAfterPayload = z.output<typeof cancelAllAfterPayloadSchema>;

/** `subscribe-status` / `unsubscribe-status`: the same shapes as `subscribe-market`. */
export const statusSubscriptionPayloadSchema = commoditiesPayloadSchema;

/** `POST /api/v1/admin/users/:userId/trading` (the kill switch): `{enabled, reason}`. */
export const tradingControlBodySchema = z.strictObject({ enabled: z.boolean(), reason: text(256) });
export type TradingControlBody = z.output<typeof tradingControlBodySchema>;

/** An operator's halt of a commodity: why, and for how long (absent or null: until reopened). */
export const marketHaltBodySchema = z.strictObject({
  reason: text(256),
  durationMs: z.number().int().min(CANCEL_ALL_AFTER_MIN_MS).max(CANCEL_ALL_AFTER_MAX_MS).nullable().optional(),
});
export type MarketHaltBody = z.output<typeof marketHaltBodySchema>;

export const marketStatusNameSchema = z.enum(['open', 'halted', 'closed']);
export type MarketStatusName = z.output<typeof marketStatusNameSchema>;

/**
 * `market-status` (addition, opt-in through `subscribe-status`): a commodity's status since
 * `since`; for a halt, `until` is when it is planned to end (null: until an operator reopens it).
 * Not an envelope: `seq` is +1 per change of the commodity's status.
 */
export const marketStatusPayloadSchema = z.strictObject({
  commodity: commoditySchema,
  status: marketStatusNameSchema,
  reason: text(512),
  since: isoTimestamp,
  until: isoTimestamp.nullable().optional(),
  seq: z.number().int().nonnegative(),
});
export type MarketStatusPayload = z.output<typeof marketStatusPayloadSchema>;

// ---- REST: market data ----------------------------------------------------------------------

/** Candle intervals of `GET /api/v1/market/candles`, in ms. */
export const CANDLE_INTERVALS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type CandleInterval = keyof typeof CANDLE_INTERVALS;
export const MAX_CANDLES = 1000;

/** A time in a query string: ms since the epoch, or ISO-8601. */
const queryTime = z.string().transform((v, ctx) => {
  const t = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: 'must be ms since the epoch or an ISO-8601 time' });
    return z.NEVER;
  }
  return t;
});

export const candlesQuerySchema = z.strictObject({
  commodity: commoditySchema,
  interval: z.enum(['1m', '5m', '15m', '1h', '1d']).default('1m'),
  from: queryTime.optional(),
  to: queryTime.optional(),
  /** the latest `limit` candles of the range (default 500) */
  limit: z.coerce.number().int().min(1).max(MAX_CANDLES).default(500),
});

export interface Candle {
  /** ISO start of the interval (UTC-aligned) */
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** traded units */
  volume: number;
  trades: number;
}
