import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrderUpdatePayload, TradeUpdatePayload } from '@qx/protocol';
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

const market = (side: 'buy' | 'sell', quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  commodity: 'crude_oil',
  side,
  type: 'market',
  quantity,
  ...extra,
});

function ok(result: OrderResult): OrderUpdatePayload {
  assert.equal(result.ok, true, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  assert.deepEqual(payloadProblems(result.events), []);
  return (result as { order: OrderUpdatePayload }).order;
}

const ofKind = <E extends EngineEvent['event']>(events: EngineEvent[], event: E) =>
  events.filter((e): e is Extract<EngineEvent, { event: E }> => e.event === event);

test('a resting limit order is acknowledged as new and shows in the book and open orders', () => {
  const { exchange } = setup();
  const result = exchange.submit('alice', limit('buy', 74.5, 1000, { clientOrderId: 'c1' }));
  const order = ok(result);
  assert.equal(order.status, 'new');
  assert.equal(order.price, 74.5);
  assert.equal(order.remainingQuantity, 1000);
  assert.equal(order.averagePrice, 0);
  assert.equal(order.timeInForce, 'gtc');
  assert.deepEqual(result.events.map((e) => [e.event, e.userId]), [['order-update', 'alice']]);
  assert.deepEqual(exchange.book('crude_oil', 5)?.bids, [{ price: 74.5, quantity: 1000, orders: 1 }]);
  assert.deepEqual(exchange.openOrders('alice').map((o) => o.id), [order.id]);
  assert.deepEqual(result.journal.map((r) => r.kind), ['order']);
});

test('a crossing order fills partially at the resting price, with trade-updates to both users', () => {
  const { exchange } = setup();
  const maker = ok(exchange.submit('alice', limit('sell', 75.25, 500)));
  const result = exchange.submit('bob', limit('buy', 75.3, 800));
  const taker = ok(result);
  assert.equal(taker.status, 'partially_filled');
  assert.equal(taker.filledQuantity, 500);
  assert.equal(taker.remainingQuantity, 300);
  assert.equal(taker.averagePrice, 75.25);

  const trades = ofKind(result.events, 'trade-update').map((e) => e.payload);
  assert.deepEqual(
    trades.map((t: TradeUpdatePayload) => [t.userId, t.side, t.quantity, t.price, t.liquidity, t.orderId, t.counterpartyOrderId]),
    [
      ['bob', 'buy', 500, 75.25, 'taker', taker.id, maker.id],
      ['alice', 'sell', 500, 75.25, 'maker', maker.id, taker.id],
    ],
  );
  assert.equal(trades[0]?.id, trades[1]?.id);
  const updates = ofKind(result.events, 'order-update').map((e) => [e.userId, e.payload.status]);
  assert.deepEqual(updates, [
    ['bob', 'new'],
    ['alice', 'filled'],
    ['bob', 'partially_filled'],
  ]);
  // the rest of bob's order is now the best bid
  assert.deepEqual(exchange.book('crude_oil')?.bids[0], { price: 75.3, quantity: 300, orders: 1 });
  assert.deepEqual(exchange.book('crude_oil')?.asks, []);
  const kinds = result.journal.map((r) => r.kind).sort();
  assert.deepEqual(kinds, ['order', 'order', 'position', 'position', 'trade', 'trade']);
});

test('price-time priority: better price first, then earlier order at the same price', () => {
  const { exchange } = setup();
  const first = ok(exchange.submit('a', limit('sell', 75.1, 100)));
  const second = ok(exchange.submit('b', limit('sell', 75.1, 100)));
  const better = ok(exchange.submit('c', limit('sell', 75.05, 100)));
  const result = exchange.submit('d', market('buy', 250));
  const taker = ok(result);
  const makers = ofKind(result.events, 'trade-update')
    .filter((e) => e.payload.liquidity === 'maker')
    .map((e) => [e.payload.orderId, e.payload.quantity, e.payload.price]);
  assert.deepEqual(makers, [
    [better.id, 100, 75.05],
    [first.id, 100, 75.1],
    [second.id, 50, 75.1],
  ]);
  assert.equal(taker.status, 'filled');
  assert.equal(taker.averagePrice, 75.08);
  assert.equal(exchange.getOrder('b', second.id)?.remainingQuantity, 50);
});

test('a market order with no liquidity is rejected with NO_LIQUIDITY and a rejected order-update', () => {
  const { exchange } = setup();
  const result = exchange.submit('bob', market('buy', 10));
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, 'NO_LIQUIDITY');
  assert.deepEqual(payloadProblems(result.events), []);
  const [update] = ofKind(result.events, 'order-update');
  assert.equal(update?.payload.status, 'rejected');
  assert.equal(update?.payload.price, null);
  assert.match(update?.payload.reason ?? '', /liquidity/i);
});

