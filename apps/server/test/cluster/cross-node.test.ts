/**
 * Cluster test 1: orders through any gateway reach their owner on any other; market data from the
 * engine reaches every gateway; nobody gets another user's private events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, readMetric, until } from '../helpers.js';
import { startCluster, type Cluster } from './cluster.js';

async function authed(cluster: Cluster, url: string, userId: string): Promise<Socket> {
  const s = cluster.client(url);
  const ok = once(s, 'auth-success', 10_000);
  s.emit('authenticate', { userId, token: await cluster.sign(userId) });
  await ok;
  return s;
}

test('cluster: an order placed on gateway 1 reaches its owner on gateway 2; market data reaches every gateway; no cross-user leak', { timeout: 210_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 1, env: { SIMULATOR: 'on', MARKET_UPDATES_PER_SECOND: '4' } });
  if (!cluster) return;
  const [g1, g2] = cluster.gateways as [Cluster['gateways'][number], Cluster['gateways'][number]];
  await cluster.leader();

  const alice = await authed(cluster, g2.url, 'alice');
  const bob = await authed(cluster, g1.url, 'bob');
  const aliceOrders = collect(alice, 'order-update');
  const bobOrders = collect(bob, 'order-update');
  const aliceConfirm = once(alice, 'orders-subscribed');
  alice.emit('subscribe-orders', 'alice');
  await aliceConfirm;
  const bobConfirm = once(bob, 'orders-subscribed');
  bob.emit('subscribe-orders', 'bob');
  await bobConfirm;

  // market data: a snapshot on subscribe and live updates, on both gateways
  for (const s of [alice, bob]) {
    const updates = collect(s, 'market-update');
    s.emit('subscribe-market', ['crude_oil']);
    await until(() => updates.length >= 3, 10_000, 'market updates');
    const seqs = updates.map((u) => u.seq as number);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'market seqs increase');
    assert.equal(updates[0].payload.commodity, 'crude_oil');
  }

  // alice orders through gateway 1 (REST); her socket is on gateway 2
  const token = await cluster.sign('alice');
  const placed = await cluster.http(g1.url, '/api/v1/trading/orders', {
    method: 'POST',
    token,
    json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 5, price: 65, timeInForce: 'gtc', clientOrderId: 'x-1' },
  });
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const id = placed.body.order.id as string;
  await until(() => aliceOrders.some((o) => o.payload.id === id), 10_000, 'order-update on the other gateway');
  const update = aliceOrders.find((o) => o.payload.id === id);
  assert.equal(update.type, 'ORDER_UPDATE');
  assert.equal(update.userId, 'alice');
  assert.equal(update.payload.status, 'new');
  // the owner's gateway timed the order's way hop by hop: gateway 1 → the engine → the bus → gateway 2
  const metrics = await fetch(`${g2.url}/metrics`).then((r) => r.text());
  for (const hop of ['queued', 'started', 'committed', 'published', 'delivered', 'written', 'total']) {
    assert.ok(readMetric(metrics, 'qx_order_path_seconds_count', { hop }) >= 1, `hop ${hop} timed on the owner's gateway`);
  }

  // the same order through gateway 2 by clientOrderId: the original, not a second one
  const retried = await cluster.http(g2.url, '/api/v1/trading/orders', {
    method: 'POST',
    token,
    json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 5, price: 65, timeInForce: 'gtc', clientOrderId: 'x-1' },
  });
  assert.equal(retried.status, 201);
  assert.equal(retried.body.order.id, id);

  // cancel through gateway 2, read it back through gateway 1
  const cancelled = await cluster.http(g2.url, `/api/v1/trading/orders/${id}`, { method: 'DELETE', token });
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.order.status, 'cancelled');
  await until(() => aliceOrders.some((o) => o.payload.id === id && o.payload.status === 'cancelled'), 10_000, 'cancel update');
  const read = await cluster.http(g1.url, `/api/v1/trading/orders/${id}`, { token });
  assert.equal(read.body.order.status, 'cancelled');
  const positions = await cluster.http(g1.url, '/api/v1/trading/positions', { token });
  assert.equal(positions.status, 200);
  assert.ok(Array.isArray(positions.body.positions));

  // seqs of alice's order stream: consecutive, each once
  const seqs = aliceOrders.map((o) => o.seq as number);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
  assert.equal(bobOrders.filter((o) => o.userId !== 'bob').length, 0, 'bob saw none of alice’s orders');

  // health says who is who
  const health = await cluster.http(g1.url, '/health');
  assert.equal(health.body.role, 'gateway');
  assert.equal(health.body.nodeId, g1.name);
  const engineHealth = await cluster.http(cluster.engines[0]!.url, '/health');
  assert.equal(engineHealth.body.role, 'engine');
  assert.equal(engineHealth.body.leader, true);
});
