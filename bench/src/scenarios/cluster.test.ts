/**
 * The cluster scenarios at their tiny size, on a real cluster (a redis-server the bench starts, a
 * fresh PostgreSQL database it creates and drops, gateway and engine processes from
 * apps/server/dist): they run, deliver everything, and report what they promise. Skipped with a
 * message without redis-server, PostgreSQL or a built gateway; required when CI=true.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { clusterInfraMissing } from '../cluster/infra.js';
import { gatewayBuilt } from '../targets/start-target.js';
import { cluster, type ClusterRow } from './cluster.js';
import { failover, type FailoverData } from './failover.js';
import { orders, type OrdersRow } from './orders.js';
import type { ScenarioContext } from './scenario.js';

const context: ScenarioContext = {
  mode: 'tiny',
  runs: 1,
  targets: ['gateway'],
  clients: null,
  rate: null,
  resultsDir: null,
  log: () => undefined,
};

async function infraOrSkip(t: TestContext): Promise<boolean> {
  const missing = (await clusterInfraMissing()) ?? (gatewayBuilt() ? null : 'the gateway is not built (npm run build)');
  if (missing === null) return true;
  if (process.env['CI'] === 'true') throw new Error(`the cluster benchmarks need Redis, PostgreSQL and the built gateway in CI: ${missing}`);
  t.skip(missing);
  return false;
}

test('cluster: fan-out over gateways reaches every socket of every gateway; the peer and the single node are measured alike', { timeout: 240_000 }, async (t) => {
  if (!(await infraOrSkip(t))) return;
  const report = await cluster.run(context);
  const { rows } = report.data as { rows: ClusterRow[] };
  assert.deepEqual(rows.map((r) => r.target), ['cluster', 'socketio-cluster', 'gateway-per-node']);
  for (const row of rows) {
    assert.ok(row.totalsOk, `${row.target}: deliveries = published × subscribers`);
    assert.ok(row.serverUsPerMsg > 0, `${row.target}: server CPU per message measured`);
    assert.ok(row.probeP50Ms > 0 && row.probeP99Ms >= row.probeP50Ms, `${row.target}: latency present`);
  }
  const [clustered, peer, single] = rows as [ClusterRow, ClusterRow, ClusterRow];
  // 2 gateways + the engine + redis-server; 2 Socket.IO processes + redis-server; one gateway
  assert.equal(clustered.processes, 4);
  assert.equal(peer.processes, 3);
  assert.equal(single.processes, 1);
  for (const row of [clustered, peer]) {
    assert.equal(row.probeP99ByGatewayMs.length, 2, `${row.target}: probes on every gateway`);
    assert.ok(row.probeP99ByGatewayMs.every((p) => p > 0), `${row.target}: every gateway's probes received`);
  }
  // the private path crosses nodes: REST on gateway 1, order-update on gateway 2
  assert.ok(clustered.orders > 0 && clustered.orderP99Ms >= clustered.orderP50Ms && clustered.orderP50Ms > 0);
  // place-order over the socket, side by side: acked, and the owner's order-update arrives
  assert.ok(clustered.socketUpdateP50Ms > 0 && clustered.socketUpdateP99Ms >= clustered.socketUpdateP50Ms && clustered.socketAckP99Ms > 0);
  assert.ok(Number.isNaN(peer.orderP50Ms), 'the peer has no order path');
  assert.ok(report.tables[0]!.rows.length === 3);
});

test('failover: engine kill answers orders again, a killed gateway loses no private event, Redis restart resumes delivery', { timeout: 240_000 }, async (t) => {
  if (!(await infraOrSkip(t))) return;
  const report = await failover.run(context);
  const data = report.data as FailoverData;
  assert.equal(data.engine.length, 1);
  assert.ok(data.engine[0]!.firstAcceptedMs > 0);
  assert.equal(data.gateway.resumed, data.gateway.sockets, 'every socket of the killed gateway resumed elsewhere');
  assert.ok(data.gateway.allResumedMs > 0);
  assert.ok(data.gateway.privateAccepted > 0);
  assert.equal(data.gateway.privateLost, 0, 'no private event lost');
  assert.ok(data.gateway.privateReceived >= data.gateway.privateAccepted);
  assert.equal(data.redis.length, 1);
  assert.ok(data.redis[0]!.totalMs >= data.redis[0]!.resumedAfterRestartMs && data.redis[0]!.resumedAfterRestartMs >= 0);
});

test('orders: one process and the cluster answer every place and cancel; throughput and latency below saturation measured', { timeout: 240_000 }, async (t) => {
  if (!(await infraOrSkip(t))) return;
  const report = await orders.run(context);
  const { rows } = report.data as { rows: OrdersRow[] };
  assert.deepEqual(
    rows.map((r) => r.deployment),
    process.env['BENCH_BEFORE_ROOT'] ? ['one process', 'one process', 'cluster', 'cluster'] : ['one process', 'cluster'],
  );
  for (const row of rows) {
    assert.equal(row.failures, 0, `${row.deployment}: every place answered 201 and every cancel 200, none shed`);
    assert.ok(row.ordersPerSec > 0, `${row.deployment}: orders/s measured`);
    for (const o of row.open) {
      assert.ok(o.ordersPerSec > 0 && o.p50Ms > 0 && o.p99Ms >= o.p50Ms, `${row.deployment} @${o.share}: latency present`);
    }
  }
});
