import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrderUpdatePayload } from '@qx/protocol';
import { Exchange, type ExchangeOptions } from './exchange.js';
import type { EngineEvent, OrderResult } from './events.js';
import type { JournalRecord } from './journal.js';
import { manualClock, payloadProblems } from './testing.js';
import type { OrderRequest } from './types.js';

function setup(options: Partial<ExchangeOptions> = {}) {
  const clock = manualClock();
  const exchange = new Exchange({ clock: clock.now, volatility: false, ...options });
  return { clock, exchange };
}

const limit = (side: 'buy' | 'sell', price: number, quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  commodity: 'crude_oil',
  side,
  type: 'limit',
  price,
  quantity,
  ...extra,
});

function ok(result: OrderResult): OrderUpdatePayload {
  assert.equal(result.ok, true, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  assert.deepEqual(payloadProblems(result.events), []);
  return (result as { order: OrderUpdatePayload }).order;
}

const code = (result: OrderResult) => (result.ok ? 'ok' : result.error.code);
const ofKind = <E extends EngineEvent['event']>(events: EngineEvent[], event: E) =>
  events.filter((e): e is Extract<EngineEvent, { event: E }> => e.event === event);

/** Who a market sell of `quantity` fills first, by order id. */
function fillOrder(exchange: Exchange, quantity: number): string[] {
  const r = exchange.submit('taker', { commodity: 'crude_oil', side: 'sell', type: 'market', quantity });
  return ofKind(r.events, 'trade-update').filter((e) => e.payload.liquidity === 'maker').map((e) => e.payload.orderId);
}

test('a quantity decrease keeps time priority; the owner gets one order-update and the book shrinks', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 100)));
  const b = ok(exchange.submit('bob', limit('buy', 75, 100)));
  const r = exchange.amend('alice', a.id, { quantity: 40 });
  const amended = ok(r);
  assert.deepEqual([amended.quantity, amended.remainingQuantity, amended.status, amended.price], [40, 40, 'new', 75]);
  assert.deepEqual(r.events.map((e) => [e.event, e.userId]), [['order-update', 'alice']]);
  assert.deepEqual(r.journal.map((j) => j.kind), ['order']);
  assert.equal((r.journal[0] as Extract<JournalRecord, { kind: 'order' }>).order.queuePriority, undefined);
  assert.deepEqual(exchange.book('crude_oil', 1)?.bids, [{ price: 75, quantity: 140, orders: 2 }]);
  assert.deepEqual(exchange.position('alice', 'crude_oil')?.openBuyQuantity, 40);
  assert.deepEqual(fillOrder(exchange, 50), [a.id, b.id]);
});

test('a quantity increase or a price change loses time priority (back of the queue at the price)', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const b = ok(exchange.submit('bob', limit('buy', 75, 10)));
  ok(exchange.amend('alice', a.id, { quantity: 20 }));
  assert.deepEqual(fillOrder(exchange, 15), [b.id, a.id]);

  const { exchange: x2 } = setup();
  const c = ok(x2.submit('carol', limit('buy', 75, 10)));
  const d = ok(x2.submit('dave', limit('buy', 75.01, 10)));
  // down to 75 (behind carol) and back: each price change re-queues
  ok(x2.amend('dave', d.id, { price: 75 }));
  assert.deepEqual(x2.openOrders('dave').map((o) => o.price), [75]);
  assert.deepEqual(fillOrder(x2, 20), [c.id, d.id]);
});

test('a crossing price change matches at once as the aggressor and rests the remainder', () => {
  const { exchange } = setup();
  const ask = ok(exchange.submit('seller', limit('sell', 75.5, 30)));
  const bid = ok(exchange.submit('buyer', limit('buy', 75, 100)));
  const r = exchange.amend('buyer', bid.id, { price: 75.5 });
  const order = ok(r);
  assert.deepEqual([order.status, order.filledQuantity, order.remainingQuantity, order.averagePrice, order.price], ['partially_filled', 30, 70, 75.5, 75.5]);
  const trades = ofKind(r.events, 'trade-update').map((e) => [e.payload.userId, e.payload.liquidity, e.payload.counterpartyOrderId]);
  assert.deepEqual(trades, [['buyer', 'taker', ask.id], ['seller', 'maker', bid.id]]);
  assert.deepEqual(ofKind(r.events, 'order-update').map((e) => [e.userId, e.payload.status]), [['buyer', 'new'], ['seller', 'filled'], ['buyer', 'partially_filled']]);
  assert.deepEqual(exchange.book('crude_oil', 5), { commodity: 'crude_oil', bids: [{ price: 75.5, quantity: 70, orders: 1 }], asks: [] });
  assert.equal(exchange.position('buyer', 'crude_oil')?.netQuantity, 30);
  assert.equal(exchange.position('buyer', 'crude_oil')?.openBuyQuantity, 70);
  assert.equal(exchange.marketData('crude_oil')?.price, 75.5);

  // after a partial fill, quantity is the new total: it must exceed the filled 30
  const low = exchange.amend('buyer', bid.id, { quantity: 30 });
  assert.equal(code(low), 'INVALID_QUANTITY');
  assert.equal(low.events.length + low.journal.length, 0);
  const down = ok(exchange.amend('buyer', bid.id, { quantity: 31 }));
  assert.deepEqual([down.quantity, down.filledQuantity, down.remainingQuantity, down.status], [31, 30, 1, 'partially_filled']);
});

