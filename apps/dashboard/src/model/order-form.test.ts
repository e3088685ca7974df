import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIME_IN_FORCE, buildOrder, notionalOf, parseLots, parsePrice, withType, type OrderForm } from './order-form.js';

const form = (over: Partial<OrderForm> = {}): OrderForm => ({
  commodity: 'crude_oil',
  side: 'buy',
  type: 'limit',
  quantity: '1,000',
  price: '75.10',
  timeInForce: 'gtc',
  ...over,
});

test('a limit order carries its price, quantity and time in force', () => {
  assert.deepEqual(buildOrder(form(), 'web-1'), {
    ok: true,
    body: { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1000, price: 75.1, timeInForce: 'gtc', clientOrderId: 'web-1' },
  });
});

test('a market order has no price, and a resting time in force falls back to ioc', () => {
  const r = buildOrder(form({ type: 'market', side: 'sell', timeInForce: 'gtc' }), 'web-2');
  assert.ok(r.ok);
  assert.equal(r.body.price, undefined);
  assert.equal(r.body.timeInForce, 'ioc');
});

test('quantity must be a positive whole number', () => {
  for (const quantity of ['', '0', '-5', '1.5', 'abc']) {
    const r = buildOrder(form({ quantity }), 'x');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.field, 'quantity');
  }
});

test('a limit order needs a price; the tick grid is left to the server', () => {
  const missing = buildOrder(form({ price: ' ' }), 'x');
  assert.equal(!missing.ok && missing.field, 'price');
  const offTick = buildOrder(form({ price: '75.123' }), 'x');
  assert.ok(offTick.ok && offTick.body.price === 75.123);
});

test('switching the type resets time in force to that type\'s default: limit rests (GTC), market is IOC', () => {
  const market = withType(form({ timeInForce: 'gtc' }), 'market');
  assert.equal(market.timeInForce, 'ioc');
  const limit = withType({ ...market, timeInForce: 'ioc' }, 'limit');
  assert.equal(limit.type, 'limit');
  assert.equal(limit.timeInForce, 'gtc');
  // choosing the same type again keeps what the trader picked
  const ioc = form({ timeInForce: 'ioc' });
  assert.equal(withType(ioc, 'limit'), ioc);
  for (const type of ['limit', 'market'] as const) assert.ok(TIME_IN_FORCE[type].includes(withType(form({ type: type === 'limit' ? 'market' : 'limit' }), type).timeInForce));
});

test('quantity in whole lots goes out in units; a fraction of a lot is refused', () => {
  const r = buildOrder(form({ quantity: '3' }), 'x', 1000);
  assert.ok(r.ok && r.body.quantity === 3000);
  for (const quantity of ['1.5', '2,5', '0.0001']) {
    const half = buildOrder(form({ quantity }), 'x', 1000);
    assert.equal(!half.ok && half.field, 'quantity', quantity);
    assert.match(!half.ok ? half.message : '', /^Whole lots only/, quantity);
  }
  assert.deepEqual(parseLots('1,000'), { ok: true, value: 1000 });
  assert.deepEqual(parseLots(' 12 '), { ok: true, value: 12 });
  assert.equal(parseLots('0').ok, false);
});

test('a decimal comma is refused, saying what to type; commas group thousands only before a point', () => {
  const comma = parsePrice('74,10');
  assert.deepEqual(comma, { ok: false, message: '“74,10” has a decimal comma: prices take a decimal point. Did you mean 74.10?' });
  assert.equal(parsePrice('1,075').ok, false, '1075 or 1.075: ambiguous, refused');
  assert.deepEqual(parsePrice('1,075.50'), { ok: true, value: 1075.5 });
  assert.deepEqual(parsePrice('74.10'), { ok: true, value: 74.1 });
  assert.equal(parsePrice('7a').ok, false);
  assert.equal(parsePrice('1,2,3').ok, false);
  const r = buildOrder(form({ price: '74,10' }), 'x');
  assert.equal(!r.ok && r.field, 'price');
  assert.match(!r.ok ? r.message : '', /Did you mean 74\.10\?/);
});

test('notional before sending: the limit price, or the side of the book a market order meets', () => {
  const quote = { bid: 75, ask: 75.1, price: 75.05 };
  assert.equal(notionalOf(form({ quantity: '2', price: '74.50' }), 1000, quote), 149_000);
  assert.equal(notionalOf(form({ quantity: '2', price: '74,50' }), 1000, quote), null, 'no notional from a refused price');
  assert.equal(notionalOf(form({ type: 'market', quantity: '1' }), 1000, quote), 75_100);
  assert.equal(notionalOf(form({ type: 'market', side: 'sell', quantity: '1' }), 1000, quote), 75_000);
  assert.equal(notionalOf(form({ type: 'market', quantity: '1' }), 1000, undefined), null);
  assert.equal(notionalOf(form({ quantity: '' }), 1000, quote), null);
});
