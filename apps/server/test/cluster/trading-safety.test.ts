/**
 * Cluster test: trading over the socket and its safety nets across nodes (issue 17). An order
 * placed over a socket on gateway 1 reaches its owner on gateway 2; a gateway killed with kill -9
 * cannot act, yet the cancel-on-disconnect of its sockets fires (the engine watches the gateways'
 * presence: within the presence lease plus the grace); a dead-man's switch armed before the engine
 * leader is killed is honoured by the new leader; a kill switch survives the fail-over too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, sleep, until } from '../helpers.js';
import { startCluster, type Cluster } from './cluster.js';

async function authed(cluster: Cluster, url: string, userId: string, roles: string[] = []): Promise<Socket> {
  const s = cluster.client(url);
  const ok = once(s, 'auth-success', 10_000);
  s.emit('authenticate', { userId, token: await cluster.sign(userId, { roles }) });
  await ok;
  return s;
}

const limit = (price: number, extra: Record<string, unknown> = {}) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price, timeInForce: 'gtc', ...extra });
const ask = <T = any>(s: Socket, event: string, payload?: unknown): Promise<T> => (s.timeout(10_000).emitWithAck(event, payload) as Promise<T>);

test('cluster: socket order entry through any gateway; cancel-on-disconnect fires for a gateway killed with kill -9; a dead-man switch and a kill switch survive an engine fail-over', { timeout: 300_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 2, env: { SIMULATOR: 'off' } });
  if (!cluster) return;
  const [g1, g2] = cluster.gateways as [Cluster['gateways'][number], Cluster['gateways'][number]];
  await cluster.leader();

  // the owner watches on gateway 2; the trading socket is on gateway 1
  const watch = await authed(cluster, g2.url, 'cs-alice');
  const seen = collect(watch, 'order-update');
  assert.equal((await ask(watch, 'subscribe-orders', 'cs-alice')).ok, true);
  const trading = await authed(cluster, g1.url, 'cs-alice');
  assert.deepEqual(await ask(trading, 'cancel-on-disconnect', { scope: 'connection' }), { ok: true, scope: 'connection' });
  const placed = await ask(trading, 'place-order', limit(70, { clientOrderId: 'cs-1' }));
  assert.equal(placed.ok, true, JSON.stringify(placed));
  await until(() => seen.some((o) => o.payload.id === placed.order.id), 10_000, 'the order-update on the other gateway');
  // the same order over REST through gateway 2: the original
  const token = await cluster.sign('cs-alice');
  const retried = await cluster.http(g2.url, '/api/v1/trading/orders', { method: 'POST', token, json: limit(70, { clientOrderId: 'cs-1' }) });
  assert.deepEqual([retried.status, retried.body.order.id], [201, placed.order.id]);
  const viaRest = (await cluster.http(g2.url, '/api/v1/trading/orders', { method: 'POST', token, json: limit(69) })).body.order;
  // another user cannot cancel it through either gateway
  const mallory = await authed(cluster, g2.url, 'cs-mallory');
  assert.equal((await ask(mallory, 'cancel-order', placed.order.id)).error.code, 'ORDER_NOT_FOUND');

  // kill -9 of gateway 1: it cannot say its socket is gone; the engine finds the gateway gone
  const killedAt = Date.now();
  g1.child.kill('SIGKILL');
  await until(() => seen.some((o) => o.payload.id === placed.order.id && o.payload.status === 'cancelled'), 20_000, 'cancelled after the gateway died');
  const cancelledAfter = Date.now() - killedAt;
  const cancelled = seen.find((o) => o.payload.id === placed.order.id && o.payload.status === 'cancelled');
  assert.equal(cancelled.payload.reason, 'cancel_on_disconnect');
  // bounded by the presence lease (5 s) + the engine's check (1 s) + the grace (0): well within 12 s
  assert.ok(cancelledAfter < 12_000, `cancelled ${cancelledAfter} ms after the kill`);
  t.diagnostic(`cancel-on-disconnect fired ${cancelledAfter} ms after gateway 1 was killed (presence lease 5000 ms, grace 0)`);
  const open = (await cluster.http(g2.url, '/api/v1/trading/orders?status=open', { token })).body.orders.map((o: any) => o.id);
  assert.deepEqual(open, [viaRest.id], 'the REST order stays');

  // the dead-man's switch across an engine fail-over: armed, the leader killed, honoured by the new one
  const armed = await ask(watch, 'cancel-all-after', { timeoutMs: 8000 });
  assert.equal(armed.ok, true, JSON.stringify(armed));
  const firesAt = Date.parse(armed.firesAt);
  const leader = await cluster.leader();
  leader.child.kill('SIGKILL');
  const standby = cluster.engines.find((e) => e !== leader)!;
  await until(() => seen.some((o) => o.payload.id === viaRest.id && o.payload.status === 'cancelled'), 30_000, "the dead-man's switch fired by the new leader");
  const fired = seen.find((o) => o.payload.id === viaRest.id && o.payload.status === 'cancelled');
  assert.equal(fired.payload.reason, 'dead_man_switch');
  assert.ok(Date.parse(fired.timestamp) >= firesAt - 50, `not before the deadline (${fired.timestamp} vs ${armed.firesAt})`);
  t.diagnostic(`dead-man switch fired ${Date.parse(fired.timestamp) - firesAt} ms after its deadline, by ${standby.name} after the fail-over`);

  // the kill switch survives a fail-over: a third engine stands by, the leader is killed
  await cluster.startEngine('engine-3');
  const risk = await cluster.sign('cs-risk', { roles: ['risk'] });
  const off = await cluster.http(g2.url, '/api/v1/admin/users/cs-bob/trading', { method: 'POST', token: risk, json: { enabled: false, reason: 'fail-over test' } });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  (await cluster.leader()).child.kill('SIGKILL');
  const bob = await cluster.sign('cs-bob');
  let refused = { status: 0, body: null as any };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
    refused = await cluster.http(g2.url, '/api/v1/trading/orders', { method: 'POST', token: bob, json: limit(70) });
    if (refused.status !== 503) break;
  }
  assert.deepEqual([refused.status, refused.body.error.code], [403, 'TRADING_DISABLED']);
  // and market status is known on the gateway that started before any status changed
  const statuses = (await cluster.http(g2.url, '/api/v1/market/status', { token })).body.statuses;
  assert.equal(statuses.length, 7);
});