test('a crossing amend that fills in full leaves the book and is no longer amendable', () => {
  const { exchange } = setup();
  ok(exchange.submit('seller', limit('sell', 75.5, 100)));
  const bid = ok(exchange.submit('buyer', limit('buy', 75, 40)));
  const filled = ok(exchange.amend('buyer', bid.id, { price: 75.6 }));
  assert.deepEqual([filled.status, filled.filledQuantity, filled.averagePrice], ['filled', 40, 75.5]);
  assert.deepEqual(exchange.openOrders('buyer'), []);
  const again = exchange.amend('buyer', bid.id, { quantity: 50 });
  assert.equal(code(again), 'ORDER_NOT_OPEN');
  assert.equal(again.ok ? null : again.order?.status, 'filled');
});

test('refused amends are coded and change nothing', () => {
  const users = { alice: { crude_oil: { positionLimit: 450, maxOrderSize: 300 } } };
  const { exchange } = setup({ compliance: { users } });
  const a = ok(exchange.submit('alice', limit('buy', 75, 100)));
  ok(exchange.submit('alice', limit('buy', 74, 200)));
  const before = JSON.stringify([exchange.book('crude_oil', 10), exchange.openOrders('alice'), exchange.positions('alice')]);
  const cases: [string, Parameters<Exchange['amend']>[2], string][] = [
    ['bob', { quantity: 50 }, 'ORDER_NOT_FOUND'],
    ['alice', { price: 75.001 }, 'PRICE_OFF_TICK'],
    ['alice', { price: -1 }, 'INVALID_ORDER'],
    ['alice', { price: 95 }, 'PRICE_OUT_OF_BAND'],
    ['alice', { quantity: 0 }, 'QUANTITY_INVALID'],
    ['alice', { quantity: 1.5 }, 'QUANTITY_INVALID'],
    ['alice', { quantity: 350 }, 'COMPLIANCE_REJECTED'], // above the max order size
    ['alice', { quantity: 251, price: 75.01 }, 'COMPLIANCE_REJECTED'], // 200 + 251 open > 450
  ];
  for (const [user, change, expected] of cases) {
    const r = exchange.amend(user, a.id, change);
    assert.equal(code(r), expected, JSON.stringify(change));
    assert.equal(r.events.length + r.journal.length, 0);
  }
  assert.equal(code(exchange.amend('alice', a.id, { quantity: 251 })), 'COMPLIANCE_REJECTED');
  assert.equal(code(exchange.amend('unknown', 'ord-999', { quantity: 1 })), 'ORDER_NOT_FOUND');
  assert.equal(JSON.stringify([exchange.book('crude_oil', 10), exchange.openOrders('alice'), exchange.positions('alice')]), before);
  // 200 + 250 open: exactly at the position limit
  assert.equal(ok(exchange.amend('alice', a.id, { quantity: 250 })).quantity, 250);
  // the same terms again: nothing to do, nothing emitted
  const same = exchange.amend('alice', a.id, { quantity: 250, price: 75 });
  assert.equal(ok(same).quantity, 250);
  assert.equal(same.events.length + same.journal.length, 0);
});

test('a quantity decrease is allowed even when the price has left the band', () => {
  const { exchange } = setup({ priceBand: 0.01 });
  const a = ok(exchange.submit('alice', limit('buy', 74.5, 100)));
  ok(exchange.submit('s', limit('sell', 75.2, 5)));
  ok(exchange.submit('b', limit('buy', 75.2, 5))); // last price 75.20: the band is now 74.45–75.95
  ok(exchange.submit('s', limit('sell', 75.9, 5)));
  ok(exchange.submit('b', limit('buy', 75.9, 5))); // last 75.90: 74.5 is out of the band
  assert.equal(code(exchange.amend('alice', a.id, { quantity: 120 })), 'ok');
  assert.equal(code(exchange.amend('alice', a.id, { price: 74.6 })), 'PRICE_OUT_OF_BAND');
  assert.equal(ok(exchange.amend('alice', a.id, { quantity: 60 })).quantity, 60);
});

