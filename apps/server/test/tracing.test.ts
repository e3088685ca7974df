/**
 * OpenTelemetry traces, one process (issue 16): with OTEL_EXPORTER_OTLP_ENDPOINT set, the server
 * (main.ts, as `npm start` runs it) sends each order request's trace to a real OTLP/HTTP receiver
 * started here — the request, the engine's match, the commit, the bus publish and the write of
 * the order-update to the owner's socket, parent and child — for REST and socket orders, cancels
 * and amends; a stop sends what is still buffered. With the endpoint unset nothing is exported,
 * and no span is even made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import { installTracer } from '../src/tracing/order-tracing.js';
import { OtelOrderTracer } from '../src/tracing/otel.js';
import { SECRET, collect, once, request, startServer, until } from './helpers.js';
import { orderTrace, span, SpanKinds, startOtlpReceiver } from './otlp-receiver.js';
import { spawnServer, type SpawnedServer } from './spawn.js';
import { describeRun, runProcess } from './run-process.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const signer = new SecretTokenVerifier(SECRET);
const limit = (price: number) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price, timeInForce: 'gtc' });
const ENGINE_STEP = ['match', 'commit', 'publish order-update', 'deliver order-update'];

async function owner(url: string, userId: string): Promise<{ socket: Socket; orders: any[] }> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  const ok = once(socket, 'auth-success', 10_000);
  socket.emit('authenticate', { userId, token: await signer.sign(userId, { roles: [], ttlSeconds: 3600 }) });
  await ok;
  const orders = collect(socket, 'order-update');
  assert.equal((await request(socket, 'subscribe-orders', userId)).ok, true);
  return { socket, orders };
}

async function rest(url: string, path: string, method: string, userId: string, json?: unknown): Promise<{ status: number; body: any }> {
  const token = await signer.sign(userId, { roles: [], ttlSeconds: 3600 });
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? null : JSON.stringify(json),
  });
  return { status: res.status, body: await res.json() };
}

function spawnTraced(receiverUrl: string, extra: Record<string, string> = {}): Promise<SpawnedServer> {
  return spawnServer({
    JWT_SECRET: SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'qx-traces-')),
    NODE_ID: 'solo',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    // batches leave within 50 ms, so the test waits for them, not for the default 5 s
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'qx-traces-test',
    ...extra,
  });
}

async function stop(server: SpawnedServer): Promise<number | string> {
  server.child.kill('SIGTERM');
  return server.exited;
}

/** The engine's part of an order's trace in one process: every hop under the request, the delivery under the publish. */
function assertOnePath(spans: ReturnType<typeof span>[], root: ReturnType<typeof span>): void {
  const [match, commit, publish, deliver] = spans as [ReturnType<typeof span>, ReturnType<typeof span>, ReturnType<typeof span>, ReturnType<typeof span>];
  assert.deepEqual([match.parent, commit.parent, publish.parent, deliver.parent], [root.name, root.name, root.name, 'publish order-update']);
  assert.deepEqual([match.kind, commit.kind, publish.kind, deliver.kind], [SpanKinds.internal, SpanKinds.internal, SpanKinds.producer, SpanKinds.consumer]);
  // one after the other, on one clock: request → match → commit → publish → written to the socket
  assert.ok(root.start <= match.start && match.end <= commit.end && commit.end <= publish.start && publish.start <= deliver.start && deliver.start <= deliver.end, 'hops in order');
  assert.ok(typeof commit.attributes['qx.commit.id'] === 'number' && (commit.attributes['qx.commit.steps'] as number) >= 1, 'the commit names its transaction');
}

