/**
 * Amend, cancel all and flatten through any gateway of a cluster (commands to the engine leader),
 * and an amended book rebuilt with the same queue order by the standby after kill -9 of the leader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers.js';
import { startCluster } from './cluster.js';

test('cluster: amend, cancel all and flatten through any gateway; the standby restores the amended queue', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 2, env: { SIMULATOR: 'off' } });
  if (!cluster) return;
  const [g1, g2] = cluster.gateways as [(typeof cluster.gateways)[number], (typeof cluster.gateways)[number]];
  const first = await cluster.leader();
  const token = Object.fromEntries(await Promise.all(['alice', 'bob', 'carol', 'dave'].map(async (u) => [u, await cluster.sign(u)] as const)));
  const call = (url: string, user: string, method: string, path: string, json?: unknown) =>
    cluster.http(url, path, { method, token: token[user]!, ...(json === undefined ? {} : { json }) });
  const place = async (url: string, user: string, order: Record<string, unknown>) => {
    const r = await call(url, user, 'POST', '/api/v1/trading/orders', order);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.order as { id: string };
  };

  const a = await place(g1.url, 'alice', { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 });
  const b = await place(g2.url, 'bob', { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 });
  const c = await place(g1.url, 'carol', { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 10, price: 70 });
  const up = await call(g2.url, 'alice', 'PATCH', `/api/v1/trading/orders/${a.id}`, { quantity: 12 }); // to the back
  assert.deepEqual([up.status, up.body.order?.quantity], [200, 12], JSON.stringify(up.body));
  const down = await call(g1.url, 'carol', 'PATCH', `/api/v1/trading/orders/${c.id}`, { quantity: 5 }); // keeps her place
  assert.deepEqual([down.status, down.body.order?.quantity], [200, 5]);
  const bad = await call(g2.url, 'bob', 'PATCH', `/api/v1/trading/orders/${a.id}`, { quantity: 5 });
  assert.deepEqual([bad.status, bad.body.error?.code], [404, 'ORDER_NOT_FOUND']);
  const offTick = await call(g1.url, 'alice', 'PATCH', `/api/v1/trading/orders/${a.id}`, { price: 70.001 });
  assert.deepEqual([offTick.status, offTick.body.error?.code], [400, 'PRICE_OFF_TICK']);

  // cancel all and flatten through a gateway: dave's own orders, dave's own position
  await place(g2.url, 'dave', { commodity: 'power', side: 'buy', type: 'limit', quantity: 5, price: 45 });
  const all = await call(g1.url, 'dave', 'DELETE', '/api/v1/trading/orders?commodity=power');
  assert.deepEqual([all.status, all.body.cancelled?.length], [200, 1]);
  const flat = await call(g2.url, 'dave', 'POST', '/api/v1/trading/positions/power/flatten');
  assert.deepEqual([flat.status, flat.body.error?.code], [409, 'NO_POSITION']);

  // kill -9 the leader: the standby restores the book from PostgreSQL with the amended queue
  first.child.kill('SIGKILL');
  await first.exited;
  const deadline = Date.now() + 60_000;
  let book: { bids: unknown[] } | null = null;
  while (Date.now() < deadline) {
    const r = await call(g1.url, 'dave', 'GET', '/api/v1/market/carbon/book?depth=5');
    if (r.status === 200) {
      book = r.body;
      break;
    }
    await sleep(200);
  }
  assert.ok(book, 'a new leader answers');
  assert.notEqual((await cluster.leader()).name, first.name);
  assert.deepEqual(book.bids, [{ price: 70, quantity: 27, orders: 3 }]);
  const sold = await call(g2.url, 'dave', 'POST', '/api/v1/trading/orders', { commodity: 'carbon', side: 'sell', type: 'market', quantity: 27 });
  assert.equal(sold.status, 201, JSON.stringify(sold.body));
  const trades = await call(g1.url, 'dave', 'GET', '/api/v1/trading/trades?commodity=carbon');
  // newest first: the fills in queue order were bob, carol, alice
  assert.deepEqual(trades.body.trades.map((x: { counterpartyOrderId: string }) => x.counterpartyOrderId).reverse(), [b.id, c.id, a.id]);
  // dave is short 27 now; flattening through the new leader finds no offer to buy from
  const flatNow = await call(g1.url, 'dave', 'POST', '/api/v1/trading/positions/carbon/flatten');
  assert.deepEqual([flatNow.status, flatNow.body.error?.code], [422, 'NO_LIQUIDITY']);
  await place(g2.url, 'bob', { commodity: 'carbon', side: 'sell', type: 'limit', quantity: 30, price: 70.5 });
  const closed = await call(g1.url, 'dave', 'POST', '/api/v1/trading/positions/carbon/flatten', { clientOrderId: 'dave-flat-1' });
  assert.deepEqual([closed.status, closed.body.order?.side, closed.body.order?.filledQuantity], [201, 'buy', 27]);
  // its answer lost, the retry goes to the other gateway: the same order, nothing traded again (the engine leader keeps the id)
  const retry = await call(g2.url, 'dave', 'POST', '/api/v1/trading/positions/carbon/flatten', { clientOrderId: 'dave-flat-1' });
  assert.deepEqual([retry.status, retry.body.order?.id, retry.body.order?.clientOrderId], [201, closed.body.order?.id, 'dave-flat-1']);
});
