/**
 * Operations: health and readiness, the Prometheus metrics, demo mode's dev sign-in, and a
 * graceful SIGTERM of the real process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect } from 'socket.io-client';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import { PUBLISH_KEY, SECRET, connected, once, orderUpdate, readMetric, request, startServer, until } from './helpers.js';
import { spawnServer } from './spawn.js';

test('/health and /ready', async () => {
  const server = await startServer();
  try {
    assert.deepEqual(await server.http('/health'), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await server.http('/ready'), { status: 200, body: { status: 'ready' } });
    const missing = await server.http('/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
  } finally {
    await server.close();
  }
});

test('/metrics exposes connections, authentication, subscriptions, events, failures and latency', async () => {
  const server = await startServer();
  try {
    const user = await server.authed('ops-user');
    const anonymous = server.client();
    await connected(anonymous);
    await request(user, 'subscribe-market', ['crude_oil', 'brent']);
    await request(user, 'subscribe-orders', 'ops-user');
    await request(user, 'subscribe-compliance', 'ops-user');
    assert.equal((await request(user, 'join-trading', 'someone-else')).error.code, 'FORBIDDEN');
    assert.equal((await request(anonymous, 'authenticate', { userId: 'x', token: 'bad' })).error.code, 'INVALID_TOKEN');
    assert.equal((await request(anonymous, 'subscribe-orders', 'x')).error.code, 'NOT_AUTHENTICATED');
    const got = once(user, 'order-update');
    await server.publish(orderUpdate('ops-user'));
    await got;

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    for (const name of [
      'qx_connections',
      'qx_authenticated_sockets',
      'qx_subscriptions',
      'qx_events_emitted_total',
      'qx_auth_failures_total',
      'qx_request_errors_total',
      'qx_publish_to_emit_seconds',
      'qx_market_updates_conflated_total',
      'qx_slow_consumer_disconnects_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.equal(await server.metric('qx_connections'), 2);
    assert.equal(await server.metric('qx_authenticated_sockets'), 1);
    assert.equal(await server.metric('qx_subscriptions', { channel: 'market' }), 2);
    assert.equal(await server.metric('qx_subscriptions', { channel: 'orders' }), 1);
    assert.equal(await server.metric('qx_subscriptions', { channel: 'compliance' }), 1);
    assert.equal(await server.metric('qx_subscriptions', { channel: 'trading' }), 0);
    assert.equal(await server.metric('qx_events_emitted_total', { event: 'order-update' }), 1);
    assert.equal(await server.metric('qx_auth_failures_total', { reason: 'INVALID_TOKEN' }), 1);
    assert.equal(await server.metric('qx_request_errors_total', { code: 'FORBIDDEN' }), 1);
    assert.equal(await server.metric('qx_request_errors_total', { code: 'NOT_AUTHENTICATED' }), 1);
    assert.ok((await server.metric('qx_publish_to_emit_seconds_count')) >= 1);

    // the gauges follow what happens
    user.disconnect();
    await until(() => server.app.io.engine.clientsCount === 1, 2000, 'disconnect');
    assert.equal(await server.metric('qx_authenticated_sockets'), 0);
    assert.equal(await server.metric('qx_subscriptions', { channel: 'market' }), 0);
    // REST errors are counted too
    await server.publish({ event: 'nope' });
    assert.equal(await server.metric('qx_request_errors_total', { code: 'INVALID_PAYLOAD' }), 1);
  } finally {
    await server.close();
  }
});

test('demo mode: POST /api/v1/auth/dev-token issues tokens that work on sockets and REST', async () => {
  const demo = await startServer({ JWT_SECRET: '' });
  try {
    assert.equal(demo.app.config.auth.demo, true);
    const res = await demo.http('/api/v1/auth/dev-token', { method: 'POST', json: { userId: 'demo-user', roles: ['compliance'] } });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['expiresAt', 'roles', 'token', 'userId']);
    assert.equal(res.body.userId, 'demo-user');
    assert.deepEqual(res.body.roles, ['compliance']);
    const socket = demo.client();
    const auth = await request(socket, 'authenticate', { userId: 'demo-user', token: res.body.token });
    assert.equal(auth.ok, true);
    assert.deepEqual(auth.roles, ['compliance']);
    assert.equal((await request(socket, 'subscribe-compliance', 'anyone')).ok, true);
    const events = await demo.http('/api/v1/events?stream=compliance-anyone', { token: res.body.token });
    assert.equal(events.status, 200);
    for (const bad of [{}, { userId: '' }, { userId: 'a b' }, { userId: 'x', roles: ['root'] }, { userId: 'x', extra: 1 }]) {
      const r = await demo.http('/api/v1/auth/dev-token', { method: 'POST', json: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error.code, 'INVALID_PAYLOAD');
    }
  } finally {
    await demo.close();
  }
  const real = await startServer();
  try {
    const res = await real.http('/api/v1/auth/dev-token', { method: 'POST', json: { userId: 'demo-user' } });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'NOT_FOUND');
  } finally {
    await real.close();
  }
});

test('SIGTERM: clients are told SHUTDOWN and the process exits 0', async () => {
  const server = await spawnServer({ JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, DATA_DIR: ':memory:' });
  const token = await new SecretTokenVerifier(SECRET).sign('sig-user', { ttlSeconds: 600 });
  const socket = connect(server.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  try {
    await once(socket, 'auth-success', 10_000);
    const reason = once(socket, 'disconnect-reason', 10_000);
    const disconnected = once(socket, 'disconnect', 10_000);
    server.child.kill('SIGTERM');
    assert.deepEqual(await reason, { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' });
    await disconnected;
    assert.equal(await server.exited, 0);
  } finally {
    socket.disconnect();
    server.child.kill('SIGKILL');
  }
});

test('/metrics: qx_heap_after_gc_bytes is V8\'s used heap measured right after a major GC', async () => {
  const server = await startServer();
  try {
    // a major GC on demand, in this process (the server's): --expose-gc turned on late, gc() from a fresh context
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const read = async (name: string): Promise<number> => readMetric(await (await fetch(`${server.url}/metrics`)).text(), name);
    const before = await read('qx_gc_major_total');
    gc();
    // the observer hears of the GC asynchronously
    let heap = 0;
    for (let i = 0; i < 50 && (heap === 0 || (await read('qx_gc_major_total')) <= before); i++) {
      await new Promise((r) => setTimeout(r, 20));
      heap = await read('qx_heap_after_gc_bytes');
    }
    assert.ok((await read('qx_gc_major_total')) > before, 'the major GC was seen');
    assert.ok(heap > 1024 * 1024, `heap after GC ${heap} bytes`);
    assert.ok(heap <= (await read('qx_nodejs_heap_size_total_bytes')), 'within the heap V8 holds');
  } finally {
    await server.close();
  }
});
