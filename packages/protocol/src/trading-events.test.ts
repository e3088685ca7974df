import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from './errors.js';
import { ClientEvent, FeedEvent, ServerEvent } from './events.js';
import { rooms } from './rooms.js';
import {
  amendOrderPayloadSchema,
  cancelAllAfterPayloadSchema,
  cancelAllOrdersPayloadSchema,
  cancelOnDisconnectPayloadSchema,
  cancelOrderPayloadSchema,
  describeZodError,
  marketHaltBodySchema,
  marketStatusPayloadSchema,
  placeOrderPayloadSchema,
  statusSubscriptionPayloadSchema,
  tradingControlBodySchema,
} from './schemas.js';

const parse = (schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown; error?: unknown } }, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false, field: describeZodError(r.error as never).field };
};

test('error codes: numeric codes and names are unique; the trading-state codes have their statuses', () => {
  const numerics = Object.values(ErrorCode).map((c) => c.numeric);
  assert.equal(new Set(numerics).size, numerics.length, 'a numeric code is used twice');
  assert.deepEqual(
    [ErrorCode.TRADING_DISABLED, ErrorCode.MARKET_HALTED, ErrorCode.MARKET_CLOSED].map((c) => [c.numeric, c.status]),
    [[4212, 403], [4213, 409], [4214, 409]],
  );
});

test('event names are unique across both directions; the new ones are where clients look for them', () => {
  const client = Object.values(ClientEvent);
  const server = Object.values(ServerEvent);
  assert.equal(new Set(client).size, client.length);
  assert.equal(new Set(server).size, server.length);
  assert.deepEqual(
    [ClientEvent.PlaceOrder, ClientEvent.CancelOrder, ClientEvent.AmendOrder, ClientEvent.CancelAllOrders, ClientEvent.CancelOnDisconnect, ClientEvent.CancelAllAfter, ClientEvent.SubscribeStatus, ClientEvent.UnsubscribeStatus],
    ['place-order', 'cancel-order', 'amend-order', 'cancel-all-orders', 'cancel-on-disconnect', 'cancel-all-after', 'subscribe-status', 'unsubscribe-status'],
  );
  assert.equal(FeedEvent.MarketStatus, 'market-status');
  assert.equal(rooms.status('crude_oil'), 'status-crude_oil');
});

test('place-order takes the REST order body, with its checks', () => {
  assert.deepEqual(parse(placeOrderPayloadSchema, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 10, price: 75.1, clientOrderId: 'c-1' }), {
    ok: true,
    data: { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 10, price: 75.1, clientOrderId: 'c-1' },
  });
  assert.deepEqual(parse(placeOrderPayloadSchema, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 10 }), { ok: false, field: 'price' });
  assert.deepEqual(parse(placeOrderPayloadSchema, { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 10, extra: 1 }), { ok: false, field: 'extra' });
});

test('cancel-order: {orderId} or a bare id', () => {
  assert.deepEqual(parse(cancelOrderPayloadSchema, 'ord-7'), { ok: true, data: { orderId: 'ord-7' } });
  assert.deepEqual(parse(cancelOrderPayloadSchema, { orderId: 'ord-7' }), { ok: true, data: { orderId: 'ord-7' } });
  for (const bad of ['', 7, null, { orderId: '' }, { orderId: 'o', more: 1 }, 'x'.repeat(129)]) assert.equal(parse(cancelOrderPayloadSchema, bad).ok, false, JSON.stringify(bad));
});

test('amend-order: {orderId, price?, quantity?} with at least one change', () => {
  assert.deepEqual(parse(amendOrderPayloadSchema, { orderId: 'ord-7', price: '75.25' }), { ok: true, data: { orderId: 'ord-7', price: 75.25 } });
  assert.deepEqual(parse(amendOrderPayloadSchema, { orderId: 'ord-7', quantity: 5 }), { ok: true, data: { orderId: 'ord-7', quantity: 5 } });
  assert.equal(parse(amendOrderPayloadSchema, { orderId: 'ord-7' }).ok, false);
  assert.deepEqual(parse(amendOrderPayloadSchema, { price: 75 }), { ok: false, field: 'orderId' });
  assert.deepEqual(parse(amendOrderPayloadSchema, { orderId: 'ord-7', quantity: 1.5 }), { ok: false, field: 'quantity' });
});

