/**
 * The trading core through the gateway: orders over REST, their order-updates and trade-updates
 * to the owner and the counterparty and nobody else, idempotency, ownership, bad input, and
 * compliance in the seed's shapes. The simulator is off, so every fill is between test users.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { complianceAlertPayloadSchema, orderUpdatePayloadSchema, tradeUpdatePayloadSchema } from '@qx/protocol';
import { collect, once, request, startServer, until, type TestServer } from './helpers.js';

type Socket = Awaited<ReturnType<TestServer['authed']>>;

async function follower(server: TestServer, userId: string) {
  const socket = await server.authed(userId);
  const orders = collect(socket, 'order-update');
  const trades = collect(socket, 'trade-update');
  const alerts = collect(socket, 'compliance-alert');
  const joined = once(socket, 'compliance-subscribed');
  socket.emit('subscribe-orders', userId);
  socket.emit('join-trading', userId);
  socket.emit('subscribe-compliance', userId);
  await joined;
  return { socket, orders, trades, alerts, token: await server.sign(userId) };
}

function place(server: TestServer, token: string, order: Record<string, unknown>) {
  return server.http('/api/v1/trading/orders', { method: 'POST', token, json: order });
}

describe('orders over REST', () => {
  let server: TestServer;
  let alice: Awaited<ReturnType<typeof follower>>;
  let bob: Awaited<ReturnType<typeof follower>>;
  let carol: Awaited<ReturnType<typeof follower>>;

  before(async () => {
    server = await startServer();
    alice = await follower(server, 'alice');
    bob = await follower(server, 'bob');
    carol = await follower(server, 'carol');
  });
  after(() => server.close());

  test('a fill reaches both sides, in the seed shapes, and nobody else', async () => {
    const sell = await place(server, alice.token, { commodity: 'brent', side: 'sell', type: 'limit', quantity: 1000, price: 79.5 });
    assert.equal(sell.status, 201);
    assert.equal(sell.body.order.status, 'new');
    const buy = await place(server, bob.token, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 400, price: 79.6 });
    assert.equal(buy.status, 201);
    assert.equal(buy.body.order.status, 'filled');
    assert.equal(buy.body.order.averagePrice, 79.5, 'the maker price');

    await until(() => alice.trades.length === 1 && bob.trades.length === 1, 3000, 'both trade-updates');
    await until(() => alice.orders.length === 2 && bob.orders.length === 2, 3000, 'order-updates');
    const aliceTrade = alice.trades[0];
    assert.equal(aliceTrade.type, 'TRADE_UPDATE');
    assert.equal(aliceTrade.userId, 'alice');
    tradeUpdatePayloadSchema.parse(aliceTrade.payload);
    assert.deepEqual(
      { side: aliceTrade.payload.side, quantity: aliceTrade.payload.quantity, price: aliceTrade.payload.price, status: aliceTrade.payload.status, liquidity: aliceTrade.payload.liquidity },
      { side: 'sell', quantity: 400, price: 79.5, status: 'executed', liquidity: 'maker' },
    );
    assert.equal(bob.trades[0].payload.side, 'buy');
    assert.equal(bob.trades[0].payload.id, aliceTrade.payload.id, 'one trade, two sides');

    const aliceOrder = alice.orders[1];
    assert.equal(aliceOrder.type, 'ORDER_UPDATE');
    orderUpdatePayloadSchema.parse(aliceOrder.payload);
    assert.deepEqual(
      [aliceOrder.payload.status, aliceOrder.payload.filledQuantity, aliceOrder.payload.remainingQuantity, aliceOrder.payload.averagePrice],
      ['partially_filled', 400, 600, 79.5],
    );
    assert.deepEqual(alice.orders.map((o) => o.seq), [1, 2], 'seq +1 per stream');

    // a round trip on carol's socket: whatever the fill sent her came before its answer
    assert.equal((await request(carol.socket, 'ping')).ok, true);
    assert.equal(carol.orders.length + carol.trades.length + carol.alerts.length, 0, 'a bystander hears nothing');

    const positions = await server.http('/api/v1/trading/positions', { token: bob.token });
    assert.deepEqual(positions.body.positions.map((p: any) => [p.commodity, p.netQuantity, p.averagePrice]), [['brent', 400, 79.5]]);
    const trades = await server.http('/api/v1/trading/trades', { token: alice.token });
    assert.equal(trades.body.trades.length, 1);
    assert.equal(trades.body.trades[0].side, 'sell');
  });

  test('a repeated clientOrderId returns the same order and places no second one', async () => {
    const body = { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 60, clientOrderId: 'retry-1' };
    const first = await place(server, carol.token, body);
    const second = await place(server, carol.token, body);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.body.order.id, first.body.order.id);
    const open = await server.http('/api/v1/trading/orders?status=open&commodity=carbon', { token: carol.token });
    assert.equal(open.body.orders.length, 1);
    const conflict = await place(server, carol.token, { ...body, quantity: 11 });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'CLIENT_ORDER_ID_CONFLICT');
  });

  test("another user's order is not found, to read or to cancel", async () => {
    const mine = await place(server, alice.token, { commodity: 'power', side: 'buy', type: 'limit', quantity: 5, price: 45 });
    const id = mine.body.order.id as string;
    assert.equal((await server.http(`/api/v1/trading/orders/${id}`, { token: bob.token })).status, 404);
    const stolen = await server.http(`/api/v1/trading/orders/${id}`, { method: 'DELETE', token: bob.token });
    assert.equal(stolen.status, 404);
    assert.equal(stolen.body.error.code, 'ORDER_NOT_FOUND');
    assert.equal((await server.http(`/api/v1/trading/orders/${id}`, { token: alice.token })).body.order.status, 'new');
    const cancelled = await server.http(`/api/v1/trading/orders/${id}`, { method: 'DELETE', token: alice.token });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.order.status, 'cancelled');
    const again = await server.http(`/api/v1/trading/orders/${id}`, { method: 'DELETE', token: alice.token });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'ORDER_NOT_CANCELLABLE');
  });

  test('bad orders get coded 400s and change nothing', async () => {
    const cases: [Record<string, unknown>, string, string | undefined][] = [
      [{ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price: 75.123 }, 'PRICE_OFF_TICK', 'price'],
      [{ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1 }, 'INVALID_ORDER', 'price'],
      [{ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1.5, price: 75 }, 'INVALID_ORDER', 'quantity'],
      [{ commodity: 'crude_oil', side: 'up', type: 'limit', quantity: 1, price: 75 }, 'INVALID_ORDER', 'side'],
      [{ commodity: 'unobtainium', side: 'buy', type: 'limit', quantity: 1, price: 75 }, 'UNKNOWN_COMMODITY', undefined],
      [{ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price: 75, extra: true }, 'INVALID_ORDER', undefined],
    ];
    const before = alice.orders.length;
    for (const [order, code, field] of cases) {
      const res = await place(server, alice.token, order);
      assert.equal(res.status, 400, JSON.stringify(order));
      assert.equal(res.body.error.code, code, JSON.stringify(res.body));
      if (field) assert.equal(res.body.error.field, field);
    }
    assert.equal((await place(server, '', { commodity: 'crude_oil' })).status, 401);
    assert.equal((await request(alice.socket, 'ping')).ok, true); // anything sent to alice before it has arrived
    assert.equal(alice.orders.length, before, 'no order-update for refused input');
  });

  test('a price a hair off its tick is refused, not rounded onto the grid; on-grid decimals still work (issue 10 item 13)', async () => {
    const before = alice.orders.length;
    for (const price of [75.10000001, 75.1 + 1e-8, 75.099999999]) {
      const res = await place(server, alice.token, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price });
      assert.equal(res.status, 400, String(price));
      assert.equal(res.body.error.code, 'PRICE_OFF_TICK', JSON.stringify(res.body));
      assert.equal(res.body.error.field, 'price');
    }
    const open = await server.http('/api/v1/trading/orders?status=open&commodity=crude_oil', { token: alice.token });
    assert.equal(open.body.orders.length, 0, 'nothing rests from the refused prices');
    assert.equal((await request(alice.socket, 'ping')).ok, true); // anything sent to alice before it has arrived
    assert.equal(alice.orders.length, before, 'no order-update for refused prices');
    const onGrid = await place(server, alice.token, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price: 75.1 });
    assert.equal(onGrid.status, 201, JSON.stringify(onGrid.body));
    assert.equal(onGrid.body.order.price, 75.1);
    const cancelled = await server.http(`/api/v1/trading/orders/${onGrid.body.order.id as string}`, { method: 'DELETE', token: alice.token });
    assert.equal(cancelled.status, 200);
  });

  test('a limit price outside the band is rejected as an order, with its reason', async () => {
    const res = await place(server, alice.token, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price: 500 });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'PRICE_OUT_OF_BAND');
    assert.equal(res.body.error.field, 'price');
    assert.equal(res.body.order.status, 'rejected');
    await until(() => alice.orders.some((o) => o.payload.id === res.body.order.id && o.payload.status === 'rejected'), 3000, 'rejected order-update');
  });

  test('an oversize order is rejected by compliance: 422, a rejected order-update and a critical alert', async () => {
    const res = await place(server, bob.token, { commodity: 'power', side: 'buy', type: 'limit', quantity: 100_001, price: 50 });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'COMPLIANCE_REJECTED');
    const update = await until(() => bob.orders.some((o) => o.payload.status === 'rejected'), 3000, 'rejected order-update');
    void update;
    const rejected = bob.orders.find((o) => o.payload.status === 'rejected');
    assert.match(rejected.payload.reason, /order size/i);
    await until(() => bob.alerts.length === 1, 3000, 'compliance alert');
    const alert = bob.alerts[0];
    assert.equal(alert.type, 'SYSTEM_ALERT');
    assert.equal(alert.userId, 'bob');
    complianceAlertPayloadSchema.parse(alert.payload);
    assert.equal(alert.payload.type, 'COMPLIANCE_ALERT');
    assert.equal(alert.payload.checkType, 'order_size');
    assert.equal(alert.payload.severity, 'critical');
  });
});

describe('post-trade compliance thresholds', () => {
  let server: TestServer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qx-compliance-'));
    const file = join(dir, 'compliance.json');
    writeFileSync(file, JSON.stringify({ users: { dave: { crude_oil: { positionLimit: 1000 } } } }));
    server = await startServer({ COMPLIANCE_FILE: file });
  });
  after(() => server.close());

  test('crossing 0.8 raises one medium alert in the seed shape; more fills below 0.9 raise none', async () => {
    const dave = await follower(server, 'dave');
    const maker = await follower(server, 'maker');
    await place(server, maker.token, { commodity: 'crude_oil', side: 'sell', type: 'limit', quantity: 5000, price: 75 });
    assert.equal((await place(server, dave.token, { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 800 })).status, 201);
    await until(() => dave.alerts.length === 1, 3000, 'threshold alert');
    const alert = dave.alerts[0];
    assert.equal(alert.payload.checkType, 'position_limit');
    assert.equal(alert.payload.severity, 'medium');
    assert.deepEqual(
      [alert.payload.details.currentPosition, alert.payload.details.limit, alert.payload.details.utilization],
      [800, 1000, 0.8],
    );
    assert.equal((await place(server, dave.token, { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 50 })).status, 201);
    await until(() => dave.trades.length === 2, 3000, 'second fill');
    // an alert of that fill is committed with it: a round trip after the fill's trade-update would bring it
    assert.equal((await request(dave.socket, 'ping')).ok, true);
    assert.equal(dave.alerts.length, 1, 'once per crossing, not on every fill');
    const breach = await place(server, dave.token, { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 500 });
    assert.equal(breach.status, 422);
    await until(() => dave.alerts.length === 2, 3000, 'pre-trade breach alert');
    assert.equal(dave.alerts[1].payload.checkType, 'position_limit');
    assert.equal(dave.alerts[1].payload.severity, 'critical');
  });
});

export type { Socket };