test('a market order larger than the book fills what there is and cancels the remainder', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('sell', 75, 100)));
  const order = ok(exchange.submit('bob', market('buy', 300)));
  assert.equal(order.status, 'cancelled');
  assert.equal(order.filledQuantity, 100);
  assert.equal(order.remainingQuantity, 0);
  assert.match(order.reason ?? '', /remainder cancelled/);
});

test('ioc: fills what crosses now and cancels the rest; nothing rests', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('sell', 75, 100)));
  ok(exchange.submit('alice', limit('sell', 75.5, 100)));
  const order = ok(exchange.submit('bob', limit('buy', 75.2, 300, { timeInForce: 'ioc' })));
  assert.equal(order.status, 'cancelled');
  assert.equal(order.filledQuantity, 100);
  assert.deepEqual(exchange.book('crude_oil')?.bids, []);
  const none = ok(exchange.submit('bob', limit('buy', 74, 10, { timeInForce: 'ioc' })));
  assert.equal(none.status, 'cancelled');
  assert.equal(none.filledQuantity, 0);
});

test('fok: all at once or nothing (the book is untouched when it cannot fill)', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('sell', 75, 100)));
  ok(exchange.submit('carol', limit('sell', 75.1, 100)));
  const refused = exchange.submit('bob', limit('buy', 75.1, 250, { timeInForce: 'fok' }));
  assert.equal(!refused.ok && refused.error.code, 'NO_LIQUIDITY');
  assert.equal(refused.order?.status, 'rejected');
  assert.equal(ofKind(refused.events, 'trade-update').length, 0);
  assert.equal(exchange.book('crude_oil')?.asks.length, 2);
  const filled = ok(exchange.submit('bob', limit('buy', 75.1, 200, { timeInForce: 'fok' })));
  assert.equal(filled.status, 'filled');
  assert.equal(filled.averagePrice, 75.05);
  // a market fok too
  ok(exchange.submit('alice', limit('sell', 75, 10)));
  assert.equal(exchange.submit('bob', market('buy', 11, { timeInForce: 'fok' })).ok, false);
  assert.equal(ok(exchange.submit('bob', market('buy', 10, { timeInForce: 'fok' }))).status, 'filled');
});

test('cancel: owner only; a finished order is not cancellable; others see "not found"', () => {
  const { exchange } = setup();
  const order = ok(exchange.submit('alice', limit('buy', 74, 100)));
  const stranger = exchange.cancel('mallory', order.id);
  assert.equal(!stranger.ok && stranger.error.code, 'ORDER_NOT_FOUND');
  assert.equal(exchange.getOrder('mallory', order.id), null);
  const cancelled = exchange.cancel('alice', order.id);
  assert.equal(ok(cancelled).status, 'cancelled');
  assert.deepEqual(cancelled.events.map((e) => e.event), ['order-update']);
  assert.deepEqual(exchange.book('crude_oil')?.bids, []);
  assert.deepEqual(exchange.openOrders('alice'), []);
  const again = exchange.cancel('alice', order.id);
  assert.equal(!again.ok && again.error.code, 'ORDER_NOT_CANCELLABLE');
  assert.equal(exchange.getOrder('alice', order.id)?.status, 'cancelled');
  assert.equal(exchange.cancel('alice', 'ord-999').ok, false);
});

