/**
 * The TradingApi, against both backplanes (in one process the trading core answers at once; in a
 * cluster the engine leader answers through the command queue): the same outcomes and the same
 * coded errors for submit, cancel, amend, cancelAll, flatten, positions and book; a retry by
 * clientOrderId is answered with the original order and changes nothing; another user's order is
 * not found. Each test trades with users of its own, near the reference price (crude_oil: 75).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streams, type OrderRequestBody } from '@qx/protocol';
import type { SubmitOutcome } from '../../src/core/outcomes.js';
import { envelopeOf, followStreams, forEachBackplane, until, type Node } from './backplanes.js';

const limit = (side: 'buy' | 'sell', quantity: number, price: number, extra: Partial<OrderRequestBody> = {}): OrderRequestBody => ({
  commodity: 'crude_oil',
  side,
  type: 'limit',
  quantity,
  price,
  timeInForce: 'gtc',
  ...extra,
});

function accepted(outcome: SubmitOutcome): Extract<SubmitOutcome, { ok: true }>['order'] {
  assert.ok(outcome.ok, `accepted: ${JSON.stringify(outcome)}`);
  return outcome.order;
}

function refused(outcome: { ok: boolean; error?: { code: string } }): string {
  assert.equal(outcome.ok, false, `refused: ${JSON.stringify(outcome)}`);
  return outcome.error!.code;
}

/** The order-updates `node` was handed for `userId`, as [order id, status]. */
const orderEvents = (node: Node, userId: string) => node.port.of(streams.orders(userId)).map((e) => [envelopeOf(e).payload['id'], envelopeOf(e).payload['status']]);

