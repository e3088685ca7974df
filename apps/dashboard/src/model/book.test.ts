import { test } from 'node:test';
import assert from 'node:assert/strict';
import { depth, levelKey, myLevels } from './book.js';

const book = {
  commodity: 'crude_oil',
  bids: [
    { price: 75.3, quantity: 100, orders: 1 },
    { price: 75.29, quantity: 300, orders: 2 },
  ],
  asks: [
    { price: 75.31, quantity: 200, orders: 1 },
    { price: 75.33, quantity: 600, orders: 3 },
  ],
};

test('cumulative sizes and bar shares against the deeper side', () => {
  const d = depth(book, 0.01);
  assert.deepEqual(d.bids.map((r) => [r.cumulative, r.share]), [[100, 100 / 800], [400, 400 / 800]]);
  // asks are listed worst first so the best ask sits just above the best bid
  assert.deepEqual(d.asks.map((r) => [r.price, r.cumulative, r.share]), [[75.33, 800, 1], [75.31, 200, 0.25]]);
});

test('spread and mid are exact on the tick grid', () => {
  const d = depth(book, 0.01);
  assert.equal(d.spread, 0.01);
  assert.equal(d.mid, 75.305);
});

test('an empty or one-sided book has no spread', () => {
  assert.deepEqual(depth(null, 0.01), { bids: [], asks: [], spread: null, mid: null });
  const oneSided = depth({ ...book, asks: [] }, 0.01);
  assert.equal(oneSided.spread, null);
  assert.equal(oneSided.bids[1]?.share, 1);
});

test('my working limit orders are found at their level, by side and whole ticks', () => {
  const mine = myLevels(
    [
      { commodity: 'crude_oil', status: 'new', type: 'limit', side: 'buy', price: 75.29, remainingQuantity: 2000 },
      { commodity: 'crude_oil', status: 'partially_filled', type: 'limit', side: 'buy', price: 75.29000000001, remainingQuantity: 500 },
      { commodity: 'crude_oil', status: 'filled', type: 'limit', side: 'buy', price: 75.3, remainingQuantity: 0 },
      { commodity: 'brent', status: 'new', type: 'limit', side: 'buy', price: 75.3, remainingQuantity: 1000 },
      { commodity: 'crude_oil', status: 'new', type: 'limit', side: 'sell', price: 75.31, remainingQuantity: 1000 },
    ],
    'crude_oil',
    0.01,
  );
  assert.equal(mine.get(levelKey('bid', 75.29, 0.01)), 2500);
  assert.equal(mine.get(levelKey('ask', 75.31, 0.01)), 1000);
  assert.equal(mine.get(levelKey('bid', 75.3, 0.01)), undefined);
  assert.equal(mine.size, 2);
});
