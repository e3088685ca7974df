import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Order } from './order.js';
import { OrderBook, type MatchListener } from './order-book.js';
import type { Side } from './types.js';

let seq = 0;
const order = (user: string, side: Side, price: number | null, quantity: number) =>
  new Order(`o${++seq}`, seq, user, 'x', side, price === null ? 'market' : 'limit', 'gtc', price, quantity, null, 0);

function recorder() {
  const fills: [string, string, number, number][] = [];
  const stp: string[] = [];
  const listener: MatchListener = {
    onFill: (t, m, q, p) => fills.push([t.id, m.id, q, p]),
    onSelfTradePrevented: (m) => stp.push(m.id),
  };
  return { fills, stp, listener };
}

test('levels are kept best-first and removed when empty; cancel unlinks from the middle of a queue', () => {
  const book = new OrderBook('x');
  const a = order('a', 'buy', 100, 5);
  const b = order('b', 'buy', 100, 7);
  const c = order('c', 'buy', 100, 9);
  for (const o of [order('d', 'buy', 98, 1), a, b, c, order('e', 'buy', 99, 1), order('f', 'sell', 103, 1), order('g', 'sell', 101, 1)]) book.rest(o);
  assert.deepEqual(book.bids.top(5).map((l) => [l.priceTicks, l.quantity, l.orderCount]), [[100, 21, 3], [99, 1, 1], [98, 1, 1]]);
  assert.deepEqual(book.asks.top(5).map((l) => l.priceTicks), [101, 103]);
  assert.equal(book.cancel(b), true);
  assert.equal(b.cancelledQuantity, 7);
  assert.equal(book.cancel(b), false);
  const level = book.bids.best()!;
  assert.deepEqual([level.head?.id, level.head?.next?.id, level.tail?.id, level.quantity], [a.id, c.id, c.id, 14]);
  book.cancel(a);
  book.cancel(c);
  assert.equal(book.bestBid(), 99);
});

test('matching walks levels in price then time order and stops at the limit', () => {
  const book = new OrderBook('x');
  const s1 = order('s1', 'sell', 101, 5);
  const s2 = order('s2', 'sell', 100, 5);
  const s3 = order('s3', 'sell', 100, 5);
  for (const o of [s1, s2, s3]) book.rest(o);
  const { fills, listener } = recorder();
  const taker = order('t', 'buy', 100, 12);
  book.match(taker, listener);
  assert.deepEqual(fills, [[taker.id, s2.id, 5, 100], [taker.id, s3.id, 5, 100]]);
  assert.equal(taker.remainingQuantity, 2);
  assert.equal(taker.filledNotional, 1000);
  assert.equal(book.bestAsk(), 101);
  assert.equal(book.fillableQuantity(order('u', 'buy', 101, 100), 100), 5);
  assert.equal(book.fillableQuantity(order('s1', 'buy', 101, 100), 100), 0); // own orders don't count
});

test('self-trade prevention cancels the resting order and matches behind it', () => {
  const book = new OrderBook('x');
  const own = order('a', 'sell', 100, 5);
  const other = order('b', 'sell', 100, 5);
  book.rest(own);
  book.rest(other);
  const { fills, stp, listener } = recorder();
  const taker = order('a', 'buy', null, 3);
  book.match(taker, listener);
  assert.deepEqual(stp, [own.id]);
  assert.equal(own.cancelledQuantity, 5);
  assert.deepEqual(fills.map((f) => f[1]), [other.id]);
  assert.equal(book.asks.best()?.quantity, 2);
});