await forEachBackplane('TradingApi', (deployment) => {
  const node = () => deployment().nodes[0]!;
  const trading = () => node().backplane.trading;

  test('submit: a resting order; its retry by clientOrderId is the same order, replayed, and publishes nothing', async () => {
    const n = node();
    await followStreams(n, [streams.orders('tr-sub')]);
    const first = await trading().submit('tr-sub', limit('buy', 10, 74.5, { clientOrderId: 'c-1' }));
    const order = accepted(first);
    assert.equal(first.ok && first.replayed, false);
    assert.deepEqual(
      [order.userId, order.commodity, order.side, order.status, order.quantity, order.remainingQuantity, order.filledQuantity, order.price, order.clientOrderId],
      ['tr-sub', 'crude_oil', 'buy', 'new', 10, 10, 0, 74.5, 'c-1'],
    );
    const retry = await trading().submit('tr-sub', limit('buy', 10, 74.5, { clientOrderId: 'c-1' }));
    assert.equal(retry.ok && retry.replayed, true);
    assert.equal(accepted(retry).id, order.id);
    // the same clientOrderId of another user is another order
    const other = accepted(await trading().submit('tr-sub-2', limit('buy', 10, 74.5, { clientOrderId: 'c-1' })));
    assert.notEqual(other.id, order.id);
    await until(() => orderEvents(n, 'tr-sub').length >= 1, 10_000, 'the order-update');
    // the stream's next update (the order's cancel) is delivered: anything the retry published came before it
    accepted(await trading().cancel('tr-sub', order.id));
    await until(() => orderEvents(n, 'tr-sub').length >= 2, 10_000, 'the order-update of the cancel');
    assert.deepEqual(orderEvents(n, 'tr-sub'), [[order.id, 'new'], [order.id, 'cancelled']], 'one order-update for the order: the retry published nothing');
  });

  test('submit refusals: the engine’s codes, with the rejected order where there is one', async () => {
    const band = await trading().submit('tr-ref', limit('buy', 10, 95));
    assert.equal(refused(band), 'PRICE_OUT_OF_BAND');
    assert.equal(!band.ok && band.order?.status, 'rejected');
    assert.equal(refused(await trading().submit('tr-ref', limit('buy', 10, 74.555))), 'PRICE_OFF_TICK');
    assert.equal(refused(await trading().submit('tr-ref', { ...limit('buy', 10, 74.5), commodity: 'unobtainium' })), 'UNKNOWN_COMMODITY');
    assert.equal(refused(await trading().submit('tr-ref', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 10, timeInForce: 'ioc' })), 'NO_LIQUIDITY');
    assert.deepEqual(await trading().positions('tr-ref'), [], 'nothing changed');
  });

  test('a fill: the taker filled at the maker’s price, both positions, both sides’ events', async () => {
    const n = node();
    await followStreams(n, [streams.orders('tr-maker'), streams.trading('tr-maker'), streams.orders('tr-taker'), streams.trading('tr-taker')]);
    const maker = accepted(await trading().submit('tr-maker', limit('sell', 6, 75)));
    const taker = accepted(await trading().submit('tr-taker', limit('buy', 4, 75.2)));
    assert.deepEqual([taker.status, taker.filledQuantity, taker.averagePrice], ['filled', 4, 75]);
    const net = async (userId: string) => {
      const positions = await trading().positions(userId);
      assert.ok(Array.isArray(positions));
      return positions.filter((p) => p.commodity === 'crude_oil').map((p) => p.netQuantity);
    };
    assert.deepEqual(await net('tr-taker'), [4]);
    assert.deepEqual(await net('tr-maker'), [-4]);
    await until(() => n.port.of(streams.trading('tr-maker')).length >= 1 && n.port.of(streams.trading('tr-taker')).length >= 1, 10_000, 'both trade-updates');
    const [makerTrade, takerTrade] = [envelopeOf(n.port.of(streams.trading('tr-maker'))[0]!), envelopeOf(n.port.of(streams.trading('tr-taker'))[0]!)];
    assert.equal(makerTrade.payload['id'], takerTrade.payload['id'], 'one trade, two sides');
    assert.deepEqual([makerTrade.payload['side'], takerTrade.payload['side'], takerTrade.payload['price'], takerTrade.payload['quantity']], ['sell', 'buy', 75, 4]);
    await until(() => orderEvents(n, 'tr-maker').length >= 2, 10_000, 'the maker’s order-updates');
    assert.deepEqual(orderEvents(n, 'tr-maker'), [
      [maker.id, 'new'],
      [maker.id, 'partially_filled'],
    ]);
  });

  test('cancel: an open order; again: ORDER_NOT_CANCELLABLE; another user’s or an unknown id: ORDER_NOT_FOUND, untouched', async () => {
    const mine = accepted(await trading().submit('tr-can', limit('buy', 3, 74)));
    const theirs = accepted(await trading().submit('tr-can-other', limit('buy', 3, 74)));
    assert.equal(refused(await trading().cancel('tr-can', theirs.id)), 'ORDER_NOT_FOUND');
    assert.equal(refused(await trading().cancel('tr-can', 'ord-999999')), 'ORDER_NOT_FOUND');
    const cancelled = accepted(await trading().cancel('tr-can', mine.id));
    assert.deepEqual([cancelled.id, cancelled.status, cancelled.remainingQuantity], [mine.id, 'cancelled', 0]);
    const again = await trading().cancel('tr-can', mine.id);
    assert.equal(refused(again), 'ORDER_NOT_CANCELLABLE');
    assert.equal(!again.ok && again.order?.status, 'cancelled', 'with the order as it ended');
    // the other user's order still rests
    const view = await trading().book('crude_oil', 50);
    assert.ok(view && !('unavailable' in view));
    assert.ok(view.bids.some((l) => l.price === 74 && l.quantity >= 3));
    assert.equal(accepted(await trading().cancel('tr-can-other', theirs.id)).status, 'cancelled');
  });

  test('amend: a new price and quantity; another user’s: ORDER_NOT_FOUND; a finished order: ORDER_NOT_OPEN; out of band: refused, unchanged', async () => {
    const order = accepted(await trading().submit('tr-amd', limit('buy', 5, 73)));
    const amended = accepted(await trading().amend('tr-amd', order.id, { price: 73.5, quantity: 8 }));
    assert.deepEqual([amended.id, amended.price, amended.quantity, amended.remainingQuantity, amended.status], [order.id, 73.5, 8, 8, 'new']);
    assert.equal(refused(await trading().amend('tr-amd-other', order.id, { price: 73.6 })), 'ORDER_NOT_FOUND');
    assert.equal(refused(await trading().amend('tr-amd', order.id, { price: 95 })), 'PRICE_OUT_OF_BAND');
    const view = await trading().book('crude_oil', 50);
    assert.ok(view && !('unavailable' in view));
    assert.ok(view.bids.some((l) => l.price === 73.5), 'the refused amend changed nothing');
    accepted(await trading().cancel('tr-amd', order.id));
    assert.equal(refused(await trading().amend('tr-amd', order.id, { quantity: 9 })), 'ORDER_NOT_OPEN');
  });

  test('cancelAll: the user’s open orders (of one commodity when asked), nobody else’s; none: ok and empty; unknown commodity: refused', async () => {
    const crude = accepted(await trading().submit('tr-all', limit('buy', 2, 72)));
    const brent = accepted(await trading().submit('tr-all', { ...limit('buy', 2, 77), commodity: 'brent' }));
    const bystander = accepted(await trading().submit('tr-all-other', limit('buy', 2, 72)));
    const one = await trading().cancelAll('tr-all', 'crude_oil');
    assert.ok(one.ok, JSON.stringify(one));
    assert.deepEqual(one.cancelled.map((o) => [o.id, o.status]), [[crude.id, 'cancelled']]);
    const rest = await trading().cancelAll('tr-all');
    assert.ok(rest.ok);
    assert.deepEqual(rest.cancelled.map((o) => o.id), [brent.id]);
    const none = await trading().cancelAll('tr-all');
    assert.deepEqual(none, { ok: true, cancelled: [] });
    assert.equal(refused(await trading().cancelAll('tr-all', 'unobtainium')), 'UNKNOWN_COMMODITY');
    assert.equal(accepted(await trading().cancel('tr-all-other', bystander.id)).status, 'cancelled', 'the other user’s order was still open');
  });

  test('flatten: a market order closing the net position; flat: NO_POSITION; unknown commodity: refused', async () => {
    accepted(await trading().submit('tr-flat-mm', { ...limit('sell', 5, 2.4), commodity: 'heating_oil' }));
    accepted(await trading().submit('tr-flat', { ...limit('buy', 5, 2.4), commodity: 'heating_oil' }));
    accepted(await trading().submit('tr-flat-mm', { ...limit('buy', 5, 2.39), commodity: 'heating_oil' }));
    const flat = accepted(await trading().flatten('tr-flat', 'heating_oil'));
    assert.deepEqual([flat.side, flat.type, flat.quantity, flat.status, flat.averagePrice], ['sell', 'market', 5, 'filled', 2.39]);
    const positions = await trading().positions('tr-flat');
    assert.ok(Array.isArray(positions));
    assert.deepEqual(positions.filter((p) => p.commodity === 'heating_oil').map((p) => p.netQuantity), [0]);
    assert.equal(refused(await trading().flatten('tr-flat', 'heating_oil')), 'NO_POSITION');
    assert.equal(refused(await trading().flatten('tr-flat', 'unobtainium')), 'UNKNOWN_COMMODITY');
  });

  test('book and positions: the engine’s levels at a depth; an unknown commodity: null; a user who never traded: none', async () => {
    for (const [price, quantity] of [
      [69.1, 1],
      [69.2, 2],
      [69.3, 3],
    ] as const) {
      accepted(await trading().submit('tr-book', { ...limit('buy', quantity, price), commodity: 'carbon' }));
    }
    const view = await trading().book('carbon', 2);
    assert.ok(view && !('unavailable' in view));
    assert.deepEqual(
      view.bids.map((l) => [l.price, l.quantity, l.orders]),
      [
        [69.3, 3, 1],
        [69.2, 2, 1],
      ],
      'best first, two levels',
    );
    assert.deepEqual(view.asks, []);
    assert.equal(await trading().book('unobtainium', 5), null);
    assert.deepEqual(await trading().positions('tr-nobody'), []);
    const positions = await trading().positions('tr-book');
    assert.ok(Array.isArray(positions));
    assert.deepEqual(
      positions.map((p) => [p.commodity, p.netQuantity, p.openBuyQuantity]),
      [['carbon', 0, 6]],
      'open orders show in the position',
    );
  });
});
