/**
 * Cluster test 4: fencing. SIGSTOP the engine leader: the standby sees its lease run out, fences
 * it off and leads. SIGCONT the old leader: its writes are refused, it steps down (not ready,
 * leader: false), and the order streams stay numbered without gap or duplicate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, until } from '../helpers.js';
import { startCluster } from './cluster.js';

test('cluster: a paused leader that wakes up after the standby took over cannot write and steps down', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 1, engines: 2, env: { SIMULATOR: 'on' } });
  if (!cluster) return;
  const gw = cluster.gateways[0]!.url;
  const old = await cluster.leader();
  const token = await cluster.sign('carol');
  const place = (clientOrderId: string) =>
    cluster.http(gw, '/api/v1/trading/orders', {
      method: 'POST',
      token,
      json: { commodity: 'carbon', side: 'buy', type: 'limit', quantity: 1, price: 60, timeInForce: 'gtc', clientOrderId },
    });
  assert.equal((await place('before')).status, 201);

  old.child.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const next = await cluster.leader(15_000);
  assert.notEqual(next.name, old.name);
  t.diagnostic(`standby led ${Date.now() - stoppedAt} ms after SIGSTOP of the leader`);
  let placed = await place('during');
  for (let i = 0; placed.status !== 201 && i < 50; i++) {
    await sleep(100);
    placed = await place('during');
  }
  assert.equal(placed.status, 201, JSON.stringify(placed.body));

  old.child.kill('SIGCONT');
  // the old leader's connection was terminated and its term is stale: it notices and stands by
  await until(() => old.logs.some((l) => l.includes('engine stepped down')), 10_000, 'the old leader steps down');
  const health = await cluster.http(old.url, '/health');
  assert.equal(health.body.leader, false);
  assert.equal((await cluster.http(old.url, '/ready')).status, 503);
  assert.equal((await cluster.http(next.url, '/health')).body.leader, true);

  // orders still go through, to the new leader only
  for (let i = 0; i < 5; i++) assert.equal((await place(`after-${i}`)).status, 201);
  const events = await cluster.http(gw, '/api/v1/events?stream=orders-carol&limit=1000', { token });
  const seqs = (events.body.events as { seq: number }[]).map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no gap, no duplicate');
  assert.equal(seqs.length, 7);
  // the old leader wrote nothing after it was fenced off: every order it held is the new leader's too
  const orders = await cluster.http(gw, '/api/v1/trading/orders?limit=100', { token });
  assert.deepEqual((orders.body.orders as { clientOrderId: string }[]).map((o) => o.clientOrderId).sort(), ['after-0', 'after-1', 'after-2', 'after-3', 'after-4', 'before', 'during']);
});
