/**
 * Market data: the catalogue is enforced (all or nothing), the latest price follows a subscription
 * at once (also after a restart), and each commodity is its own numbered stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, marketSeq, marketUpdate, none, once, request, startServer, subscribeMarket, until } from './helpers.js';

test('unknown commodities are refused and nothing changes', async () => {
  const server = await startServer();
  try {
    const socket = await server.authed('m-unknown');
    const reqError = once(socket, 'request-error');
    const ack = await request(socket, 'subscribe-market', ['crude_oil', 'gold', 'natural_gas', 'bitcoin']);
    // the field at fault named, as every subscription does
    assert.deepEqual(ack, { ok: false, error: { code: 'UNKNOWN_COMMODITY', message: 'Unknown commodity: gold, bitcoin', field: 'commodities' } });
    assert.deepEqual(await reqError, { event: 'subscribe-market', code: 'UNKNOWN_COMMODITY', message: 'Unknown commodity: gold, bitcoin', field: 'commodities' });
    const rooms = server.app.io.of('/').sockets.get(socket.id!)!.rooms;
    assert.deepEqual([...rooms].filter((r) => r.startsWith('market-')), []);
    const silent = none(socket, 'market-update', 300);
    await server.publish(marketUpdate('crude_oil'));
    await server.publish(marketUpdate('natural_gas', 3));
    await silent;
  } finally {
    await server.close();
  }
});

test('a subscription gets the latest price of each commodity at once, after its confirmation', async () => {
  const server = await startServer();
  try {
    const base = { crude_oil: marketSeq(server, 'crude_oil'), brent: marketSeq(server, 'brent'), power: marketSeq(server, 'power') };
    const powerPrice = (server.app.publisher.latestMarketEnvelopes() as any[]).find((e) => e.payload.commodity === 'power')?.payload.price;
    await server.publish(marketUpdate('crude_oil', 75));
    await server.publish(marketUpdate('crude_oil', 76)); // the latest wins
    await server.publish(marketUpdate('brent', 80));
    const socket = await server.authed('m-snap');
    const order: string[] = [];
    socket.onAny((event: string) => order.push(event));
    const updates = collect(socket, 'market-update');
    const ack = await request(socket, 'subscribe-market', ['crude_oil', 'brent', 'power']);
    assert.equal(ack.ok, true);
    // the trading core publishes opening prices at start: power has one without any publish
    const expected: [string, number, number][] = [
      ['brent', 80, base.brent + 1],
      ['crude_oil', 76, base.crude_oil + 2],
    ];
    if (powerPrice !== undefined) expected.push(['power', powerPrice, base.power]);
    await until(() => updates.length >= expected.length, 2000, 'snapshots');
    await none(socket, 'market-update', 200);
    assert.equal(order[0], 'market-subscribed');
    assert.deepEqual(updates.map((u) => [u.payload.commodity, u.payload.price, u.seq]).sort(), expected);
    // a single symbol is accepted as well; re-subscribing sends the snapshot again
    const again = once(socket, 'market-update');
    assert.deepEqual(await request(socket, 'subscribe-market', 'brent'), {
      ok: true,
      commodities: ['brent'],
      message: 'Subscribed to market data for: brent',
    });
    assert.equal((await again).payload.price, 80);
  } finally {
    await server.close();
  }
});

test('seq goes +1 per commodity stream', async () => {
  const server = await startServer();
  try {
    const socket = await server.authed('m-seq');
    await subscribeMarket(server, socket, ['crude_oil', 'carbon']);
    const base = { crude_oil: marketSeq(server, 'crude_oil'), carbon: marketSeq(server, 'carbon') };
    const updates = collect(socket, 'market-update');
    const plan = ['crude_oil', 'carbon', 'crude_oil', 'crude_oil', 'carbon'];
    for (const [i, c] of plan.entries()) {
      const res = await server.publish(marketUpdate(c, 70 + i));
      assert.equal(res.status, 202);
    }
    await until(() => updates.length === plan.length, 2000, 'updates');
    const seqs = (c: string) => updates.filter((u) => u.payload.commodity === c).map((u) => u.seq);
    assert.deepEqual(seqs('crude_oil'), [1, 2, 3].map((n) => base.crude_oil + n));
    assert.deepEqual(seqs('carbon'), [1, 2].map((n) => base.carbon + n));
  } finally {
    await server.close();
  }
});

test('the snapshot and the numbering survive a restart on the same data dir', async () => {
  const first = await startServer({}, { keepData: true });
  const base = marketSeq(first, 'gasoline');
  await first.publish(marketUpdate('gasoline', 2.3));
  await first.publish(marketUpdate('gasoline', 2.4));
  await first.close();
  const second = await startServer({}, { dataDir: first.dataDir });
  try {
    const socket = await second.authed('m-restart');
    const snap = once(socket, 'market-update');
    await request(socket, 'subscribe-market', ['gasoline']);
    const env = await snap;
    // (the trading core republishes its own opening prices only on a new session, not on a restart)
    assert.deepEqual([env.payload.commodity, env.payload.price, env.seq, env.type], ['gasoline', 2.4, base + 2, 'MARKET_UPDATE']);
    const next = once(socket, 'market-update');
    const res = await second.publish(marketUpdate('gasoline', 2.5));
    assert.deepEqual(res.body, { event: 'market-update', stream: 'market-gasoline', seq: base + 3 });
    assert.equal((await next).seq, base + 3);
  } finally {
    await second.close();
  }
});
