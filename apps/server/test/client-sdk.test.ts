/**
 * The TypeScript SDK (@qx/client) against the real gateway: subscriptions and every data event,
 * duplicates dropped, drops recovered without loss (with and without Socket.IO connection state
 * recovery, and past the gateway's replay limit), token refresh, coded errors, disconnect reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantEnergxClient, QuantEnergxError, type Envelope, type QuantEnergxClientOptions } from '@qx/client';
import { startServer, until, sleep, request, marketUpdate, orderUpdate, tradeUpdate, complianceAlert, systemAlert, type TestServer } from './helpers.js';

function sdk(server: TestServer, userId: string, opts: Partial<QuantEnergxClientOptions> & { ttlSeconds?: number } = {}): QuantEnergxClient {
  const { ttlSeconds, ...rest } = opts;
  const client = new QuantEnergxClient({
    url: server.url,
    userId,
    getToken: () => server.sign(userId, { ttlSeconds: ttlSeconds ?? 3600 }),
    reconnection: { delayMs: 50, delayMaxMs: 200 },
    requestTimeoutMs: 3000,
    ...rest,
  });
  return client;
}

/** Everything a client delivers, per event. */
function record(client: QuantEnergxClient) {
  const seen = {
    market: [] as Envelope<'market-update'>[],
    orders: [] as Envelope<'order-update'>[],
    trades: [] as Envelope<'trade-update'>[],
    compliance: [] as Envelope<'compliance-alert'>[],
    system: [] as Envelope<'system-alert'>[],
    errors: [] as Error[],
  };
  client.on('market-update', (e) => seen.market.push(e));
  client.on('order-update', (e) => seen.orders.push(e));
  client.on('trade-update', (e) => seen.trades.push(e));
  client.on('compliance-alert', (e) => seen.compliance.push(e));
  client.on('system-alert', (e) => seen.system.push(e));
  client.on('error', (e) => seen.errors.push(e));
  return seen;
}

const seqs = (list: { seq: number }[]) => list.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publishOrders(server: TestServer, userId: string, ids: string[]): Promise<void> {
  for (const id of ids) assert.equal((await server.publish(orderUpdate(userId, id))).status, 202);
}

test('subscribes and receives market, order, trade, compliance and system events', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  await server.publish(marketUpdate('crude_oil', 75.25));
  const client = sdk(server, 'u1');
  t.after(() => client.close());
  const seen = record(client);

  const auth = await client.connect();
  assert.equal(auth.userId, 'u1');
  assert.equal(client.authenticated, true);
  const market = await client.subscribeMarket(['crude_oil', 'natural_gas']);
  assert.deepEqual(market.commodities, ['crude_oil', 'natural_gas']);
  assert.equal(market.message, 'Subscribed to market data for: crude_oil, natural_gas');
  assert.deepEqual(await client.joinTrading(), { room: 'trading-u1', message: 'Joined trading room for user u1' });
  assert.deepEqual(await client.subscribeOrders(), { userId: 'u1', room: 'orders-u1', message: 'Subscribed to order updates for user u1' });
  assert.equal((await client.subscribeCompliance()).room, 'compliance-u1');
  assert.equal(typeof (await client.ping()).timestamp, 'number');

  // the snapshot on subscribe: the latest price of each commodity (the gateway may hold an opening one for natural_gas)
  await until(() => client.market.get('crude_oil')?.price === 75.25, 3000, 'market snapshot');
  const snapshots = seen.market.length;

  await server.publish(marketUpdate('crude_oil', 76.5));
  await server.publish(marketUpdate('natural_gas', 3.1));
  await server.publish(orderUpdate('u1', 'o1'));
  await server.publish(tradeUpdate('u1', 't1'));
  await server.publish(complianceAlert('u1'));
  await server.publish(systemAlert());
  await server.publish(orderUpdate('u2', 'not-mine'));
  await until(() => seen.market.length === snapshots + 2 && seen.orders.length === 1 && seen.trades.length === 1 && seen.compliance.length === 1 && seen.system.length === 1, 3000, 'all events');

  assert.equal(client.market.get('crude_oil')?.price, 76.5);
  assert.equal(client.market.get('natural_gas')?.price, 3.1);
  assert.equal(seen.orders[0]?.type, 'ORDER_UPDATE');
  assert.equal(seen.orders[0]?.payload.id, 'o1');
  assert.equal(seen.trades[0]?.payload.id, 't1');
  assert.equal(seen.compliance[0]?.type, 'SYSTEM_ALERT');
  assert.equal(seen.compliance[0]?.payload.type, 'COMPLIANCE_ALERT');
  assert.equal(seen.system[0]?.payload.alertType, 'market_volatility');
  assert.deepEqual(client.subscriptions(), { market: ['crude_oil', 'natural_gas'], trading: ['u1'], orders: ['u1'], compliance: ['u1'] });

  // undo
  await client.unsubscribeMarket('natural_gas');
  await client.unsubscribeOrders();
  await server.publish(marketUpdate('natural_gas', 3.2));
  await server.publish(orderUpdate('u1', 'o2'));
  assert.equal((await request(client.socket, 'ping')).ok, true); // what was sent to the client before the answer has arrived
  assert.equal(seen.orders.length, 1);
  assert.equal(client.market.has('natural_gas'), false);
  assert.deepEqual(seen.errors, []);
});

