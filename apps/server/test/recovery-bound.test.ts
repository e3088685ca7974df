/**
 * Issue 10 item 1 (the bound): connection state recovery never claims a recovery it cannot
 * deliver. A recovered socket is replayed from its last confirmed delivery, at most REPLAY_LIMIT
 * (1,000) events per stream; a session that may have missed more is not recovered
 * (`recovered === false`: a fresh session), instead of 1,000 duplicates and a silent gap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, once, orderUpdate, PUBLISH_KEY, request, startServer, until } from './helpers.js';

const reconnecting = { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300, randomizationFactor: 0 };

test('1,500 events since the last confirmed delivery, a cut, 10 more: the session is not claimed as recovered', async () => {
  const server = await startServer();
  try {
    const user = 'bound-user';
    const socket = server.client({ auth: { token: await server.sign(user) }, ...reconnecting });
    await once(socket, 'auth-success');
    assert.equal((await request(socket, 'subscribe-orders', user)).ok, true);
    const orders = collect<{ payload: { id: string } }>(socket, 'order-update');
    const publishBatch = (from: number, n: number) =>
      server.http('/api/v1/publish/batch', {
        method: 'POST',
        json: { events: Array.from({ length: n }, (_, i) => orderUpdate(user, `o-${from + i}`)) },
        headers: { authorization: `Bearer ${PUBLISH_KEY}` },
      });
    for (let i = 0; i < 3; i++) assert.equal((await publishBatch(i * 500, 500)).status, 202);
    await until(() => orders.length === 1500, 10_000, '1,500 order-updates');

    const id = socket.id!;
    const session = once<{ recovered: boolean }>(socket, 'session', 10_000);
    const back = once(socket, 'connect', 10_000);
    socket.io.engine.close();
    await until(() => !server.app.io.of('/').sockets.has(id), 5000, 'server to see the drop');
    assert.equal((await publishBatch(1500, 10)).status, 202);
    await back;
    assert.equal((await session).recovered, false, 'no recovery claimed past the bound');
    assert.equal(socket.recovered, false);
    // a fresh session: nothing is replayed silently short; the client signs in and takes the snapshot
    assert.equal(orders.length, 1500, 'no duplicates, no partial replay');
  } finally {
    await server.close();
  }
});

test('a short absence is still recovered, with the events published meanwhile', async () => {
  const server = await startServer();
  try {
    const user = 'bound-short';
    const socket = server.client({ auth: { token: await server.sign(user) }, ...reconnecting });
    await once(socket, 'auth-success');
    assert.equal((await request(socket, 'subscribe-orders', user)).ok, true);
    const orders = collect<{ payload: { id: string } }>(socket, 'order-update');
    const id = socket.id!;
    const back = once(socket, 'connect', 10_000);
    socket.io.engine.close();
    await until(() => !server.app.io.of('/').sockets.has(id), 5000, 'server to see the drop');
    for (let i = 0; i < 10; i++) assert.equal((await server.publish(orderUpdate(user, `s-${i}`))).status, 202);
    await back;
    assert.equal(socket.recovered, true);
    await until(() => orders.length === 10, 5000, 'the 10 missed');
    assert.deepEqual(orders.map((o) => o.payload.id), Array.from({ length: 10 }, (_, i) => `s-${i}`));
  } finally {
    await server.close();
  }
});