test('cancel-all-orders: {commodity?} or nothing', () => {
  assert.deepEqual(parse(cancelAllOrdersPayloadSchema, undefined), { ok: true, data: {} });
  assert.deepEqual(parse(cancelAllOrdersPayloadSchema, {}), { ok: true, data: {} });
  assert.deepEqual(parse(cancelAllOrdersPayloadSchema, { commodity: 'brent' }), { ok: true, data: { commodity: 'brent' } });
  assert.deepEqual(parse(cancelAllOrdersPayloadSchema, { commodity: 'Brent!' }), { ok: false, field: 'commodity' });
  assert.equal(parse(cancelAllOrdersPayloadSchema, 'brent').ok, false);
});

test('cancel-on-disconnect and cancel-all-after', () => {
  for (const scope of ['connection', 'account', 'off']) assert.deepEqual(parse(cancelOnDisconnectPayloadSchema, { scope }), { ok: true, data: { scope } });
  assert.deepEqual(parse(cancelOnDisconnectPayloadSchema, { scope: 'socket' }), { ok: false, field: 'scope' });
  for (const timeoutMs of [0, 1000, 86_400_000]) assert.deepEqual(parse(cancelAllAfterPayloadSchema, { timeoutMs }), { ok: true, data: { timeoutMs } });
  for (const timeoutMs of [1, 999, 86_400_001, -1, 1500.5, '5000']) assert.deepEqual(parse(cancelAllAfterPayloadSchema, { timeoutMs }), { ok: false, field: 'timeoutMs' }, String(timeoutMs));
});

test('subscribe-status takes what subscribe-market takes', () => {
  assert.deepEqual(parse(statusSubscriptionPayloadSchema, 'crude_oil'), { ok: true, data: ['crude_oil'] });
  assert.deepEqual(parse(statusSubscriptionPayloadSchema, ['crude_oil', 'brent', 'crude_oil']), { ok: true, data: ['crude_oil', 'brent'] });
  assert.equal(parse(statusSubscriptionPayloadSchema, []).ok, false);
});

test('market-status payload, kill switch and halt bodies', () => {
  const status = { commodity: 'crude_oil', status: 'halted', reason: 'Velocity halt', since: '2024-07-29T22:00:00.000Z', until: '2024-07-29T22:02:00.000Z', seq: 3 };
  assert.equal(parse(marketStatusPayloadSchema, status).ok, true);
  assert.equal(parse(marketStatusPayloadSchema, { ...status, status: 'open', until: null }).ok, true);
  const { until: _until, ...withoutUntil } = status;
  assert.equal(parse(marketStatusPayloadSchema, withoutUntil).ok, true);
  assert.deepEqual(parse(marketStatusPayloadSchema, { ...status, status: 'paused' }), { ok: false, field: 'status' });
  assert.deepEqual(parse(marketStatusPayloadSchema, { ...status, since: 1722290400000 }), { ok: false, field: 'since' });
  assert.deepEqual(parse(tradingControlBodySchema, { enabled: false, reason: 'review' }), { ok: true, data: { enabled: false, reason: 'review' } });
  assert.deepEqual(parse(tradingControlBodySchema, { enabled: false }), { ok: false, field: 'reason' });
  assert.deepEqual(parse(marketHaltBodySchema, { reason: 'incident', durationMs: null }), { ok: true, data: { reason: 'incident', durationMs: null } });
  assert.deepEqual(parse(marketHaltBodySchema, { reason: 'incident', durationMs: 10 }), { ok: false, field: 'durationMs' });
});