test('errors are surfaced with their codes', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const client = sdk(server, 'u1');
  t.after(() => client.close());
  const requestErrors: QuantEnergxError[] = [];
  client.on('request-error', (e) => requestErrors.push(e));
  await client.connect();

  await assert.rejects(client.subscribeMarket(['crude_oil', 'unobtainium']), (err: unknown) => {
    assert.ok(err instanceof QuantEnergxError);
    assert.equal(err.code, 'UNKNOWN_COMMODITY');
    assert.equal(err.event, 'subscribe-market');
    assert.match(err.message, /unobtainium/);
    return true;
  });
  await assert.rejects(client.subscribeOrders('someone-else'), { name: 'QuantEnergxError', code: 'FORBIDDEN' });
  await assert.rejects(client.subscribeMarket([]), { code: 'INVALID_PAYLOAD' });
  await until(() => requestErrors.length === 3, 3000, 'request-error events');
  assert.deepEqual(requestErrors.map((e) => e.code), ['UNKNOWN_COMMODITY', 'FORBIDDEN', 'INVALID_PAYLOAD']);
  assert.deepEqual(client.subscriptions().market, []);

  // refused credentials: connect() rejects with the code, in both authentication modes
  for (const authMode of ['handshake', 'event'] as const) {
    const bad = new QuantEnergxClient({ url: server.url, userId: 'u1', token: 'not-a-jwt', authMode });
    const authErrors: string[] = [];
    bad.on('auth-error', (e) => authErrors.push(e.code));
    await assert.rejects(bad.connect(), { code: 'INVALID_TOKEN' });
    assert.deepEqual(authErrors, ['INVALID_TOKEN']);
    bad.close();
    const other = new QuantEnergxClient({ url: server.url, userId: 'u1', token: await server.sign('u2'), authMode });
    await assert.rejects(other.connect(), { code: 'USER_MISMATCH' });
    other.close();
  }
  // a request before connect()
  const idle = sdk(server, 'u1');
  await assert.rejects(idle.ping(), { code: 'NOT_CONNECTED' });
  idle.close();
});

test('the seed authentication event works too, and duplicates are dropped', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const client = sdk(server, 'u1', { authMode: 'event' });
  t.after(() => client.close());
  const seen = record(client);
  await client.connect();
  await server.publish(marketUpdate('crude_oil', 70));
  await client.subscribeMarket('crude_oil');
  await client.subscribeOrders();
  await publishOrders(server, 'u1', ['o1', 'o2', 'o3']);
  await until(() => seen.orders.length === 3 && seen.market.length === 1, 3000, 'orders');

  // the gateway replays the whole stream (and the market snapshot again): all duplicates
  const before = client.stats.duplicatesDropped;
  const replay = (await client.socket.timeout(3000).emitWithAck('resume', { 'orders-u1': 0 })) as { ok: boolean };
  assert.equal(replay.ok, true);
  await client.subscribeMarket('crude_oil');
  await until(() => client.stats.duplicatesDropped >= before + 4, 3000, 'duplicates dropped');
  assert.deepEqual(seqs(seen.orders), [1, 2, 3]);
  assert.equal(seen.market.length, 1);
});