test('self-trade prevention cancels the resting order of the same user and keeps matching', () => {
  const { exchange } = setup();
  const own = ok(exchange.submit('alice', limit('sell', 75, 100)));
  const other = ok(exchange.submit('bob', limit('sell', 75, 100)));
  const result = exchange.submit('alice', limit('buy', 75, 150));
  const taker = ok(result);
  assert.equal(taker.filledQuantity, 100);
  assert.equal(taker.status, 'partially_filled');
  const ownAfter = exchange.getOrder('alice', own.id);
  assert.equal(ownAfter?.status, 'cancelled');
  assert.equal(ownAfter?.filledQuantity, 0);
  assert.match(ownAfter?.reason ?? '', /Self-trade prevention/);
  assert.equal(exchange.getOrder('bob', other.id)?.status, 'filled');
  const trades = ofKind(result.events, 'trade-update');
  assert.ok(trades.every((t) => t.payload.counterpartyOrderId !== own.id));
  assert.equal(exchange.position('alice', 'crude_oil')?.netQuantity, 100);
});

test('prices off the tick grid, outside the band, and bad quantities are refused', () => {
  const { exchange } = setup();
  const offTick = exchange.submit('alice', limit('buy', 75.005, 10));
  assert.equal(!offTick.ok && offTick.error.code, 'PRICE_OFF_TICK');
  assert.equal(!offTick.ok && offTick.error.field, 'price');
  assert.deepEqual(offTick.events, []);
  // power ticks are 0.05
  assert.equal(ok(exchange.submit('alice', { commodity: 'power', side: 'buy', type: 'limit', price: 49.95, quantity: 10 })).price, 49.95);
  const powerOff = exchange.submit('alice', { commodity: 'power', side: 'buy', type: 'limit', price: 49.97, quantity: 10 });
  assert.equal(!powerOff.ok && powerOff.error.code, 'PRICE_OFF_TICK');

  const band = exchange.submit('alice', limit('buy', 90.01, 10)); // reference 75, band ±20% = 60–90
  assert.equal(!band.ok && band.error.code, 'PRICE_OUT_OF_BAND');
  assert.equal(!band.ok && band.error.field, 'price');
  assert.equal(band.order?.status, 'rejected');
  assert.deepEqual(payloadProblems(band.events), []);
  assert.equal(ok(exchange.submit('alice', limit('sell', 90, 10))).status, 'new');
  assert.equal(exchange.submit('alice', limit('buy', 59.99, 10)).ok, false);

  for (const quantity of [0, -5, 1.5, Number.NaN, 2 ** 60]) {
    const r = exchange.submit('alice', limit('buy', 75, quantity));
    assert.equal(!r.ok && r.error.code, 'QUANTITY_INVALID', `quantity ${quantity}`);
  }
  const unknown = exchange.submit('alice', { ...limit('buy', 75, 1), commodity: 'unobtainium' });
  assert.equal(!unknown.ok && unknown.error.code, 'UNKNOWN_COMMODITY');
  const marketWithPrice = exchange.submit('alice', market('buy', 1, { price: 75 }));
  assert.equal(!marketWithPrice.ok && marketWithPrice.error.code, 'INVALID_ORDER');
  const marketGtc = exchange.submit('alice', market('buy', 1, { timeInForce: 'gtc' }));
  assert.equal(!marketGtc.ok && marketGtc.error.field, 'timeInForce');
  const noPrice = exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1 });
  assert.equal(!noPrice.ok && noPrice.error.code, 'INVALID_ORDER');
});

