/**
 * Slow consumers: a socket that stops reading gets its market data conflated and is disconnected
 * with a stated reason once it falls too far behind, while everyone else goes on receiving. A
 * healthy socket that merely gets a burst is not mistaken for a slow one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import type { PublishItem } from '../src/core/event-committer.js';
import { collect, marketUpdate, orderUpdate, request, startServer, subscribeMarket, until } from './helpers.js';
import { RawClient } from './raw-client.js';

const commodities = ['crude_oil', 'brent', 'natural_gas', 'heating_oil', 'gasoline', 'power', 'carbon'];
const price = (i: number) => Math.round((50 + (i % 1000) / 100) * 100) / 100;

test('a socket that stops reading: conflated, then disconnected with SLOW_CONSUMER; the others keep receiving', async () => {
  const server = await startServer({ SLOW_CONSUMER_BUFFER_BYTES: '1024', SLOW_CONSUMER_MAX_PENDING: '50' });
  const raw = new RawClient(server);
  try {
    const good = await server.authed('fast');
    await subscribeMarket(server, good, commodities);
    assert.equal((await request(good, 'subscribe-orders', 'fast')).ok, true);
    const goodMarket = collect(good, 'market-update');
    const goodOrders = collect(good, 'order-update');

    await raw.connect(await server.sign('slow'));
    assert.equal(((await raw.request('subscribe-market', commodities)) as { ok: boolean }).ok, true);
    assert.equal(((await raw.request('subscribe-orders', 'slow')) as { ok: boolean }).ok, true);
    const slowId = [...server.app.io.of('/').sockets.values()].find((s) => s.data.auth?.userId === 'slow')!.id;
    raw.tcp.pause();

    // market data until the slow socket's writes back up and its updates are conflated
    let published = 0;
    const conflatedBefore = await server.metric('qx_market_updates_conflated_total');
    // bounded by count, not time (a loaded machine publishes slowly): the kernel's loopback buffers
    // (a few MB each way) fill long before 400,000 updates (~60 MB)
    while ((await server.metric('qx_market_updates_conflated_total')) === conflatedBefore) {
      assert.ok(published < 400_000, 'market data was never conflated');
      for (let i = 0; i < 1000; i++, published++) {
        server.app.publisher.publish(marketUpdate(commodities[published % commodities.length], price(published)) as PublishItem);
        if (i % 50 === 0) await turn();
      }
      await turn();
    }
    assert.ok(server.app.io.of('/').sockets.has(slowId), 'conflation alone does not disconnect');
    // the fast socket got every update
    await until(() => goodMarket.length === published, 60_000, `fast socket market data (${goodMarket.length}/${published})`);

    // private events are never conflated: past SLOW_CONSUMER_MAX_PENDING the slow socket goes
    for (let i = 0; i < 80; i++) {
      await server.publish(orderUpdate('slow', `s${i}`));
      await server.publish(orderUpdate('fast', `f${i}`));
    }
    await until(() => !server.app.io.of('/').sockets.has(slowId), 5000, 'slow consumer disconnect');
    assert.equal(await server.metric('qx_slow_consumer_disconnects_total'), 1);
    await until(() => goodOrders.length === 80, 5000, 'fast socket orders');
    assert.deepEqual(goodOrders.map((e) => e.seq), Array.from({ length: 80 }, (_, i) => i + 1));
    assert.equal(good.connected, true);

    // the slow socket, reading again, finds the reason after what it was sent; its events are in the log
    raw.tcp.resume();
    await until(() => raw.events('disconnect-reason').length > 0, 10_000, 'disconnect-reason');
    assert.deepEqual(raw.events('disconnect-reason')[0], {
      code: 'SLOW_CONSUMER',
      numeric: 4500,
      message: 'Client could not keep up with its private event stream',
    });
    const log = await server.http('/api/v1/events?stream=orders-slow&limit=1000', { token: await server.sign('slow') });
    assert.equal(log.body.events.length, 80);
  } finally {
    raw.ws.terminate();
    await server.close();
  }
});

test('a healthy socket that gets a burst in one turn is not taken for a slow consumer', async () => {
  const server = await startServer({ SLOW_CONSUMER_MAX_PENDING: '20' });
  try {
    const socket = await server.authed('burst');
    assert.equal((await request(socket, 'subscribe-orders', 'burst')).ok, true);
    const orders = collect(socket, 'order-update');
    // an engine batch: many events published atomically, in one turn
    const batch = Array.from({ length: 60 }, (_, i) => orderUpdate('burst', `b${i}`) as PublishItem);
    server.app.publisher.publishMany(batch);
    await until(() => orders.length === 60, 5000, `burst delivered (${orders.length}/60)`);
    assert.equal(socket.connected, true);
    // a resume of more than SLOW_CONSUMER_MAX_PENDING events is a burst too
    orders.length = 0;
    const resumed = await request(socket, 'resume', { 'orders-burst': 0 });
    assert.deepEqual(resumed, { ok: true, streams: { 'orders-burst': { replayed: 60, lastSeq: 60 } } });
    await until(() => orders.length === 60, 5000, `replay delivered (${orders.length}/60)`);
    assert.deepEqual(orders.map((e) => e.seq), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.equal(socket.connected, true);
    assert.equal(await server.metric('qx_slow_consumer_disconnects_total'), 0);
  } finally {
    await server.close();
  }
});
