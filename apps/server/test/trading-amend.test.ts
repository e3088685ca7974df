/**
 * Cancel/replace, cancel-all and flatten through a real gateway: priority kept or lost as a
 * trader sees it (who fills first), a crossing amend trading at once, bad input coded and
 * changing nothing, the owner's order-updates, and an amended book surviving a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orderUpdatePayloadSchema } from '@qx/protocol';
import { collect, once, request, startServer, until, type TestServer } from './helpers.js';

async function trader(server: TestServer, userId: string) {
  const socket = await server.authed(userId);
  const orders = collect(socket, 'order-update');
  const trades = collect(socket, 'trade-update');
  const joined = once(socket, 'trading-joined');
  socket.emit('subscribe-orders', userId);
  socket.emit('join-trading', userId);
  await joined;
  return { socket, orders, trades, token: await server.sign(userId) };
}

type Trader = Awaited<ReturnType<typeof trader>>;

const call = (server: TestServer, t: Trader | string, method: string, path: string, json?: unknown) =>
  server.http(path, { method, token: typeof t === 'string' ? t : t.token, ...(json === undefined ? {} : { json }) });

const place = (server: TestServer, t: Trader, order: Record<string, unknown>) => call(server, t, 'POST', '/api/v1/trading/orders', order);
const amend = (server: TestServer, t: Trader, id: string, body: unknown) => call(server, t, 'PATCH', `/api/v1/trading/orders/${id}`, body);
const book = async (server: TestServer, t: Trader, commodity: string) => (await call(server, t, 'GET', `/api/v1/market/${commodity}/book?depth=10`)).body;

/** Which of `ids` a market sell of `quantity` fills, in fill order. */
async function filledFirst(server: TestServer, taker: Trader, commodity: string, quantity: number, side = 'sell'): Promise<string[]> {
  const before = taker.trades.length;
  const r = await place(server, taker, { commodity, side, type: 'market', quantity });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await until(() => taker.trades.length > before && taker.trades.slice(before).reduce((n, t) => n + t.payload.quantity, 0) === r.body.order.filledQuantity, 5000, 'taker fills');
  return taker.trades.slice(before).map((t) => t.payload.counterpartyOrderId as string);
}