test('the band follows the last trade price', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('sell', 89, 10)));
  ok(exchange.submit('bob', limit('buy', 89, 10)));
  assert.equal(exchange.marketData('crude_oil')?.price, 89);
  assert.equal(ok(exchange.submit('bob', limit('buy', 100, 1))).status, 'new'); // 89 × 1.2 = 106.8
});

test('clientOrderId: a retry returns the same order; different parameters conflict', () => {
  const { exchange } = setup();
  const first = ok(exchange.submit('alice', limit('buy', 74, 100, { clientOrderId: 'abc' })));
  const retry = exchange.submit('alice', limit('buy', 74, 100, { clientOrderId: 'abc' }));
  assert.deepEqual(ok(retry), first);
  assert.deepEqual(retry.events, []);
  assert.deepEqual(retry.journal, []);
  assert.equal(exchange.openOrders('alice').length, 1);
  const conflict = exchange.submit('alice', limit('buy', 74, 101, { clientOrderId: 'abc' }));
  assert.equal(!conflict.ok && conflict.error.code, 'CLIENT_ORDER_ID_CONFLICT');
  // another user may use the same clientOrderId
  assert.notEqual(ok(exchange.submit('bob', limit('buy', 74, 100, { clientOrderId: 'abc' }))).id, first.id);
  // a rejected order is replayed as the same rejection
  const rejected = exchange.submit('alice', market('buy', 5, { clientOrderId: 'm1' }));
  const replayed = exchange.submit('alice', market('buy', 5, { clientOrderId: 'm1' }));
  assert.equal(!replayed.ok && replayed.error.code, 'NO_LIQUIDITY');
  assert.equal(replayed.order?.id, rejected.order?.id);
});

test('agents: their own orders produce no events or journal; a fill with a real user produces only the real side', () => {
  const { exchange } = setup();
  const quiet = exchange.submit('~mm-crude_oil', limit('sell', 75, 100));
  assert.equal(quiet.ok, true);
  assert.deepEqual(quiet.events, []);
  assert.deepEqual(quiet.journal, []);
  const agentTrade = exchange.submit('~noise-1', market('buy', 10));
  assert.deepEqual(agentTrade.events, []);
  assert.deepEqual(agentTrade.journal, []);

  const result = exchange.submit('alice', market('buy', 20));
  assert.deepEqual(payloadProblems(result.events), []);
  assert.ok(result.events.every((e) => e.event !== 'system-alert' && e.userId === 'alice'));
  assert.deepEqual(ofKind(result.events, 'trade-update').map((t) => t.payload.liquidity), ['taker']);
  assert.ok(result.journal.every((r) => (r.kind === 'order' ? r.order.userId : r.kind === 'trade' ? r.trade.userId : 'alice') === 'alice'));

  // an agent hitting a real user's resting order
  const resting = ok(exchange.submit('alice', limit('buy', 74.9, 50)));
  const hit = exchange.submit('~noise-2', { ...limit('sell', 74.9, 30), timeInForce: 'ioc' });
  assert.deepEqual(
    hit.events.map((e) => [e.event, e.userId]),
    [
      ['trade-update', 'alice'],
      ['order-update', 'alice'],
    ],
  );
  assert.equal(exchange.getOrder('alice', resting.id)?.remainingQuantity, 20);
  assert.equal(exchange.getOrder('~noise-2', resting.id), null);
});

test('every fill is a print for the tape, agents\' too: trade id, price, size, aggressor side, no user', () => {
  const { clock, exchange } = setup();
  exchange.submit('~mm-crude_oil', limit('sell', 75, 100));
  const resting = exchange.submit('~mm-crude_oil', limit('sell', 75.01, 100));
  assert.equal(resting.prints, undefined, 'no trade, no prints');
  clock.advance(5);
  const agentOnly = exchange.submit('~noise-1', market('buy', 10));
  assert.deepEqual(agentOnly.events, []);
  assert.deepEqual(agentOnly.prints, [{ id: 'trd-1', seq: 1, commodity: 'crude_oil', priceTicks: 7500, quantity: 10, aggressor: 'buy', executedAt: clock.now() }]);
  const sweep = exchange.submit('alice', market('buy', 150));
  assert.deepEqual(sweep.prints?.map((p) => [p.id, p.priceTicks, p.quantity, p.aggressor]), [
    ['trd-2', 7500, 90],
    ['trd-3', 7501, 60],
  ].map((r) => [...r, 'buy']));
  // the same ids as the trade-updates of the real side
  assert.deepEqual(ofKind(sweep.events, 'trade-update').map((t) => t.payload.id), ['trd-2', 'trd-3']);
  assert.ok(sweep.prints?.every((p) => !('userId' in p)));
});

