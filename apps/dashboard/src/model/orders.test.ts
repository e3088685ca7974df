import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ORDERS, MAX_ORDERS, isOpen, upsertOrders } from './orders.js';
import type { Order } from './types.js';

const order = (id: string, over: Partial<Order> = {}): Order => ({
  id,
  userId: 'u1',
  status: 'new',
  filledQuantity: 0,
  remainingQuantity: 100,
  averagePrice: null,
  commodity: 'crude_oil',
  side: 'buy',
  type: 'limit',
  price: 70,
  quantity: 100,
  timeInForce: 'gtc',
  createdAt: '2026-01-01T00:00:00.000Z',
  timestamp: '2026-01-01T00:00:00.000Z',
  ...over,
});

test('a new order is added; an update replaces it by id', () => {
  let s = upsertOrders(EMPTY_ORDERS, [order('o1')]);
  s = upsertOrders(s, [order('o1', { status: 'partially_filled', filledQuantity: 40, remainingQuantity: 60, averagePrice: 70, timestamp: '2026-01-01T00:00:01.000Z' })]);
  assert.equal(s.length, 1);
  assert.equal(s[0]?.status, 'partially_filled');
  assert.equal(s[0]?.filledQuantity, 40);
});

test('newest first by creation time', () => {
  const s = upsertOrders(EMPTY_ORDERS, [
    order('a', { createdAt: '2026-01-01T00:00:01.000Z' }),
    order('b', { createdAt: '2026-01-01T00:00:03.000Z' }),
    order('c', { createdAt: '2026-01-01T00:00:02.000Z' }),
  ]);
  assert.deepEqual(s.map((o) => o.id), ['b', 'c', 'a']);
});

test('a partial update merges into the known order', () => {
  let s = upsertOrders(EMPTY_ORDERS, [order('o1')]);
  s = upsertOrders(s, [{ id: 'o1', userId: 'u1', status: 'filled', filledQuantity: 100, remainingQuantity: 0, averagePrice: 70, timestamp: '2026-01-01T00:00:02.000Z' }]);
  assert.equal(s[0]?.commodity, 'crude_oil');
  assert.equal(s[0]?.status, 'filled');
});

test('an older state never replaces a newer one, and a closed order never reopens', () => {
  let s = upsertOrders(EMPTY_ORDERS, [order('o1', { status: 'cancelled', remainingQuantity: 0, timestamp: '2026-01-01T00:00:05.000Z' })]);
  const before = s;
  s = upsertOrders(s, [order('o1', { status: 'new', timestamp: '2026-01-01T00:00:06.000Z' })]);
  assert.equal(s, before);
  s = upsertOrders(s, [order('o1', { status: 'filled', timestamp: '2026-01-01T00:00:01.000Z' })]);
  assert.equal(s[0]?.status, 'cancelled');
});

test('isOpen tells working orders from finished ones', () => {
  assert.equal(isOpen(order('a')), true);
  assert.equal(isOpen(order('a', { status: 'partially_filled' })), true);
  for (const status of ['filled', 'cancelled', 'rejected', 'expired'] as const) assert.equal(isOpen(order('a', { status })), false);
});

test('the list is capped', () => {
  const many = Array.from({ length: MAX_ORDERS + 10 }, (_, i) => order(`o${i}`, { createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString() }));
  const s = upsertOrders(EMPTY_ORDERS, many);
  assert.equal(s.length, MAX_ORDERS);
  assert.equal(s[0]?.id, `o${MAX_ORDERS + 9}`);
});
