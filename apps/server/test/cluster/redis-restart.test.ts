/**
 * Cluster test 5: Redis restarts (kill -9, its data gone, a new epoch) in the middle of a stream
 * of private events. Publishing goes on (PostgreSQL has every event); the gateways notice, fill
 * what they missed from PostgreSQL, and every client gets every event, in order, once. Orders are
 * accepted again once Redis is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, readMetric, sleep, until } from '../helpers.js';
import { CLUSTER_PUBLISH_KEY, startCluster, type Cluster } from './cluster.js';

async function follower(cluster: Cluster, url: string, userId: string): Promise<{ socket: Socket; orders: any[] }> {
  const socket = cluster.client(url);
  const ok = once(socket, 'auth-success', 10_000);
  socket.emit('authenticate', { userId, token: await cluster.sign(userId) });
  await ok;
  const orders = collect(socket, 'order-update');
  const subscribed = once(socket, 'orders-subscribed', 10_000);
  socket.emit('subscribe-orders', userId);
  await subscribed;
  return { socket, orders };
}

test('cluster: a Redis restart mid-stream loses no private event', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 1 });
  if (!cluster) return;
  await cluster.leader();
  const users = ['dave', 'erin', 'frank'];
  const followers = await Promise.all(users.flatMap((u) => cluster.gateways.map((g) => follower(cluster, g.url, u))));
  let published = 0;
  let stop = false;
  t.after(() => {
    stop = true; // a failed assertion must not leave the load running (the test file would never exit)
  });
  const perUser = new Map(users.map((u) => [u, 0]));
  const publisher = (async () => {
    let i = 0;
    while (!stop) {
      const userId = users[i++ % users.length]!;
      const gw = cluster.gateways[i % cluster.gateways.length]!.url;
      const res = await cluster
        .http(gw, '/api/v1/publish', {
          method: 'POST',
          headers: { authorization: `Bearer ${CLUSTER_PUBLISH_KEY}` },
          json: { event: 'order-update', userId, payload: { id: `o-${i}`, userId, status: 'new', filledQuantity: 0, remainingQuantity: 1, averagePrice: 0 } },
        })
        .catch(() => ({ status: 0, body: null }));
      if (res.status === 202) {
        published++;
        perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
      }
      await sleep(10);
    }
  })();
  await until(() => published >= 30, 20_000, 'events before the restart');
  const redisErrors = async () => Promise.all(cluster.gateways.map(async (g) => readMetric(await (await fetch(`${g.url}/metrics`)).text(), 'qx_redis_errors_total')));
  const errorsBefore = await redisErrors();
  await cluster.redis.restart({ downMs: 1000 });
  const restartedAt = Date.now();
  await until(() => published >= 90, 30_000, 'events after the restart');
  stop = true;
  await publisher;
  // every follower ends with every event of its user: 1..N, in order, once
  for (const [index, f] of followers.entries()) {
    const userId: string = users[Math.floor(index / cluster.gateways.length)]!;
    const expected = perUser.get(userId)!;
    await until(() => f.orders.length >= expected, 20_000, `${userId}'s ${expected} events`);
    const seqs = f.orders.map((o) => o.seq as number);
    const start = seqs[0]!;
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => start + i), `${userId}: in order, once`);
    assert.equal(seqs.length, expected);
  }
  t.diagnostic(`${published} events published across the restart; ${followers.length} followers each got all of their user's`);

  // orders work again once Redis is back
  const token = await cluster.sign('dave');
  let placed = { status: 0, body: null as any };
  while (Date.now() - restartedAt < 20_000) {
    placed = await cluster.http(cluster.gateways[0]!.url, '/api/v1/trading/orders', {
      method: 'POST',
      token,
      json: { commodity: 'gasoline', side: 'buy', type: 'limit', quantity: 1, price: 2, timeInForce: 'gtc', clientOrderId: 'after-redis' },
    });
    if (placed.status === 201) break;
    await sleep(200);
  }
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  t.diagnostic(`orders accepted again ${Date.now() - restartedAt} ms after Redis came back`);
  // what the operator's alert and dashboard see: each gateway counted its lost Redis connections
  const errorsAfter = await redisErrors();
  for (const [i, n] of errorsAfter.entries()) assert.ok(n > errorsBefore[i]!, `gateway ${i + 1}: qx_redis_errors_total ${errorsBefore[i]} → ${n}`);
});