test('traces on: each order request is one trace from the request to the write on its owner\'s socket (REST and socket; place, amend, cancel)', { timeout: 120_000 }, async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const server = await spawnTraced(receiver.url);
  t.after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  const alice = await owner(server.url, 'alice');
  t.after(() => alice.socket.disconnect());

  // REST: POST /api/v1/trading/orders
  const placed = await rest(server.url, '/api/v1/trading/orders', 'POST', 'alice', limit(70));
  assert.equal(placed.status, 201);
  const id = placed.body.order.id as string;
  await until(() => alice.orders.some((o) => o.payload.id === id), 5000, 'the order-update');
  const restTrace = await orderTrace(receiver, 'POST /api/v1/trading/orders', id, ENGINE_STEP);
  const root = span(restTrace, 'POST /api/v1/trading/orders');
  assert.equal(root.kind, SpanKinds.server);
  assert.equal(root.parent, null);
  assert.deepEqual(
    [root.attributes['http.request.method'], root.attributes['http.route'], root.attributes['http.response.status_code'], root.attributes['user.id'], root.attributes['qx.commodity'], root.attributes['qx.order.status']],
    ['POST', '/api/v1/trading/orders', 201, 'alice', 'brent', 'new'],
  );
  assert.equal(restTrace.length, 5, `one span per hop: ${restTrace.map((s) => s.name).join(', ')}`);
  assertOnePath(ENGINE_STEP.map((n) => span(restTrace, n)), root);
  assert.equal(span(restTrace, 'match').attributes['qx.order.id'], id);
  // the resource says which service and node
  assert.deepEqual([root.resource['service.name'], root.resource['service.instance.id'], root.resource['qx.node.id'], root.resource['qx.role']], ['qx-traces-test', 'solo', 'solo', 'all']);

  // the socket: place-order, amend-order, then cancel over REST
  const ack = await request(alice.socket, 'place-order', limit(71));
  assert.equal(ack.ok, true);
  const socketTrace = await orderTrace(receiver, 'place-order', ack.order.id, ENGINE_STEP);
  const socketRoot = span(socketTrace, 'place-order');
  assert.deepEqual([socketRoot.kind, socketRoot.attributes['qx.socket.event'], socketRoot.attributes['user.id']], [SpanKinds.server, 'place-order', 'alice']);
  assertOnePath(ENGINE_STEP.map((n) => span(socketTrace, n)), socketRoot);

  const amended = await request(alice.socket, 'amend-order', { orderId: ack.order.id, price: 72 });
  assert.equal(amended.ok, true, JSON.stringify(amended));
  const amendTrace = await orderTrace(receiver, 'amend-order', ack.order.id, ENGINE_STEP);
  assertOnePath(ENGINE_STEP.map((n) => span(amendTrace, n)), span(amendTrace, 'amend-order'));

  const cancelled = await rest(server.url, `/api/v1/trading/orders/${ack.order.id}`, 'DELETE', 'alice');
  assert.equal(cancelled.status, 200);
  const cancelTrace = await orderTrace(receiver, 'DELETE /api/v1/trading/orders/:id', ack.order.id, ENGINE_STEP);
  const cancelRoot = span(cancelTrace, 'DELETE /api/v1/trading/orders/:id');
  assert.equal(cancelRoot.attributes['qx.order.status'], 'cancelled');
  assertOnePath(ENGINE_STEP.map((n) => span(cancelTrace, n)), cancelRoot);

  // a refusal is traced too, with its code; the client's mistake is not the server's error
  const again = await rest(server.url, `/api/v1/trading/orders/${ack.order.id}`, 'PATCH', 'alice', { price: 73 });
  assert.equal(again.status, 409);
  const cancelledTwice = await request(alice.socket, 'cancel-order', { orderId: ack.order.id });
  assert.equal(cancelledTwice.ok, false);
  const refusedTrace = await orderTrace(receiver, 'cancel-order', ack.order.id, ['match']);
  const refused = span(refusedTrace, 'cancel-order');
  assert.equal(refused.attributes['qx.error.code'], cancelledTwice.error.code);
  assert.equal(refused.status, 0, 'a refused order is not a failed request');

  // a stop flushes what is buffered, and the process still exits cleanly
  assert.equal(await stop(server), 0);
});