for (const recovery of [true, false]) {
  test(`a transport drop loses and doubles nothing (${recovery ? 'session recovered' : 'new session: re-authenticate, re-subscribe, resume'})`, async (t) => {
    const server = await startServer(recovery ? {} : { RECOVERY_WINDOW_MS: '0' });
    t.after(() => server.close());
    const client = sdk(server, 'u1');
    t.after(() => client.close());
    const seen = record(client);
    const connects: boolean[] = [];
    client.on('connect', (info) => connects.push(info.recovered));
    await client.connect();
    await Promise.all([client.subscribeMarket('crude_oil'), client.joinTrading(), client.subscribeOrders(), client.subscribeCompliance()]);
    await publishOrders(server, 'u1', ['o1', 'o2']);
    await until(() => seen.orders.length === 2, 3000, 'first orders');

    // kill the transport; publish while the client is away
    const disconnected = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
    const id = client.socket.id!;
    client.socket.io.engine.close();
    await disconnected;
    // once the server has seen the drop: an event written to the closing transport would leave it
    // unsure what arrived, and the session would not be recovered (the SDK would still resume)
    await until(() => !server.app.io.of('/').sockets.has(id), 3000, 'the server to see the drop');
    await publishOrders(server, 'u1', ['o3', 'o4', 'o5']);
    await server.publish(tradeUpdate('u1', 't1'));
    await server.publish(complianceAlert('u1'));
    await server.publish(systemAlert());
    await server.publish(marketUpdate('crude_oil', 80));

    await until(() => seen.orders.length === 5 && seen.trades.length === 1 && seen.compliance.length === 1 && seen.system.length === 1, 5000, 'missed events');
    await until(() => client.market.get('crude_oil')?.price === 80, 3000, 'latest market price');
    assert.deepEqual(connects, [false, recovery]);
    // and what follows the reconnect flows as usual
    await publishOrders(server, 'u1', ['o6']);
    await until(() => seen.orders.length === 6, 3000, 'live order');
    await sleep(100);
    assert.deepEqual(seqs(seen.orders), range(1, 6));
    assert.deepEqual(seen.orders.map((e) => e.payload.id), ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']);
    assert.deepEqual(seqs(seen.trades), [1]);
    assert.equal(client.authenticated, true);
    assert.deepEqual(seen.errors, []);
  });
}

test('a stream that had no event yet still loses nothing across a new session', async (t) => {
  const server = await startServer({ RECOVERY_WINDOW_MS: '0' });
  t.after(() => server.close());
  await publishOrders(server, 'u1', ['old-1', 'old-2']); // history before the subscription: not wanted
  const client = sdk(server, 'u1');
  t.after(() => client.close());
  const seen = record(client);
  await client.connect();
  await client.subscribeOrders();
  await until(() => client.positions()['orders-u1'] === 2, 3000, 'stream position read');
  const disconnected = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
  client.socket.io.engine.close();
  await disconnected;
  await publishOrders(server, 'u1', ['o3']);
  await until(() => seen.orders.length === 1, 5000, 'missed order');
  await sleep(100);
  assert.deepEqual(seen.orders.map((e) => e.payload.id), ['o3']);
});

test('more missed events than one replay carries are read from the REST event log', async (t) => {
  const server = await startServer({ RECOVERY_WINDOW_MS: '0' });
  t.after(() => server.close());
  const client = sdk(server, 'u1');
  t.after(() => client.close());
  const seen = record(client);
  await client.connect();
  await client.subscribeOrders();
  await publishOrders(server, 'u1', ['o1']);
  await until(() => seen.orders.length === 1, 3000, 'first order');

  const disconnected = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
  client.socket.io.engine.close();
  await disconnected;
  const missed = 1500;
  server.app.publisher.publishMany(
    Array.from({ length: missed }, (_, i) => ({ event: 'order-update' as const, userId: 'u1', payload: orderUpdate('u1', `m${i}`).payload as never })),
  );
  await until(() => seen.orders.length === missed + 1, 10_000, `${missed} missed orders`);
  await sleep(100);
  assert.deepEqual(seqs(seen.orders), range(1, missed + 1));
  assert.ok(client.stats.logReads >= 1, 'read the event log');
});

test('token refresh: before expiry, and after the gateway says "Token expired"', async (t) => {
  const server = await startServer();
  t.after(() => server.close());

  // proactive: 2-second tokens, refreshed ahead of expiry; nothing is interrupted
  const client = sdk(server, 'u1', { ttlSeconds: 2 });
  t.after(() => client.close());
  const seen = record(client);
  const authErrors: string[] = [];
  client.on('auth-error', (e) => authErrors.push(e.code));
  await client.connect();
  await client.subscribeOrders();
  // two refreshes ahead of expiry take about 3 s
  await until(() => client.stats.tokenRefreshes >= 2, 10_000, 'two token refreshes');
  assert.deepEqual(authErrors, []);
  await publishOrders(server, 'u1', ['o1']);
  await until(() => seen.orders.length === 1, 3000, 'order after refreshes');

  // reactive: no refresh ahead of time, so the token lapses; events published meanwhile still arrive
  const lazy = sdk(server, 'u2', { ttlSeconds: 1, refreshBeforeExpiry: false });
  t.after(() => lazy.close());
  const lazySeen = record(lazy);
  const expired = new Promise<QuantEnergxError>((resolve) => lazy.once('auth-error', resolve));
  await lazy.connect();
  await lazy.subscribeOrders();
  assert.equal((await expired).code, 'TOKEN_EXPIRED');
  await publishOrders(server, 'u2', ['p1', 'p2']);
  await until(() => lazySeen.orders.length === 2, 5000, 'orders after expiry');
  assert.equal(lazy.authenticated, true);
  assert.ok(lazy.stats.tokenRefreshes >= 1);
  assert.deepEqual(seqs(lazySeen.orders), [1, 2]);
  // requests made with a lapsed token wait for the refresh instead of failing
  assert.equal((await lazy.ping()).timestamp > 0, true);
});

test('a disconnect reason from the gateway is surfaced', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const client = sdk(server, 'u1');
  t.after(() => client.close());
  await client.connect();
  const reason = new Promise((resolve) => client.once('disconnect-reason', resolve));
  const disconnect = new Promise<{ notice: unknown; willReconnect: boolean }>((resolve) => client.once('disconnect', resolve));
  await server.app.close();
  assert.deepEqual(await reason, { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' });
  const info = await disconnect;
  assert.deepEqual(info.notice, { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' });
  assert.equal(info.willReconnect, true);
});

test('order management: amendOrder, cancelAll and flatten, with the gateway\'s codes', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = sdk(server, 'alice');
  const bob = sdk(server, 'bob');
  t.after(() => alice.close());
  t.after(() => bob.close());
  await alice.connect();
  const seen = record(alice);
  await alice.subscribeOrders();
  const place = async (userId: string, order: Record<string, unknown>) =>
    (await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign(userId), json: order })).body.order;

  const resting = await place('alice', { commodity: 'brent', side: 'buy', type: 'limit', quantity: 100, price: 78 });
  await until(() => seen.orders.length === 1, 3000, 'placed');
  const amended = await alice.amendOrder(resting.id, { price: '78.5', quantity: 80 });
  assert.deepEqual([amended.id, amended.price, amended.quantity, amended.status], [resting.id, 78.5, 80, 'new']);
  await until(() => seen.orders.length === 2, 3000, 'the amend order-update');
  assert.equal(seen.orders[1]?.payload.quantity, 80);
  await assert.rejects(alice.amendOrder(resting.id, { price: 78.501 }), (e: unknown) => e instanceof QuantEnergxError && e.code === 'PRICE_OFF_TICK');
  await assert.rejects(bob.amendOrder(resting.id, { quantity: 10 }), (e: unknown) => e instanceof QuantEnergxError && e.code === 'ORDER_NOT_FOUND');

  await place('alice', { commodity: 'carbon', side: 'sell', type: 'limit', quantity: 10, price: 71 });
  assert.deepEqual((await alice.cancelAll({ commodity: 'brent' })).map((o) => o.id), [resting.id]);
  assert.equal((await alice.cancelAll()).length, 1);
  assert.deepEqual(await alice.cancelAll(), []);

  await assert.rejects(alice.flatten('brent'), (e: unknown) => e instanceof QuantEnergxError && e.code === 'NO_POSITION');
  await place('bob', { commodity: 'brent', side: 'sell', type: 'limit', quantity: 30, price: 79 });
  await place('alice', { commodity: 'brent', side: 'buy', type: 'market', quantity: 30 });
  await place('bob', { commodity: 'brent', side: 'buy', type: 'limit', quantity: 30, price: 78.9 });
  const flat = await alice.flatten('brent');
  assert.deepEqual([flat.side, flat.type, flat.quantity, flat.status], ['sell', 'market', 30, 'filled']);
});
