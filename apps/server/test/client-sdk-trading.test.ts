/**
 * The TypeScript SDK trading over the socket (issue 17) against real gateways: order calls go over
 * the socket while it is connected and authenticated, over REST otherwise, with the same answers
 * and codes; a retry after a lost socket answer goes over REST (the connection gone) or the socket
 * (a late answer) with the same clientOrderId and trades once; close() ends a call in flight; a halted market (MARKET_HALTED) and a disabled user (TRADING_DISABLED) are refused
 * on both transports; market status in the client; cancel-on-disconnect asked again after a fresh
 * session and kept by a recovered one; the dead-man's switch re-armed on its interval and after a
 * reconnect, stopped (disarmed) by its handle and left standing by close().
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantEnergxClient, QuantEnergxError, type FetchLike, type MarketStatusPayload, type OrderUpdatePayload, type QuantEnergxClientOptions } from '@qx/client';
import { startServer, until, type TestServer } from './helpers.js';

/** The real fetch, recording each call (method, path, the answer's status and idempotency header). */
function countingFetch() {
  const calls: { method: string; path: string; status: number; replayed: boolean }[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    calls.push({ method: init?.method ?? 'GET', path: new URL(url).pathname, status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true' });
    return res;
  };
  return { fetchFn, calls, trading: () => calls.filter((c) => c.path.startsWith('/api/v1/trading/')) };
}

function sdk(server: TestServer, userId: string, opts: Partial<QuantEnergxClientOptions> = {}): QuantEnergxClient {
  return new QuantEnergxClient({
    url: server.url,
    userId,
    getToken: () => server.sign(userId),
    reconnection: { delayMs: 50, delayMaxMs: 200 },
    requestTimeoutMs: 3000,
    ...opts,
  });
}

async function rejection(promise: Promise<unknown>): Promise<QuantEnergxError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof QuantEnergxError, `a QuantEnergxError, not ${String(err)}`);
    return err;
  }
  throw new Error('expected a rejection');
}

const limit = (price: number, extra: Partial<Record<string, unknown>> = {}) => ({ commodity: 'brent', side: 'buy' as const, type: 'limit' as const, quantity: 10, price, timeInForce: 'gtc' as const, ...extra });

async function orderOf(server: TestServer, userId: string, id: string): Promise<OrderUpdatePayload> {
  return (await server.http(`/api/v1/trading/orders/${id}`, { token: await server.sign(userId) })).body.order as OrderUpdatePayload;
}