test('market data: reference before the first trade, then last price, quotes, session volume and change', () => {
  const { exchange, clock } = setup();
  const before = exchange.marketData('crude_oil');
  assert.deepEqual(before, {
    commodity: 'crude_oil',
    price: 75,
    change: 0,
    changePercent: 0,
    volume: 0,
    timestamp: new Date(clock.now()).toISOString(),
    bid: null,
    ask: null,
  });
  ok(exchange.submit('alice', limit('sell', 75.75, 300)));
  ok(exchange.submit('alice', limit('buy', 75.5, 100)));
  ok(exchange.submit('bob', market('buy', 200)));
  const after = exchange.marketData('crude_oil');
  assert.equal(after?.price, 75.75);
  assert.equal(after?.change, 0.75);
  assert.equal(after?.changePercent, 1);
  assert.equal(after?.volume, 200);
  assert.equal(after?.bid, 75.5);
  assert.equal(after?.ask, 75.75);
  assert.equal(exchange.marketData('nope'), null);
});

test('day orders expire at the session boundary; the new session starts from the last price', () => {
  const { exchange, clock } = setup();
  const day = ok(exchange.submit('alice', limit('buy', 74, 100, { timeInForce: 'day' })));
  const gtc = ok(exchange.submit('alice', limit('buy', 73, 100)));
  ok(exchange.submit('bob', limit('sell', 76, 10)));
  ok(exchange.submit('alice', market('buy', 10)));
  clock.advance(3_600_000);
  const expired = exchange.expireDayOrders(clock.now());
  assert.deepEqual(payloadProblems(expired.events), []);
  assert.deepEqual(expired.events.map((e) => [e.event, e.event === 'order-update' && e.payload.status]), [['order-update', 'expired']]);
  assert.equal(exchange.getOrder('alice', day.id)?.status, 'expired');
  assert.equal(exchange.getOrder('alice', gtc.id)?.status, 'new');
  const session = exchange.startSession(clock.now());
  assert.equal(session.journal.filter((r) => r.kind === 'session').length, exchange.commodities().length);
  const md = exchange.marketData('crude_oil');
  assert.equal(md?.price, 76);
  assert.equal(md?.change, 0);
  assert.equal(md?.volume, 0);
});

test('positions: net quantity, average entry price and realized P&L, including a flip', () => {
  const { exchange } = setup();
  ok(exchange.submit('mm', limit('sell', 75, 100)));
  ok(exchange.submit('mm', limit('sell', 76, 100)));
  ok(exchange.submit('alice', market('buy', 200)));
  assert.deepEqual(exchange.position('alice', 'crude_oil'), {
    userId: 'alice',
    commodity: 'crude_oil',
    netQuantity: 200,
    averagePrice: 75.5,
    openCost: 15_100,
    realizedPnl: 0,
    openBuyQuantity: 0,
    openSellQuantity: 0,
  });
  ok(exchange.submit('mm', limit('buy', 77, 300)));
  ok(exchange.submit('alice', market('sell', 300)));
  const p = exchange.position('alice', 'crude_oil');
  assert.equal(p?.netQuantity, -100);
  assert.equal(p?.averagePrice, 77);
  assert.equal(p?.openCost, 7_700); // the 100 opened short at 77
  assert.equal(p?.realizedPnl, 300); // 200 × (77 − 75.5)
  assert.equal(exchange.position('mm', 'crude_oil')?.netQuantity, 100);
  assert.equal(exchange.positions('alice').length, 1);
  assert.equal(exchange.position('alice', 'brent')?.netQuantity, 0);
  assert.equal(exchange.position('alice', 'nope'), null);
});

