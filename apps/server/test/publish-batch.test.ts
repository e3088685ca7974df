import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, marketUpdate, orderUpdate, startServer, until, PUBLISH_KEY, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

const batch = (events: unknown[], key = PUBLISH_KEY) =>
  server.http('/api/v1/publish/batch', { method: 'POST', json: { events }, headers: { authorization: `Bearer ${key}` } });

test('a batch is emitted in order, each event numbered in its own stream', async () => {
  const client = await server.authed('batch-user');
  const market = collect(client, 'market-update');
  const orders = collect(client, 'order-update');
  client.emit('subscribe-market', ['crude_oil', 'brent']);
  client.emit('subscribe-orders', 'batch-user');
  await until(() => true);
  await new Promise((r) => client.once('orders-subscribed', r));
  const res = await batch([marketUpdate('crude_oil', 75), marketUpdate('brent', 79), marketUpdate('crude_oil', 76), orderUpdate('batch-user')]);
  assert.equal(res.status, 202);
  assert.deepEqual(
    res.body.published.map((p: any) => [p.stream, p.seq]),
    [['market-crude_oil', 1], ['market-brent', 1], ['market-crude_oil', 2], ['orders-batch-user', 1]],
  );
  await until(() => market.length === 3 && orders.length === 1, 3000, 'batch delivery');
  assert.deepEqual(market.map((m) => [m.payload.commodity, m.payload.price]), [['crude_oil', 75], ['brent', 79], ['crude_oil', 76]]);
});

test('one bad event refuses the whole batch and names it', async () => {
  const res = await batch([marketUpdate('crude_oil', 75), { event: 'market-update', payload: { commodity: 'crude_oil', price: -1, change: 0, changePercent: 0, volume: 0 } }]);
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'INVALID_PAYLOAD');
  assert.equal(res.body.error.field, 'events.1.payload.price');
  const snapshot = await server.http('/api/v1/market/snapshot', { token: await server.sign('batch-user') });
  const crude = snapshot.body.snapshot.find((s: any) => s.payload.commodity === 'crude_oil');
  assert.equal(crude.seq, 2, 'nothing of the refused batch was published');
  assert.equal((await batch([marketUpdate()], 'wrong-key-0123456789012345')).status, 401);
  assert.equal((await batch([])).status, 400);
});

test('the documented batch of 500 events fits the default limits (far over MAX_PAYLOAD_BYTES): all published, in order; 501 is refused', async () => {
  const client = await server.authed('batch-500');
  const orders = collect(client, 'order-update');
  client.emit('subscribe-orders', 'batch-500');
  await new Promise((r) => client.once('orders-subscribed', r));
  const events = Array.from({ length: 500 }, (_, i) => (i % 2 ? marketUpdate('natural_gas', 3 + i / 1000) : orderUpdate('batch-500', `order-500-${i}`)));
  const bytes = Buffer.byteLength(JSON.stringify({ events }));
  assert.ok(bytes > server.app.config.limits.maxPayloadBytes, `the batch is ${bytes} bytes, over MAX_PAYLOAD_BYTES (${server.app.config.limits.maxPayloadBytes})`);
  const res = await batch(events);
  assert.equal(res.status, 202, JSON.stringify(res.body).slice(0, 300));
  assert.equal(res.body.published.length, 500);
  await until(() => orders.length === 250, 5000, '250 order updates');
  assert.deepEqual(orders.map((o) => o.payload.id), events.filter((_, i) => i % 2 === 0).map((_, k) => `order-500-${k * 2}`));
  const tooMany = await batch([...events, marketUpdate('natural_gas', 3)]);
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.error.code, 'INVALID_PAYLOAD');
});