/** Reads the order over REST until it is cancelled (within `ms`); resolves with it. */
async function cancelledOrder(server: TestServer, userId: string, id: string, ms: number, what: string): Promise<OrderUpdatePayload> {
  const deadline = Date.now() + ms;
  for (;;) {
    const order = await orderOf(server, userId, id);
    if (order.status === 'cancelled') return order;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${order.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The gateway places `userId`'s orders and answers them, and the answers are lost on the wire: on
 * connections made from now on, the acks of the next `count` place-order requests are not written
 * (and with `close-transport` the transport is closed instead). Returns the answers held back.
 */
function loseOrderAnswers(server: TestServer, userId: string, how: 'close-transport' | 'drop', count = 1): { ok: boolean; order?: OrderUpdatePayload }[] {
  const answers: { ok: boolean; order?: OrderUpdatePayload }[] = [];
  server.app.io.on('connection', (socket) => {
    const placeIds = new Set<string>();
    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      const m = typeof packet.data === 'string' && socket.data.auth?.userId === userId ? /^2(\d+)\["place-order"/.exec(packet.data) : null;
      if (m) placeIds.add(m[1]!);
    });
    const write = socket.conn.write.bind(socket.conn);
    socket.conn.write = (data: Parameters<typeof write>[0], ...rest: unknown[]) => {
      const m = typeof data === 'string' ? /^3(\d+)\[/.exec(data) : null;
      if (typeof data !== 'string' || !m || !placeIds.has(m[1]!) || answers.length >= count) return write(data, ...(rest as []));
      answers.push((JSON.parse(data.slice(m[0].length - 1)) as [{ ok: boolean; order?: OrderUpdatePayload }])[0]);
      if (how === 'close-transport') socket.conn.close();
      return socket.conn;
    };
  });
  return answers;
}

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

test('order calls go over the socket while connected (no REST call), over REST when not; the same answers and codes', async (t) => {
  const net = countingFetch();
  const client = sdk(server, 'sock-trader', { fetch: net.fetchFn });
  t.after(() => client.close());
  await client.connect();
  const updates: OrderUpdatePayload[] = [];
  client.on('order-update', (e) => updates.push(e.payload));
  await client.subscribeOrders();

  const placed = await client.placeOrder(limit(70));
  assert.deepEqual([placed.status, placed.price, placed.quantity, placed.userId], ['new', 70, 10, 'sock-trader']);
  assert.match(placed.clientOrderId ?? '', /^qx-[0-9a-f]{24}$/);
  await until(() => updates.some((o) => o.id === placed.id), 3000, 'its order-update');
  const amended = await client.amendOrder(placed.id, { quantity: 6 });
  assert.deepEqual([amended.id, amended.quantity], [placed.id, 6]);
  const second = await client.placeOrder(limit(69));
  assert.equal((await client.cancelOrder(second.id)).status, 'cancelled');
  const third = await client.placeOrder(limit(68, { commodity: 'crude_oil' }));
  assert.deepEqual((await client.cancelAll({ commodity: 'brent' })).map((o) => o.id), [placed.id]);
  assert.deepEqual((await client.cancelAll()).map((o) => o.id), [third.id]);

  // refusals: the gateway's codes, fields and the recorded order, as REST answers them
  const offTick = await rejection(client.placeOrder(limit(70.001)));
  assert.deepEqual([offTick.code, offTick.field, offTick.event], ['PRICE_OFF_TICK', 'price', 'place-order']);
  const outOfBand = await rejection(client.placeOrder(limit(10)));
  assert.deepEqual([outOfBand.code, outOfBand.order?.status], ['PRICE_OUT_OF_BAND', 'rejected']);
  const other = await (await fetch(`${server.url}/api/v1/trading/orders`, { method: 'POST', headers: { authorization: `Bearer ${await server.sign('sock-other')}`, 'content-type': 'application/json' }, body: JSON.stringify(limit(70)) })).json() as { order: OrderUpdatePayload };
  assert.equal((await rejection(client.cancelOrder(other.order.id))).code, 'ORDER_NOT_FOUND');
  const notCancellable = await rejection(client.cancelOrder(second.id));
  assert.deepEqual([notCancellable.code, notCancellable.order?.status], ['ORDER_NOT_CANCELLABLE', 'cancelled']);
  assert.deepEqual(net.trading(), [], 'no order call went over REST');
  // flatten has no socket event: REST
  assert.equal((await rejection(client.flatten('brent'))).code, 'NO_POSITION');
  assert.deepEqual(net.trading().map((c) => `${c.method} ${c.path}`), ['POST /api/v1/trading/positions/brent/flatten']);

  // a client that is not connected: REST, with the same answers
  const restNet = countingFetch();
  const offline = sdk(server, 'sock-trader', { fetch: restNet.fetchFn });
  t.after(() => offline.close());
  const viaRest = await offline.placeOrder(limit(67));
  assert.equal(viaRest.status, 'new');
  const restOffTick = await rejection(offline.placeOrder(limit(70.001)));
  assert.deepEqual([restOffTick.code, restOffTick.field, restOffTick.status], ['PRICE_OFF_TICK', 'price', 400]);
  assert.equal((await offline.cancelOrder(viaRest.id)).status, 'cancelled');
  assert.deepEqual(restNet.trading().map((c) => `${c.method} ${c.status}`), ['POST 201', 'POST 400', 'DELETE 200']);
});

test('a retry after the socket answer is lost goes over REST with the same clientOrderId and gets the same order: one order, not two', async (t) => {
  const answers = loseOrderAnswers(server, 'lost-answer', 'close-transport');
  const net = countingFetch();
  // slow to come back: the retry finds the socket down and goes over REST
  const client = sdk(server, 'lost-answer', { fetch: net.fetchFn, reconnection: { delayMs: 3000, delayMaxMs: 3000, jitter: 0 } });
  t.after(() => client.close());
  await client.connect();
  const placed = await client.placeOrder(limit(71, { clientOrderId: 'lost-1' }));
  assert.equal(answers.length, 1, 'the socket attempt reached the gateway');
  assert.equal(answers[0]?.ok, true);
  assert.equal(placed.id, answers[0]?.order?.id, 'the answer is the order placed over the socket');
  assert.deepEqual(net.trading().map((c) => [c.method, c.path, c.status, c.replayed]), [['POST', '/api/v1/trading/orders', 201, true]], 'retried once over REST, answered as a replay');
  const mine = (await server.http('/api/v1/trading/orders?commodity=brent', { token: await server.sign('lost-answer') })).body.orders as OrderUpdatePayload[];
  assert.deepEqual(mine.filter((o) => o.clientOrderId === 'lost-1').map((o) => o.id), [placed.id], 'one order for one clientOrderId');
});

test('a socket answer that does not come: REQUEST_TIMEOUT, sent again over the socket with the same clientOrderId (one order); close() ends a call in flight at once', async (t) => {
  const answers = loseOrderAnswers(server, 'late-answer', 'drop', 1);
  const net = countingFetch();
  const client = sdk(server, 'late-answer', { fetch: net.fetchFn, requestTimeoutMs: 400 });
  t.after(() => client.close());
  await client.connect();
  const placed = await client.placeOrder(limit(72, { clientOrderId: 'late-1' }));
  assert.equal(answers.length, 1, 'the first answer was lost');
  assert.equal(placed.id, answers[0]?.order?.id, 'the retry answered the same order');
  assert.deepEqual(net.trading(), [], 'both attempts went over the socket');
  const mine = (await server.http('/api/v1/trading/orders?commodity=brent', { token: await server.sign('late-answer') })).body.orders as OrderUpdatePayload[];
  assert.deepEqual(mine.filter((o) => o.clientOrderId === 'late-1').map((o) => o.id), [placed.id]);
  // no retries: the time limit is the answer (each interception watches the connections made after it)
  loseOrderAnswers(server, 'late-answer', 'drop', 1);
  const strict = sdk(server, 'late-answer', { requestTimeoutMs: 400, orderRetries: 0 });
  t.after(() => strict.close());
  await strict.connect();
  const timedOut = await rejection(strict.placeOrder(limit(72)));
  assert.deepEqual([timedOut.code, timedOut.event], ['REQUEST_TIMEOUT', 'place-order']);
  // close() while an order call waits for its answer: CLIENT_CLOSED at once
  const lost = loseOrderAnswers(server, 'late-answer', 'drop', 1);
  const closer = sdk(server, 'late-answer', { requestTimeoutMs: 5000 });
  await closer.connect();
  const placing = closer.placeOrder(limit(72)).then(
    () => null,
    (err: unknown) => err,
  );
  await until(() => lost.length === 1, 3000, 'the order placed, its answer held');
  const closedAt = Date.now();
  closer.close();
  const error = await placing;
  assert.ok(error instanceof QuantEnergxError && error.code === 'CLIENT_CLOSED', String(error));
  assert.ok(Date.now() - closedAt < 500, 'at once');
});

test('market status in the client; MARKET_HALTED and TRADING_DISABLED over the socket and over REST; cancels still work', async (t) => {
  const client = sdk(server, 'status-trader');
  t.after(() => client.close());
  const offline = sdk(server, 'status-trader'); // never connected: REST
  t.after(() => offline.close());
  await client.connect();
  const seen: MarketStatusPayload[] = [];
  client.on('market-status', (s) => seen.push(s));
  assert.deepEqual((await client.subscribeStatus(['brent', 'carbon'])).commodities, ['brent', 'carbon']);
  await until(() => client.marketStatus.size === 2, 3000, 'the status snapshots');
  assert.deepEqual([client.marketStatus.get('brent')?.status, client.acceptsOrders('brent')], ['open', true]);
  assert.equal((await rejection(client.subscribeStatus('nope'))).code, 'UNKNOWN_COMMODITY');
  assert.equal((await rejection(client.subscribeStatus(42 as unknown as string))).code, 'INVALID_PAYLOAD');

  const resting = await client.placeOrder(limit(70));
  const risk = await server.sign('status-risk', { roles: ['risk'] });
  const halt = await server.http('/api/v1/admin/market/brent/halt', { method: 'POST', token: risk, json: { reason: 'Exchange incident', durationMs: 60_000 } });
  assert.equal(halt.status, 200, JSON.stringify(halt.body));
  await until(() => client.marketStatus.get('brent')?.status === 'halted', 3000, 'the halt in the client');
  const halted = client.marketStatus.get('brent')!;
  assert.deepEqual([halted.reason, typeof halted.until, client.acceptsOrders('brent'), client.acceptsOrders('carbon')], ['Exchange incident', 'string', false, true]);
  assert.equal(seen.at(-1)?.status, 'halted');
  const socketHalted = await rejection(client.placeOrder(limit(70)));
  assert.deepEqual([socketHalted.code, socketHalted.field, socketHalted.event], ['MARKET_HALTED', 'commodity', 'place-order']);
  assert.match(socketHalted.message, /Exchange incident/);
  assert.equal((await rejection(client.amendOrder(resting.id, { price: 71 }))).code, 'MARKET_HALTED');
  const restHalted = await rejection(offline.placeOrder(limit(70)));
  assert.deepEqual([restHalted.code, restHalted.status], ['MARKET_HALTED', 409]);
  assert.equal((await client.cancelOrder(resting.id)).status, 'cancelled', 'a cancel works in a halted market');
  assert.equal((await server.http('/api/v1/admin/market/brent/reopen', { method: 'POST', token: risk })).status, 200);
  await until(() => client.acceptsOrders('brent'), 3000, 'reopened');
  assert.equal((await client.placeOrder(limit(70))).status, 'new');
  await client.unsubscribeStatus('carbon');
  assert.deepEqual([...client.marketStatus.keys()], ['brent']);

  // the kill switch: refused everywhere with the reason; cancels work; lifted, orders go again
  const url = '/api/v1/admin/users/status-trader/trading';
  assert.equal((await server.http(url, { method: 'POST', token: risk, json: { enabled: false, reason: 'daily loss limit' } })).status, 200);
  const socketDisabled = await rejection(client.placeOrder(limit(70)));
  assert.equal(socketDisabled.code, 'TRADING_DISABLED');
  assert.match(socketDisabled.message, /daily loss limit/);
  const restDisabled = await rejection(offline.placeOrder(limit(70)));
  assert.deepEqual([restDisabled.code, restDisabled.status], ['TRADING_DISABLED', 403]);
  assert.deepEqual(await client.cancelAll(), [], 'its orders were cancelled by the switch; cancel all still answers');
  assert.equal((await server.http(url, { method: 'POST', token: risk, json: { enabled: true, reason: 'reset' } })).status, 200);
  assert.equal((await client.placeOrder(limit(70))).status, 'new');
});

test("the dead-man's switch: re-armed on its interval and at once after a reconnect; stop() disarms; close() leaves the deadline standing", async (t) => {
  const client = sdk(server, 'dms-trader');
  t.after(() => client.close());
  await client.connect();
  assert.equal((await rejection(client.deadManSwitch({ timeoutMs: 500 }))).field, 'timeoutMs', 'the gateway refuses the first arm');
  assert.equal((await rejection(client.deadManSwitch({ timeoutMs: 2000, every: 2000 }))).field, 'every');
  assert.deepEqual(await client.cancelAllAfter(0), { timeoutMs: 0, firesAt: null });

  // re-armed on its interval: the order outlives the first deadline
  const order = await client.placeOrder(limit(70));
  const startedAt = Date.now();
  const fast = await client.deadManSwitch({ timeoutMs: 1000, every: 250 });
  assert.ok(Date.parse(fast.firesAt ?? '') >= startedAt + 900, `fires a second from now (${fast.firesAt})`);
  await until(() => fast.arms >= 6 && Date.now() - startedAt > 1300, 5000, 'several re-arms past the first deadline');
  assert.equal((await orderOf(server, 'dms-trader', order.id)).status, 'new', 'still open: re-armed in time');
  await fast.stop();
  assert.deepEqual([fast.active, fast.firesAt], [false, null], 'disarmed at the gateway');

  // after a reconnect, at once (not at the next interval)
  const slow = await client.deadManSwitch({ timeoutMs: 10_000, every: 6000 });
  const armedAt = Date.now();
  const connects: boolean[] = [];
  client.on('connect', (info) => connects.push(info.recovered));
  client.socket.io.engine.close();
  await until(() => connects.length === 1 && slow.arms === 2, 4000, 'a re-arm after the reconnect');
  assert.ok(Date.now() - armedAt < 4000, 'before the next interval');
  await slow.stop();

  // close(): no more re-arms; the last deadline fires
  const onClose = await client.deadManSwitch({ timeoutMs: 1000, every: 250 });
  client.close();
  const arms = onClose.arms;
  const cancelled = await cancelledOrder(server, 'dms-trader', order.id, 5000, 'the switch to fire after close()');
  assert.equal(cancelled.reason, 'dead_man_switch');
  assert.deepEqual([onClose.active, onClose.arms], [false, arms], 'not re-armed after close()');

  // over REST while not connected: the same answer
  const offline = sdk(server, 'dms-trader');
  t.after(() => offline.close());
  const restArm = await offline.cancelAllAfter(5000);
  assert.deepEqual([restArm.timeoutMs, typeof restArm.firesAt], [5000, 'string']);
  assert.deepEqual(await offline.cancelAllAfter(0), { timeoutMs: 0, firesAt: null });
});

test('cancelOnDisconnect is asked again on a fresh session: the orders of the new connection are cancelled when it drops too', async (t) => {
  const fresh = await startServer({ RECOVERY_WINDOW_MS: '0' });
  t.after(() => fresh.close());
  const client = sdk(fresh, 'cod-fresh');
  t.after(() => client.close());
  await client.connect();
  assert.equal((await rejection(client.cancelOnDisconnect('everything' as never))).field, 'scope');
  assert.deepEqual(await client.cancelOnDisconnect('connection'), { scope: 'connection' });
  assert.equal(client.cancelOnDisconnectScope, 'connection');
  const connects: boolean[] = [];
  client.on('connect', (info) => connects.push(info.recovered));
  const cutAndWait = async (what: string) => {
    const back = connects.length + 1;
    client.socket.io.engine.close();
    await until(() => connects.length === back && client.authenticated, 5000, `${what}: back, authenticated`);
  };
  const waitCancelled = async (id: string, what: string) => assert.equal((await cancelledOrder(fresh, 'cod-fresh', id, 5000, what)).reason, 'cancel_on_disconnect');

  const first = await client.placeOrder(limit(70));
  await cutAndWait('first cut');
  await waitCancelled(first.id, 'the first order cancelled');
  assert.deepEqual(connects, [false], 'a fresh session, not recovered');
  // a new session: the client asked again before this order went out over the socket
  const second = await client.placeOrder(limit(70));
  await cutAndWait('second cut');
  await waitCancelled(second.id, 'the order of the new session cancelled too');

  // off: an order of the next session stays when it drops
  assert.deepEqual(await client.cancelOnDisconnect('off'), { scope: 'off' });
  const third = await client.placeOrder(limit(70));
  await cutAndWait('third cut');
  await client.ping();
  assert.equal((await orderOf(fresh, 'cod-fresh', third.id)).status, 'new');
});

test('a recovered session keeps cancel-on-disconnect without asking again; the order is cancelled once the connection is gone for good', async (t) => {
  const graceful = await startServer({ CANCEL_ON_DISCONNECT_GRACE_MS: '1500' });
  t.after(() => graceful.close());
  const client = sdk(graceful, 'cod-kept');
  t.after(() => client.close());
  await client.connect();
  const asked: unknown[] = [];
  client.socket.onAnyOutgoing((event, payload) => {
    if (event === 'cancel-on-disconnect') asked.push(payload);
  });
  await client.cancelOnDisconnect('connection');
  const order = await client.placeOrder(limit(70));
  const connects: boolean[] = [];
  client.on('connect', (info) => connects.push(info.recovered));
  client.socket.io.engine.close();
  await until(() => connects.length === 1 && client.authenticated, 5000, 'back');
  assert.deepEqual(connects, [true], 'recovered');
  assert.deepEqual(asked, [{ scope: 'connection' }], 'not asked again');
  const leftAt = Date.now();
  client.close();
  assert.equal((await cancelledOrder(graceful, 'cod-kept', order.id, 6000, 'the order cancelled after the grace')).reason, 'cancel_on_disconnect');
  assert.ok(Date.now() - leftAt >= 1400, 'after the grace');
});