describe('amend, cancel all and flatten over REST', () => {
  let server: TestServer;
  let alice: Trader;
  let bob: Trader;
  let carol: Trader;

  before(async () => {
    server = await startServer();
    alice = await trader(server, 'alice');
    bob = await trader(server, 'bob');
    carol = await trader(server, 'carol');
  });
  after(() => server.close());

  test('a quantity decrease keeps time priority; the owner gets an order-update with seq', async () => {
    const a = (await place(server, alice, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 100, price: 79 })).body.order;
    const b = (await place(server, bob, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 100, price: 79 })).body.order;
    const seen = alice.orders.length;
    const r = await amend(server, alice, a.id, { quantity: 60 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.order.id, r.body.order.quantity, r.body.order.remainingQuantity, r.body.order.status], [a.id, 60, 60, 'new']);
    // the same shape as GET /orders/:id
    const got = await call(server, alice, 'GET', `/api/v1/trading/orders/${a.id}`);
    assert.deepEqual(got.body, r.body);
    await until(() => alice.orders.length === seen + 1, 3000, 'amend order-update');
    const update = alice.orders.at(-1);
    orderUpdatePayloadSchema.parse(update.payload);
    assert.equal(update.seq, alice.orders.at(-2).seq + 1);
    assert.deepEqual([update.payload.id, update.payload.quantity], [a.id, 60]);
    assert.deepEqual((await book(server, alice, 'brent')).bids, [{ price: 79, quantity: 160, orders: 2 }]);
    assert.deepEqual(await filledFirst(server, carol, 'brent', 160), [a.id, b.id]);
  });

  test('a quantity increase or a price change sends the order to the back of the queue', async () => {
    const a = (await place(server, alice, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 50, price: 78.9 })).body.order;
    const b = (await place(server, bob, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 50, price: 78.9 })).body.order;
    assert.equal((await amend(server, alice, a.id, { quantity: 70 })).status, 200);
    assert.deepEqual(await filledFirst(server, carol, 'brent', 120), [b.id, a.id]);

    const c = (await place(server, alice, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 10, price: 78.8 })).body.order;
    const d = (await place(server, bob, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 10, price: 78.8 })).body.order;
    // away and back again, the price as a decimal string: alice is now behind bob
    assert.equal((await amend(server, alice, c.id, { price: '78.75' })).body.order.price, 78.75);
    const back = await amend(server, alice, c.id, { price: 78.8 });
    assert.deepEqual([back.status, back.body.order.price], [200, 78.8]);
    assert.deepEqual(await filledFirst(server, carol, 'brent', 20), [d.id, c.id]);
  });

  test('a crossing price change trades at once, as the aggressor, and rests the rest', async () => {
    const ask = (await place(server, bob, { commodity: 'brent', side: 'sell', type: 'limit', quantity: 30, price: 79.6 })).body.order;
    const bid = (await place(server, alice, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 100, price: 79.2 })).body.order;
    const bobTrades = bob.trades.length;
    const r = await amend(server, alice, bid.id, { price: 79.6 });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.order.status, r.body.order.filledQuantity, r.body.order.remainingQuantity, r.body.order.averagePrice], ['partially_filled', 30, 70, 79.6]);
    await until(() => bob.trades.length === bobTrades + 1, 3000, 'maker trade-update');
    assert.deepEqual([bob.trades.at(-1).payload.orderId, bob.trades.at(-1).payload.liquidity, bob.trades.at(-1).payload.counterpartyOrderId], [ask.id, 'maker', bid.id]);
    const depth = await book(server, alice, 'brent');
    assert.deepEqual([depth.bids[0], depth.asks], [{ price: 79.6, quantity: 70, orders: 1 }, []]);
    // the new total must exceed the 30 filled
    const low = await amend(server, alice, bid.id, { quantity: 30 });
    assert.deepEqual([low.status, low.body.error.code], [409, 'INVALID_QUANTITY']);
    assert.equal((await call(server, alice, 'DELETE', '/api/v1/trading/orders?commodity=brent')).status, 200);
  });

  test('bad amends are coded and change nothing', async () => {
    const mine = (await place(server, alice, { commodity: 'crude_oil', side: 'sell', type: 'limit', quantity: 100, price: 76 })).body.order;
    const filled = (await place(server, alice, { commodity: 'crude_oil', side: 'sell', type: 'limit', quantity: 5, price: 75.9 })).body.order;
    assert.equal((await place(server, bob, { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 5 })).body.order.filledQuantity, 5);
    // alice's order-updates so far have all arrived (the last: her sell filled), so none is miscounted below
    await until(() => alice.orders.some((o) => o.payload.id === filled.id && o.payload.status === 'filled'), 3000, 'the fill reported to alice');
    const depth = await book(server, alice, 'crude_oil');
    const seen = alice.orders.length;
    const cases: [Trader, string, unknown, number, string][] = [
      [alice, mine.id, {}, 400, 'INVALID_ORDER'],
      [alice, mine.id, { side: 'buy' }, 400, 'INVALID_ORDER'],
      [alice, mine.id, { price: 'cheap' }, 400, 'INVALID_ORDER'],
      [alice, mine.id, { quantity: -3 }, 400, 'INVALID_ORDER'],
      [alice, mine.id, { price: 76.001 }, 400, 'PRICE_OFF_TICK'],
      [alice, mine.id, { price: 99 }, 400, 'PRICE_OUT_OF_BAND'],
      [alice, mine.id, { quantity: 2_000_000 }, 422, 'COMPLIANCE_REJECTED'],
      [bob, mine.id, { quantity: 50 }, 404, 'ORDER_NOT_FOUND'],
      [alice, 'ord-999999', { quantity: 50 }, 404, 'ORDER_NOT_FOUND'],
      [alice, filled.id, { quantity: 50 }, 409, 'ORDER_NOT_OPEN'],
    ];
    for (const [who, id, body, status, code] of cases) {
      const r = await amend(server, who, id, body);
      assert.deepEqual([r.status, r.body.error?.code], [status, code], JSON.stringify(body));
    }
    assert.equal((await request(alice.socket, 'ping')).ok, true); // anything sent to alice before it has arrived
    assert.equal(alice.orders.length, seen, 'no order-update for a refused amend');
    assert.deepEqual(await book(server, alice, 'crude_oil'), depth);
    assert.equal((await call(server, alice, 'GET', `/api/v1/trading/orders/${mine.id}`)).body.order.quantity, 100);
    assert.equal((await call(server, alice, 'DELETE', `/api/v1/trading/orders/${mine.id}`)).status, 200);
  });

  test('cancel all: the caller\'s open orders (of one commodity), one order-update each', async () => {
    const ids: string[] = [];
    for (const [commodity, price] of [['crude_oil', 74], ['crude_oil', 74.1], ['natural_gas', 2.9]] as const) {
      ids.push((await place(server, alice, { commodity, side: 'buy', type: 'limit', quantity: 10, price })).body.order.id);
    }
    const others = (await place(server, bob, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 10, price: 74 })).body.order;
    const seen = alice.orders.length;
    const oil = await call(server, alice, 'DELETE', '/api/v1/trading/orders?commodity=crude_oil');
    assert.equal(oil.status, 200);
    assert.deepEqual(oil.body.cancelled.map((o: any) => [o.id, o.status]), [[ids[0], 'cancelled'], [ids[1], 'cancelled']]);
    await until(() => alice.orders.length === seen + 2, 3000, 'one order-update each');
    const rest = await call(server, alice, 'DELETE', '/api/v1/trading/orders');
    assert.deepEqual(rest.body.cancelled.map((o: any) => o.id), [ids[2]]);
    assert.deepEqual((await call(server, alice, 'DELETE', '/api/v1/trading/orders')).body, { cancelled: [] });
    const bad = await call(server, alice, 'DELETE', '/api/v1/trading/orders?commodity=unobtainium');
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'UNKNOWN_COMMODITY']);
    assert.deepEqual([(await call(server, alice, 'DELETE', '/api/v1/trading/orders?commodity=Oil!')).status], [400]);
    assert.equal((await call(server, bob, 'GET', `/api/v1/trading/orders/${others.id}`)).body.order.status, 'new', "another user's order stays");
    assert.equal((await call(server, bob, 'DELETE', '/api/v1/trading/orders')).body.cancelled.length, 1);
  });

  test('flatten: a market order against the net position; 409 NO_POSITION when flat', async () => {
    const flat = await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten');
    assert.deepEqual([flat.status, flat.body.error.code], [409, 'NO_POSITION']);
    const unknown = await call(server, carol, 'POST', '/api/v1/trading/positions/unobtainium/flatten');
    assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'UNKNOWN_COMMODITY']);
    await place(server, bob, { commodity: 'power', side: 'sell', type: 'limit', quantity: 40, price: 50 });
    await place(server, carol, { commodity: 'power', side: 'buy', type: 'market', quantity: 40 });
    await place(server, bob, { commodity: 'power', side: 'buy', type: 'limit', quantity: 100, price: 49.5 });
    const r = await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([r.body.order.side, r.body.order.type, r.body.order.quantity, r.body.order.status, r.body.order.averagePrice], ['sell', 'market', 40, 'filled', 49.5]);
    const positions = (await call(server, carol, 'GET', '/api/v1/trading/positions')).body.positions;
    assert.equal(positions.find((p: any) => p.commodity === 'power').netQuantity, 0);
    assert.equal((await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten')).status, 409);
    await call(server, bob, 'DELETE', '/api/v1/trading/orders');
  });

  test('flatten with a clientOrderId: a retry answers the order placed, even once flat; a bad id is refused', async () => {
    await place(server, bob, { commodity: 'power', side: 'sell', type: 'limit', quantity: 10, price: 50 });
    await place(server, carol, { commodity: 'power', side: 'buy', type: 'market', quantity: 10 });
    await place(server, bob, { commodity: 'power', side: 'buy', type: 'limit', quantity: 10, price: 49.5 });
    const first = await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten', { clientOrderId: 'carol-flat-1' });
    assert.deepEqual([first.status, first.body.order.status, first.body.order.clientOrderId], [201, 'filled', 'carol-flat-1']);
    const res = await fetch(`${server.url}/api/v1/trading/positions/power/flatten`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientOrderId: 'carol-flat-1' }),
    });
    const retry = (await res.json()) as { order: { id: string } };
    assert.deepEqual([res.status, res.headers.get('idempotent-replayed'), retry.order.id], [201, 'true', first.body.order.id]);
    const orders = (await call(server, carol, 'GET', '/api/v1/trading/orders?commodity=power')).body.orders;
    assert.equal(orders.filter((o: any) => o.clientOrderId === 'carol-flat-1').length, 1, 'placed once');
    const bad = await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten', { clientOrderId: 'not ok!' });
    assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.field], [400, 'INVALID_ORDER', 'clientOrderId']);
    const extra = await call(server, carol, 'POST', '/api/v1/trading/positions/power/flatten', { quantity: 3 });
    assert.deepEqual([extra.status, extra.body.error.code], [400, 'INVALID_ORDER']);
    await call(server, bob, 'DELETE', '/api/v1/trading/orders');
  });
});

