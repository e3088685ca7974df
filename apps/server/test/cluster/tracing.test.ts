/**
 * OpenTelemetry traces across the cluster (issue 16): an order placed on gateway 1 whose owner's
 * socket is on gateway 2 is one trace, exported by three processes to a real OTLP/HTTP receiver
 * started here: gateway 1's request and its command on the queue, the engine's side of the
 * command with its match, commit and publish (and the bus's write to Redis), and gateway 2's write
 * of the order-update to the owner's socket — the W3C trace context carried across Redis in the
 * command and in the bus message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, request, until } from '../helpers.js';
import { orderTrace, span, SpanKinds, startOtlpReceiver } from '../otlp-receiver.js';
import { startCluster, type Cluster } from './cluster.js';

async function authed(cluster: Cluster, url: string, userId: string): Promise<Socket> {
  const s = cluster.client(url);
  const ok = once(s, 'auth-success', 10_000);
  s.emit('authenticate', { userId, token: await cluster.sign(userId) });
  await ok;
  return s;
}

const limit = (price: number) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 5, price, timeInForce: 'gtc' });
const PATH = ['engine-command submit-order', 'match', 'commit', 'publish order-update', 'redis publish', 'deliver order-update'];

/** The spans of one traced order across the three processes, parent and child, each on its node. */
function assertAcrossNodes(spans: Parameters<typeof span>[0], rootName: string, nodes: { entry: string; engine: string; owner: string }): void {
  const root = span(spans, rootName);
  assert.deepEqual([root.kind, root.parent, root.resource['qx.node.id'], root.resource['qx.role']], [SpanKinds.server, null, nodes.entry, 'gateway']);
  const sides = spans.filter((s) => s.name === 'engine-command submit-order');
  assert.equal(sides.length, 2, 'the command: one span on each side of the queue');
  const sent = sides.find((s) => s.kind === SpanKinds.client)!;
  const received = sides.find((s) => s.kind === SpanKinds.server)!;
  assert.ok(sent && received, 'a client span (the gateway) and a server span (the engine)');
  assert.deepEqual([sent.parentSpanId, sent.resource['qx.node.id']], [root.spanId, nodes.entry]);
  assert.deepEqual([received.parentSpanId, received.resource['qx.node.id'], received.resource['qx.role']], [sent.spanId, nodes.engine, 'engine']);
  assert.equal(received.attributes['messaging.system'], 'redis');
  assert.equal(received.attributes['messaging.message.id'], sent.attributes['messaging.message.id'], 'both sides name the same command');
  for (const name of ['match', 'commit', 'publish order-update']) {
    const s = span(spans, name);
    assert.deepEqual([s.parentSpanId, s.resource['qx.node.id']], [received.spanId, nodes.engine], `${name} is the engine's, under its side of the command`);
  }
  assert.equal(typeof span(spans, 'commit').attributes['qx.engine.term'], 'number', 'the commit names the leader\'s term');
  const written = span(spans, 'redis publish');
  assert.deepEqual([written.parent, written.kind, written.resource['qx.node.id'], written.attributes['db.system.name']], ['publish order-update', SpanKinds.client, nodes.engine, 'redis']);
  const deliver = span(spans, 'deliver order-update');
  assert.deepEqual([deliver.parent, deliver.kind, deliver.resource['qx.node.id']], ['publish order-update', SpanKinds.consumer, nodes.owner]);
  assert.equal(spans.length, 8, `one span per hop: ${spans.map((s) => `${s.name}@${String(s.resource['qx.node.id'])}`).join(', ')}`);
}

test('cluster: an order placed on gateway 1 with its owner on gateway 2 is one trace across the three processes', { timeout: 210_000 }, async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const cluster = await startCluster(t, { gateways: 2, engines: 1, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' } });
  if (!cluster) return;
  const [g1, g2] = cluster.gateways as [Cluster['gateways'][number], Cluster['gateways'][number]];
  const engine = await cluster.leader();

  const owner = await authed(cluster, g2.url, 'alice');
  const updates = collect(owner, 'order-update');
  assert.equal((await request(owner, 'subscribe-orders', 'alice')).ok, true);

  // REST on gateway 1
  const placed = await cluster.http(g1.url, '/api/v1/trading/orders', { method: 'POST', token: await cluster.sign('alice'), json: limit(65) });
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const id = placed.body.order.id as string;
  await until(() => updates.some((u) => u.payload.id === id), 10_000, 'the order-update on gateway 2');
  const nodes = { entry: g1.name, engine: engine.name, owner: g2.name };
  const restTrace = await orderTrace(receiver, 'POST /api/v1/trading/orders', id, PATH);
  assertAcrossNodes(restTrace, 'POST /api/v1/trading/orders', nodes);
  t.diagnostic(restTrace.map((s) => `${s.name} @${String(s.resource['qx.node.id'])} ${(s.end - s.start).toFixed(2)} ms`).join(' | '));

  // the socket on gateway 1 (alice's second connection, not following her orders there)
  const entry = await authed(cluster, g1.url, 'alice');
  const ack = await request(entry, 'place-order', limit(66));
  assert.equal(ack.ok, true, JSON.stringify(ack));
  await until(() => updates.some((u) => u.payload.id === ack.order.id), 10_000, 'the socket order\'s update on gateway 2');
  assertAcrossNodes(await orderTrace(receiver, 'place-order', ack.order.id, PATH), 'place-order', nodes);
});