test('every payload of a busy sequence matches the protocol schemas', () => {
  const { exchange, clock } = setup({ volatility: {} });
  const events: EngineEvent[] = [];
  const push = (r: { events: EngineEvent[] }) => events.push(...r.events);
  for (let i = 0; i < 20; i++) {
    clock.advance(1000);
    push(exchange.submit('alice', limit('sell', 75 + i * 0.1, 100, { clientOrderId: `s${i}` })));
    push(exchange.submit('bob', limit('buy', 74.5 + i * 0.1, 50, { timeInForce: i % 2 ? 'day' : 'gtc' })));
    push(exchange.submit('carol', market(i % 2 ? 'buy' : 'sell', 70)));
  }
  push(exchange.expireDayOrders());
  assert.ok(events.length > 100);
  assert.deepEqual(payloadProblems(events), []);
});

// ---- amend (cancel/replace), cancel all, flatten ---------------------------------------------

const code = (result: OrderResult) => (result.ok ? 'ok' : result.error.code);

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

test('flatten with a clientOrderId: a retry answers the order it placed, even once flat; another order with that id is a conflict', () => {
  const { exchange } = setup();
  ok(exchange.submit('mm', limit('sell', 75.1, 100)));
  ok(exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 30 }));
  ok(exchange.submit('mm', limit('buy', 74.9, 100)));
  const first = exchange.flatten('alice', 'crude_oil', {}, 'flat-1');
  const order = ok(first);
  assert.deepEqual([order.side, order.quantity, order.status, order.clientOrderId], ['sell', 30, 'filled', 'flat-1']);
  assert.ok(first.events.length > 0);
  // the answer was lost; the retry finds the position flat and still answers the same order, doing nothing
  const retry = exchange.flatten('alice', 'crude_oil', {}, 'flat-1');
  assert.deepEqual([ok(retry).id, retry.events.length, retry.journal.length], [order.id, 0, 0]);
  assert.equal(exchange.position('alice', 'crude_oil')?.netQuantity, 0);
  ok(exchange.submit('alice', limit('buy', 70, 5, { clientOrderId: 'limit-1' })));
  assert.equal(code(exchange.flatten('alice', 'crude_oil', {}, 'limit-1')), 'CLIENT_ORDER_ID_CONFLICT');
  assert.equal(code(exchange.flatten('alice', 'brent', {}, 'flat-1')), 'CLIENT_ORDER_ID_CONFLICT');
});

test('a clientOrderId retry of an amended order is the same order, compared with the terms it was placed with', () => {
  const { clock, exchange } = setup();
  const placed = ok(exchange.submit('alice', limit('buy', 75, 100, { clientOrderId: 'c-1' })));
  const log = [...exchange.amend('alice', placed.id, { price: 74.9, quantity: 80 }).journal];
  const retry = exchange.submit('alice', limit('buy', 75, 100, { clientOrderId: 'c-1' }));
  assert.deepEqual([ok(retry).id, ok(retry).price, ok(retry).quantity, retry.events.length], [placed.id, 74.9, 80, 0]);
  assert.equal(code(exchange.submit('alice', limit('buy', 74.9, 80, { clientOrderId: 'c-1' }))), 'CLIENT_ORDER_ID_CONFLICT');
  // and after a restore from the amend's record alone
  const restored = new Exchange({ clock: clock.now, volatility: false });
  assert.equal(restored.restore(JSON.parse(JSON.stringify(log)) as JournalRecord[]).ok, true);
  assert.equal(ok(restored.submit('alice', limit('buy', 75, 100, { clientOrderId: 'c-1' }))).id, placed.id);
});
