/**
 * The private path of an order, timed hop by hop (`qx_order_path_seconds{hop}`): a REST order's
 * owner-facing order-update is timed when it is written to the owner's socket, from the request's
 * arrival; in one process every hop is there too (queued = handed to the core at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, request, startServer, until } from './helpers.js';

const HOPS = ['queued', 'started', 'committed', 'published', 'delivered', 'written', 'total'];

test('one process: each hop of a REST order to its owner\'s order-update is timed; an order nobody follows is not', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  for (const hop of HOPS) assert.equal(await server.metric('qx_order_path_seconds_count', { hop }), 0, `${hop} starts at 0 and is listed`);
  // nobody follows bob's orders: nothing is written, nothing timed
  const bobToken = await server.sign('bob');
  const unseen = await server.http('/api/v1/trading/orders', { method: 'POST', token: bobToken, json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price: 75, timeInForce: 'gtc' } });
  assert.equal(unseen.status, 201);
  assert.equal(await server.metric('qx_order_path_seconds_count', { hop: 'total' }), 0);

  const alice = await server.authed('alice');
  const updates = collect(alice, 'order-update');
  assert.equal((await request(alice, 'subscribe-orders', 'alice')).ok, true);
  const token = await server.sign('alice');
  for (let i = 0; i < 3; i++) {
    const placed = await server.http('/api/v1/trading/orders', { method: 'POST', token, json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price: 75, timeInForce: 'gtc' } });
    assert.equal(placed.status, 201);
  }
  await until(() => updates.length === 3, 3000, 'three order-updates');
  
  for (const hop of HOPS) assert.equal(await server.metric('qx_order_path_seconds_count', { hop }), 3, hop);
  const total = await server.metric('qx_order_path_seconds_sum', { hop: 'total' });
  const parts = await Promise.all(HOPS.slice(0, -1).map((hop) => server.metric('qx_order_path_seconds_sum', { hop })));
  assert.ok(total > 0, 'an order takes some time');
  // the hops are consecutive stretches of the same path: together they make the total
  assert.ok(Math.abs(parts.reduce((a, b) => a + b, 0) - total) < 0.001, `hops ${parts.join(' + ')} ≈ total ${total}`);
});