test('restore rebuilds amended orders with their queue places and continues the id sequence', () => {
  const { clock, exchange: ex } = setup();
  const log: JournalRecord[] = [];
  const rec = (r: OrderResult) => {
    log.push(...r.journal);
    return r;
  };
  const o1 = ok(rec(ex.submit('alice', limit('buy', 75, 10))));
  const o2 = ok(rec(ex.submit('bob', limit('buy', 75, 10))));
  const o3 = ok(rec(ex.submit('carol', limit('buy', 75, 10))));
  ok(rec(ex.amend('alice', o1.id, { quantity: 12 }))); // alice to the back
  ok(rec(ex.amend('carol', o3.id, { quantity: 5 }))); // carol keeps her place
  const restored = new Exchange({ clock: clock.now, volatility: false });
  assert.equal(restored.restore(JSON.parse(JSON.stringify(log)) as JournalRecord[]).ok, true);
  assert.deepEqual(restored.book('crude_oil', 5), ex.book('crude_oil', 5));
  const next = ok(restored.submit('dave', limit('buy', 75, 1)));
  assert.equal(next.id, ok(ex.submit('dave', limit('buy', 75, 1))).id);
  assert.deepEqual(fillOrder(restored, 28), [o2.id, o3.id, o1.id, next.id]);
  assert.deepEqual(fillOrder(ex, 28), [o2.id, o3.id, o1.id, next.id]);
});

test('cancel all: every open order of the user (or of one commodity), one order-update each', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const b = ok(exchange.submit('alice', limit('sell', 76, 10)));
  const g = ok(exchange.submit('alice', { commodity: 'natural_gas', side: 'buy', type: 'limit', price: 2.5, quantity: 1000 }));
  const other = ok(exchange.submit('bob', limit('buy', 75, 10)));
  const r = exchange.cancelAll('alice', 'crude_oil');
  assert.equal(r.ok, true);
  assert.deepEqual(r.ok ? r.cancelled.map((o) => [o.id, o.status]) : null, [[a.id, 'cancelled'], [b.id, 'cancelled']]);
  assert.deepEqual(r.events.map((e) => [e.event, e.userId]), [['order-update', 'alice'], ['order-update', 'alice']]);
  assert.deepEqual(payloadProblems(r.events), []);
  assert.deepEqual(exchange.openOrders('alice').map((o) => o.id), [g.id]);
  assert.deepEqual(exchange.openOrders('bob').map((o) => o.id), [other.id]);
  assert.equal(exchange.position('alice', 'crude_oil')?.openBuyQuantity, 0);
  const all = exchange.cancelAll('alice');
  assert.deepEqual(all.ok ? all.cancelled.map((o) => o.id) : null, [g.id]);
  const none = exchange.cancelAll('alice');
  assert.deepEqual([none.ok, none.events.length, none.journal.length], [true, 0, 0]);
  const bad = exchange.cancelAll('alice', 'unobtainium');
  assert.equal(bad.ok ? 'ok' : bad.error.code, 'UNKNOWN_COMMODITY');
});

test('flatten: a market order for the net position on the other side; NO_POSITION when flat', () => {
  const { exchange } = setup();
  assert.equal(code(exchange.flatten('alice', 'crude_oil')), 'NO_POSITION');
  assert.equal(code(exchange.flatten('alice', 'unobtainium')), 'UNKNOWN_COMMODITY');
  ok(exchange.submit('mm', limit('sell', 75.1, 100)));
  ok(exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 60 }));
  ok(exchange.submit('mm', limit('buy', 74.9, 40)));
  ok(exchange.submit('mm', limit('buy', 74.8, 40)));
  const r = exchange.flatten('alice', 'crude_oil');
  const order = ok(r);
  assert.deepEqual([order.side, order.type, order.quantity, order.status, order.filledQuantity], ['sell', 'market', 60, 'filled', 60]);
  assert.equal(exchange.position('alice', 'crude_oil')?.netQuantity, 0);
  assert.equal(code(exchange.flatten('alice', 'crude_oil')), 'NO_POSITION');
  // short, with too little liquidity: fills what there is, as any market order
  ok(exchange.submit('alice', { commodity: 'crude_oil', side: 'sell', type: 'market', quantity: 20 }));
  const short = ok(exchange.flatten('alice', 'crude_oil'));
  assert.deepEqual([short.side, short.quantity, short.filledQuantity, short.status], ['buy', 20, 20, 'filled']);
});
