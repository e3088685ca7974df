import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOutcome, displayStatus } from './order-outcome.js';
import type { Order } from './types.js';

const crude = { unit: 'bbl', tickSize: 0.01 };
const order = (over: Partial<Order>): Order => ({
  id: 'ord-1',
  userId: 'u',
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
  ...over,
});

test('a market buy that filled part of its size says filled, not filled, and the average', () => {
  const o = order({ type: 'market', price: null, timeInForce: 'ioc', quantity: 1_000_000, filledQuantity: 144_000, remainingQuantity: 0, averagePrice: 75.2345, status: 'cancelled', reason: 'Unfilled remainder cancelled (no more liquidity at an acceptable price)' });
  const r = describeOutcome(o, crude);
  assert.equal(r.tone, 'warn');
  assert.equal(r.text, 'ord-1 partially filled: bought 144,000 bbl of 1,000,000 bbl at avg 75.2345; 856,000 bbl cancelled (Unfilled remainder cancelled (no more liquidity at an acceptable price))');
});

test('an IOC that filled nothing says so', () => {
  const r = describeOutcome(order({ timeInForce: 'ioc', status: 'cancelled', remainingQuantity: 0, reason: 'No liquidity at an acceptable price: cancelled without execution' }), crude);
  assert.equal(r.tone, 'warn');
  assert.match(r.text, /^ord-1 IOC filled nothing: cancelled \(No liquidity/);
});

test('working, partially filled and filled orders', () => {
  assert.deepEqual(describeOutcome(order({}), crude), { tone: 'ok', text: 'ord-1 working: buy 100 bbl @ 70.00 GTC' });
  const partial = describeOutcome(order({ status: 'partially_filled', filledQuantity: 40, remainingQuantity: 60, averagePrice: 70 }), crude);
  assert.equal(partial.text, 'ord-1 partially filled: bought 40 bbl of 100 bbl at avg 70; 60 bbl working @ 70.00');
  const sold = describeOutcome(order({ side: 'sell', status: 'filled', filledQuantity: 100, remainingQuantity: 0, averagePrice: 70.015 }), crude);
  assert.deepEqual(sold, { tone: 'ok', text: 'ord-1 filled: sold 100 bbl at avg 70.015' });
});

test('in lots with the units, when the contract size is known', () => {
  const lots = { unit: 'bbl', tickSize: 0.01, contractSize: 1000 };
  const o = order({ type: 'market', price: null, timeInForce: 'ioc', quantity: 1_000_000, filledQuantity: 144_000, remainingQuantity: 0, averagePrice: 75.2345, status: 'cancelled' });
  assert.equal(describeOutcome(o, lots).text, 'ord-1 partially filled: bought 144 lots (144,000 bbl) of 1,000 lots (1,000,000 bbl) at avg 75.2345; 856 lots (856,000 bbl) cancelled');
  assert.equal(describeOutcome(order({ quantity: 1000, remainingQuantity: 1000 }), lots).text, 'ord-1 working: buy 1 lot (1,000 bbl) @ 70.00 GTC');
});

test('an unfilled FOK reads like an unfilled IOC: cancelled, nothing filled, and why', () => {
  const fok = order({ timeInForce: 'fok', status: 'rejected', remainingQuantity: 0, reason: 'Fill-or-kill order cannot be filled in full' });
  const ioc = order({ timeInForce: 'ioc', status: 'cancelled', remainingQuantity: 0, reason: 'No liquidity at an acceptable price: cancelled without execution' });
  assert.equal(displayStatus(fok).label, 'cancelled');
  assert.equal(displayStatus(ioc).label, 'cancelled');
  assert.match(displayStatus(fok).note ?? '', /^Not enough on the book to fill the whole order/);
  assert.match(displayStatus(ioc).note ?? '', /^nothing filled/);
  assert.match(describeOutcome(fok, crude).text, /^ord-1 FOK filled nothing: cancelled \(Not enough on the book/);
  // a compliance refusal stays a refusal, in lots
  const refused = order({ status: 'rejected', remainingQuantity: 0, reason: 'Order size 5000000 exceeds the maximum order size 1000000 for WTI Crude Oil' });
  assert.equal(displayStatus(refused, { contractSize: 1000 }).label, 'rejected');
  assert.equal(describeOutcome(refused, { ...crude, contractSize: 1000 }).text, 'ord-1 rejected: 5,000 lots is above the maximum order size of 1,000 lots for WTI Crude Oil');
});