test('a restart rebuilds the amended book with the same priority', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-amend-restart-'));
  try {
    let server = await startServer({}, { dataDir, keepData: true });
    let [a, b, c] = [await trader(server, 'alice'), await trader(server, 'bob'), await trader(server, 'carol')];
    const first = (await place(server, a, { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 })).body.order;
    const second = (await place(server, b, { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 })).body.order;
    const third = (await place(server, c, { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 })).body.order;
    assert.equal((await amend(server, a, first.id, { quantity: 12 })).status, 200); // alice to the back
    assert.equal((await amend(server, c, third.id, { quantity: 5 })).status, 200); // carol keeps her place
    await server.close();

    server = await startServer({}, { dataDir, keepData: true });
    try {
      [a, b, c] = [await trader(server, 'alice'), await trader(server, 'bob'), await trader(server, 'carol')];
      assert.deepEqual((await book(server, a, 'carbon')).bids, [{ price: 70, quantity: 27, orders: 3 }]);
      const taker = await trader(server, 'dave');
      assert.deepEqual(await filledFirst(server, taker, 'carbon', 27), [second.id, third.id, first.id]);
      const next = (await place(server, a, { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 1, price: 69 })).body.order;
      assert.ok(![first.id, second.id, third.id].includes(next.id), 'order ids do not repeat');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
