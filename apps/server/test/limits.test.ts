/**
 * Limits, each configurable and answered with a coded error: payload size, requests per second
 * (sustained abuse disconnects), commodities per request, subscriptions per socket, connections
 * per user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connected, once, request, startServer, until } from './helpers.js';

test('inbound payload size: PAYLOAD_TOO_LARGE, counted in bytes, binary attachments included', async () => {
  const server = await startServer({ MAX_PAYLOAD_BYTES: '1024' });
  try {
    const socket = await server.authed('l-size');
    const tooLarge = { ok: false, error: { code: 'PAYLOAD_TOO_LARGE', message: 'Requests are limited to 1024 bytes' } };
    const reqError = once(socket, 'request-error');
    assert.deepEqual(await request(socket, 'subscribe-market', ['crude_oil', 'x'.repeat(2000)]), tooLarge);
    assert.deepEqual(await reqError, { event: 'subscribe-market', ...tooLarge.error });
    // 500 characters, 1500 bytes
    assert.deepEqual(await request(socket, 'join-trading', '€'.repeat(500)), tooLarge);
    assert.deepEqual(await request(socket, 'subscribe-orders', Buffer.alloc(4000)), tooLarge);
    // authenticate too, before anything else is looked at
    const authError = once(socket, 'auth-error');
    socket.emit('authenticate', { userId: 'l-size', token: 'x'.repeat(3000) });
    assert.equal((await authError).code, 'PAYLOAD_TOO_LARGE');
    // below the limit all is well
    assert.equal((await request(socket, 'subscribe-market', ['crude_oil'])).ok, true);
    assert.equal((await request(socket, 'subscribe-orders', 'l-size')).ok, true);
  } finally {
    await server.close();
  }
});

test('events per second per socket: RATE_LIMITED, every request still answered', async () => {
  const server = await startServer({ MAX_EVENTS_PER_SECOND: '5' });
  try {
    const socket = server.client();
    await connected(socket);
    const pongs = collect(socket, 'pong');
    const errors = collect(socket, 'request-error');
    for (let i = 0; i < 30; i++) socket.emit('ping');
    await until(() => pongs.length + errors.length === 30, 3000, 'answers');
    // a bucket of 5, refilled at 5/s while the burst is read: a few more on a slow machine at most
    assert.ok(pongs.length >= 5 && pongs.length <= 12, `pongs: ${pongs.length}`);
    const { retryAfterMs, ...first } = errors[0] as { retryAfterMs?: number };
    assert.deepEqual(first, { event: 'ping', code: 'RATE_LIMITED', message: 'At most 5 requests per second' });
    // when the next request would be accepted: at most one token's refill (200 ms at 5/s)
    assert.ok(typeof retryAfterMs === 'number' && retryAfterMs >= 1 && retryAfterMs <= 200, `retryAfterMs ${retryAfterMs}`);
    assert.ok(errors.every((e) => e.code === 'RATE_LIMITED'));
    // another socket has its own budget
    const other = server.client();
    assert.equal((await request(other, 'ping')).ok, true);
    assert.equal(socket.connected, true);
  } finally {
    await server.close();
  }
});

test('sustained excess disconnects with disconnect-reason ABUSE', async () => {
  const server = await startServer({ MAX_EVENTS_PER_SECOND: '1' });
  try {
    const socket = server.client();
    await connected(socket);
    const reason = once(socket, 'disconnect-reason', 10_000);
    const disconnected = once(socket, 'disconnect', 10_000);
    const flood = setInterval(() => socket.emit('ping'), 40);
    try {
      assert.deepEqual(await reason, { code: 'ABUSE', numeric: 4501, message: 'Sustained rate-limit or protocol abuse' });
      assert.equal(await disconnected, 'io server disconnect');
    } finally {
      clearInterval(flood);
    }
  } finally {
    await server.close();
  }
});

test('commodities per request: TOO_MANY_COMMODITIES, and nothing is subscribed', async () => {
  const server = await startServer({ MAX_COMMODITIES_PER_REQUEST: '3' });
  try {
    const socket = await server.authed('l-comm');
    const res = await request(socket, 'subscribe-market', ['crude_oil', 'brent', 'natural_gas', 'power']);
    assert.deepEqual(res, { ok: false, error: { code: 'TOO_MANY_COMMODITIES', message: 'At most 3 commodities per request' } });
    const rooms = server.app.io.of('/').sockets.get(socket.id!)!.rooms;
    assert.equal([...rooms].filter((r) => r.startsWith('market-')).length, 0);
    assert.equal((await request(socket, 'subscribe-market', ['crude_oil', 'brent', 'natural_gas'])).ok, true);
    const huge = await request(socket, 'subscribe-market', Array.from({ length: 50 }, () => 'crude_oil'));
    assert.equal(huge.error.code, 'TOO_MANY_COMMODITIES');
  } finally {
    await server.close();
  }
});

test('subscriptions per socket: TOO_MANY_SUBSCRIPTIONS, all or nothing', async () => {
  const server = await startServer({ MAX_SUBSCRIPTIONS_PER_SOCKET: '4' });
  try {
    const socket = await server.authed('l-subs');
    assert.equal((await request(socket, 'subscribe-market', ['crude_oil', 'brent'])).ok, true);
    assert.equal((await request(socket, 'subscribe-orders', 'l-subs')).ok, true);
    const tooMany = { ok: false, error: { code: 'TOO_MANY_SUBSCRIPTIONS', message: 'At most 4 subscriptions per socket' } };
    assert.deepEqual(await request(socket, 'subscribe-market', ['power', 'carbon']), tooMany);
    const rooms = () => [...server.app.io.of('/').sockets.get(socket.id!)!.rooms].filter((r) => r.includes('-') && r !== socket.id).sort();
    assert.deepEqual(rooms(), ['market-brent', 'market-crude_oil', 'orders-l-subs']);
    // re-subscribing to what it has costs nothing
    assert.equal((await request(socket, 'subscribe-market', ['crude_oil', 'brent', 'power'])).ok, true);
    assert.deepEqual(await request(socket, 'join-trading', 'l-subs'), tooMany);
    assert.deepEqual(await request(socket, 'subscribe-compliance', 'l-subs'), tooMany);
    assert.equal((await request(socket, 'subscribe-orders', 'l-subs')).ok, true);
    // undo frees a slot
    assert.equal((await request(socket, 'unsubscribe-market', 'power')).ok, true);
    assert.equal((await request(socket, 'join-trading', 'l-subs')).ok, true);
  } finally {
    await server.close();
  }
});

test('connections per user: TOO_MANY_CONNECTIONS on authenticate and on handshake; a slot frees on disconnect', async () => {
  const server = await startServer({ MAX_CONNECTIONS_PER_USER: '2' });
  try {
    const a = await server.authed('l-conn');
    const b = server.client({ auth: { token: await server.sign('l-conn') } });
    await once(b, 'auth-success');
    const c = server.client();
    const res = await request(c, 'authenticate', { userId: 'l-conn', token: await server.sign('l-conn') });
    assert.deepEqual(res, { ok: false, error: { code: 'TOO_MANY_CONNECTIONS', message: 'At most 2 connections per user' } });
    const d = server.client({ auth: { token: await server.sign('l-conn') } });
    const err = await connected(d).then(
      () => assert.fail('connected'),
      (e: Error & { data?: { code: string } }) => e,
    );
    assert.equal(err.data?.code, 'TOO_MANY_CONNECTIONS');
    // other users are not affected
    assert.equal((await request(c, 'authenticate', { userId: 'l-other', token: await server.sign('l-other') })).ok, true);
    // a refresh on a connected socket is not a new connection
    assert.equal((await request(a, 'authenticate', { userId: 'l-conn', token: await server.sign('l-conn') })).ok, true);
    const aId = a.id!;
    a.disconnect();
    const e = server.client();
    await until(() => !server.app.io.of('/').sockets.has(aId), 2000, 'server to see the disconnect');
    assert.equal((await request(e, 'authenticate', { userId: 'l-conn', token: await server.sign('l-conn') })).ok, true);
  } finally {
    await server.close();
  }
});