test('traces off: with no OTLP endpoint (or OTEL_SDK_DISABLED=true) nothing is exported; traces on: a stop sends what is still buffered', { timeout: 120_000 }, async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const late = await startOtlpReceiver();
  t.after(() => late.close());
  // the SDK's default endpoint is localhost:4318: listen there too, so a tracer started by mistake would be heard
  const fallback = await startOtlpReceiver(4318).catch(() => null);
  if (fallback) t.after(() => fallback.close());
  else t.diagnostic('port 4318 is taken: the default endpoint is not watched');
  const servers = await Promise.all([
    spawnTraced('', { NODE_ID: 'unset' }),
    spawnTraced(receiver.url, { NODE_ID: 'disabled', OTEL_SDK_DISABLED: 'true' }),
    // on, but batches would leave only after 10 minutes: what arrives is what the stop flushed
    spawnTraced(late.url, { NODE_ID: 'flushed', OTEL_BSP_SCHEDULE_DELAY: '600000' }),
  ]);
  t.after(() => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });
  const ids: string[] = [];
  for (const server of servers) {
    const bob = await owner(server.url, 'bob');
    const placed = await rest(server.url, '/api/v1/trading/orders', 'POST', 'bob', limit(70));
    assert.equal(placed.status, 201);
    ids.push(placed.body.order.id);
    await until(() => bob.orders.some((o) => o.payload.id === placed.body.order.id), 5000, 'the order-update');
    bob.socket.disconnect();
  }
  const [unset, disabled, flushed] = servers;
  for (const server of [unset, disabled]) {
    assert.ok(!server.logs.some((l) => l.includes('OpenTelemetry traces exported')), 'tracing was not started');
    // a stop would flush any buffered span: once the process is gone, nothing can still come
    assert.equal(await stop(server), 0);
  }
  assert.equal(receiver.requests, 0);
  if (fallback) assert.equal(fallback.requests, 0);

  assert.equal(late.requests, 0, 'nothing exported before the stop');
  assert.equal(await stop(flushed), 0);
  const spans = await orderTrace(late, 'POST /api/v1/trading/orders', ids[2]!, ENGINE_STEP, 1000);
  assert.equal(spans.length, 5);
});

test('traces off costs nothing: no span is made on the order path (a tracer provider registered in the process sees none until ours is installed)', async (t) => {
  let started = 0;
  const counting: SpanProcessor = {
    onStart: () => void started++,
    onEnd: (_span: ReadableSpan) => undefined,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [counting] });
  // anything on the order path that asked OpenTelemetry's global API for a tracer would get this one
  trace.setGlobalTracerProvider(provider);
  t.after(() => {
    installTracer(null);
    trace.disable();
  });
  const server = await startServer();
  t.after(() => server.close());
  const carol = await server.authed('carol');
  const orders = collect(carol, 'order-update');
  assert.equal((await request(carol, 'subscribe-orders', 'carol')).ok, true);
  const token = await server.sign('carol');
  for (let i = 0; i < 3; i++) assert.equal((await server.http('/api/v1/trading/orders', { method: 'POST', token, json: limit(70 + i) })).status, 201);
  assert.equal((await request(carol, 'place-order', limit(74))).ok, true);
  await until(() => orders.length === 4, 3000, 'four order-updates');
  assert.equal(started, 0, 'no span while traces are off');

  // the same path with the tracer installed: the check above could have failed
  installTracer(new OtelOrderTracer(provider.getTracer('check')));
  assert.equal((await request(carol, 'place-order', limit(75))).ok, true);
  await until(() => orders.length === 5, 3000, 'the fifth order-update');
  await until(() => started >= 5, 3000, 'spans of the traced order');
});

test('a malformed OTLP endpoint stops the start (and --check-config) with exit 2, naming the variable', async () => {
  const run = await runProcess(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/server/src/main.ts', '--check-config'], {
    cwd: ROOT,
    env: { JWT_SECRET: 'x'.repeat(32), PUBLISH_API_KEY: 'k'.repeat(16), OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 2, describeRun('--check-config', run));
  assert.match(run.output, /OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL \(got collector:4318\)/);
});
