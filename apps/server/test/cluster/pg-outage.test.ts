/**
 * Cluster test 6: PostgreSQL goes away for a few seconds. Orders are answered 503 in bounded time
 * (none hangs), nothing is half-written, and once PostgreSQL is back an engine leads again and
 * orders are accepted; every order answered 201 exists and the order streams have no gap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMetric, sleep } from '../helpers.js';
import { startCluster } from './cluster.js';

test('cluster: PostgreSQL unavailable for a few seconds: 503s in bounded time, nothing half-written, service comes back', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 2, pgProxy: true });
  if (!cluster) return;
  await cluster.leader();
  const token = await cluster.sign('grace');
  const results: { clientOrderId: string; status: number; ms: number; code?: string; id?: string }[] = [];
  let n = 0;
  const place = async () => {
    const clientOrderId = `g-${n++}`;
    const started = Date.now();
    const res = await cluster.http(cluster.gateways[n % 2]!.url, '/api/v1/trading/orders', {
      method: 'POST',
      token,
      json: { commodity: 'heating_oil', side: 'buy', type: 'limit', quantity: 1, price: 2, timeInForce: 'gtc', clientOrderId },
    });
    results.push({ clientOrderId, status: res.status, ms: Date.now() - started, code: res.body?.error?.code, id: res.body?.order?.id });
    return res.status;
  };
  for (let i = 0; i < 5; i++) assert.equal(await place(), 201);
  const pgErrors = async () => {
    let n = 0;
    for (const node of [...cluster.engines, ...cluster.gateways]) n += readMetric(await (await fetch(`${node.url}/metrics`)).text(), 'qx_postgres_errors_total');
    return n;
  };
  const errorsBefore = await pgErrors();

  cluster.pgProxy!.down();
  const downAt = Date.now();
  const during: number[] = [];
  while (Date.now() - downAt < 4000) during.push(await place());
  cluster.pgProxy!.up();
  const upAt = Date.now();
  let back = 0;
  while (Date.now() - upAt < 30_000) {
    if ((await place()) === 201) {
      back = Date.now() - upAt;
      break;
    }
    await sleep(100);
  }
  assert.ok(back > 0, 'orders are accepted again after PostgreSQL is back');
  t.diagnostic(`orders accepted again ${back} ms after PostgreSQL came back; ${during.length} orders tried while it was away`);
  for (let i = 0; i < 5; i++) assert.equal(await place(), 201);

  const refused = results.filter((r) => r.status !== 201);
  assert.ok(refused.length > 0, 'some orders were refused while PostgreSQL was away');
  for (const r of refused) {
    assert.equal(r.status, 503, JSON.stringify(r));
    assert.ok(r.code === 'ENGINE_UNAVAILABLE' || r.code === 'SERVICE_UNAVAILABLE', JSON.stringify(r));
    // ENGINE_TIMEOUT_MS (3 s) plus generous slack for a loaded CI machine: no request hangs
    assert.ok(r.ms < 12_000, `answered in ${r.ms} ms`);
  }
  // nothing half-written: the 201s exist, the refused ones never executed, the stream has no gap
  const orders = await cluster.http(cluster.gateways[0]!.url, '/api/v1/trading/orders?limit=500', { token });
  const byClientId = new Map((orders.body.orders as { clientOrderId: string; id: string; createdAt: string }[]).map((o) => [o.clientOrderId, o]));
  for (const r of results.filter((x) => x.status === 201)) assert.equal(byClientId.get(r.clientOrderId)?.id, r.id);
  const events = await cluster.http(cluster.gateways[1]!.url, '/api/v1/events?stream=orders-grace&limit=1000', { token });
  const seqs = (events.body.events as { seq: number }[]).map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
  assert.equal(seqs.length, byClientId.size, 'one order-update per order');
  // what the operator's alert and dashboard see: the nodes counted the failed PostgreSQL connections and queries
  const errorsAfter = await pgErrors();
  assert.ok(errorsAfter > errorsBefore, `qx_postgres_errors_total over the nodes: ${errorsBefore} → ${errorsAfter}`);
});
