/**
 * Trading over the socket (issue 17), one process: `place-order`, `cancel-order`, `amend-order`
 * and `cancel-all-orders` answer through the ack with the body REST answers, with the same coded
 * errors, authorization and clientOrderId idempotency (across the socket and REST); the owner's
 * order-updates follow as for REST; without an ack a failure is a `request-error`. And two
 * protocol fixes: a REST body with a `__proto__` key names it; `subscribe-book` takes what every
 * other subscription takes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, request, startServer, until, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startServer({ MAX_SUBSCRIPTIONS_PER_SOCKET: '5', MAX_COMMODITIES_PER_REQUEST: '3' });
});
after(() => server.close());

const limit = (price: number, extra: Record<string, unknown> = {}) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price, timeInForce: 'gtc', ...extra });

async function trader(userId: string): Promise<{ socket: Socket; orders: any[] }> {
  const socket = await server.authed(userId);
  const orders = collect(socket, 'order-update');
  assert.equal((await request(socket, 'subscribe-orders', userId)).ok, true);
  return { socket, orders };
}

test('place-order: the ack is the REST body; the owner gets its order-update; a clientOrderId retry over REST is the same order', async () => {
  const { socket, orders } = await trader('sock-alice');
  const ack = await request(socket, 'place-order', limit(75, { clientOrderId: 'sock-1' }));
  assert.equal(ack.ok, true);
  assert.deepEqual(Object.keys(ack).sort(), ['ok', 'order']);
  const order = ack.order;
  assert.match(order.id, /^ord-\d+$/);
  assert.deepEqual([order.userId, order.commodity, order.side, order.status, order.price, order.quantity, order.clientOrderId], ['sock-alice', 'brent', 'buy', 'new', 75, 1000, 'sock-1']);
  await until(() => orders.some((o) => o.payload.id === order.id), 3000, 'order-update');
  // REST reads the same order, and a REST retry by clientOrderId answers it (replayed), placing nothing new
  const token = await server.sign('sock-alice');
  const read = await server.http(`/api/v1/trading/orders/${order.id}`, { token });
  assert.deepEqual(read.body.order, order);
  const retry = await fetch(`${server.url}/api/v1/trading/orders`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(limit(75, { clientOrderId: 'sock-1' })) });
  assert.equal(retry.status, 201);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.equal(((await retry.json()) as { order: { id: string } }).order.id, order.id);
  // and over the socket again: the same order, and no new order-update
  const before = orders.length;
  const again = await request(socket, 'place-order', limit(75, { clientOrderId: 'sock-1' }));
  assert.equal(again.order.id, order.id);
  const open = await server.http('/api/v1/trading/orders?status=open&commodity=brent', { token });
  assert.equal(open.body.orders.filter((o: any) => o.clientOrderId === 'sock-1').length, 1, 'one order for one clientOrderId');
  assert.equal((await request(socket, 'ping')).ok, true); // anything sent to the socket before it has arrived
  assert.equal(orders.length, before);
});

test('place-order refusals carry the REST codes: bad body (field), unknown commodity, price out of band, a clientOrderId conflict', async () => {
  const { socket } = await trader('sock-bob');
  const bad = await request(socket, 'place-order', { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000 });
  assert.deepEqual([bad.ok, bad.error.code, bad.error.field], [false, 'INVALID_ORDER', 'price']);
  const junk = await request(socket, 'place-order', 'not an order');
  assert.equal(junk.error.code, 'INVALID_ORDER');
  const unknown = await request(socket, 'place-order', { ...limit(75), commodity: 'unobtainium' });
  assert.equal(unknown.error.code, 'UNKNOWN_COMMODITY');
  const band = await request(socket, 'place-order', limit(10));
  assert.deepEqual([band.error.code, band.error.field, band.order?.status], ['PRICE_OUT_OF_BAND', 'price', 'rejected']);
  // the REST answer of the same order is the same error body
  const rest = await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign('sock-bob'), json: limit(10) });
  assert.equal(rest.status, 400);
  assert.deepEqual(Object.keys(rest.body).sort(), ['error', 'order']);
  assert.equal(rest.body.error.code, band.error.code);
  assert.equal((await request(socket, 'place-order', limit(75, { clientOrderId: 'b-1' }))).ok, true);
  const conflict = await request(socket, 'place-order', limit(76, { clientOrderId: 'b-1' }));
  assert.deepEqual([conflict.error.code, conflict.error.field], ['CLIENT_ORDER_ID_CONFLICT', 'clientOrderId']);
  // without an ack: a request-error naming the event
  const errors = collect(socket, 'request-error');
  socket.emit('place-order', { ...limit(75), quantity: -1 });
  await until(() => errors.length === 1, 3000, 'request-error');
  assert.deepEqual([errors[0].event, errors[0].code, errors[0].field], ['place-order', 'INVALID_ORDER', 'quantity']);
  // before authenticating: refused like any other request
  const anonymous = server.client();
  await until(() => anonymous.connected, 3000, 'connect');
  assert.equal((await request(anonymous, 'place-order', limit(75))).error.code, 'NOT_AUTHENTICATED');
});

test('cancel-order ({orderId} or the bare id), amend-order and cancel-all-orders; another user\'s order is not found', async () => {
  const { socket, orders } = await trader('sock-carol');
  const mallory = (await trader('sock-mallory')).socket;
  const a = (await request(socket, 'place-order', limit(70))).order;
  const b = (await request(socket, 'place-order', limit(71))).order;
  const c = (await request(socket, 'place-order', { ...limit(72), commodity: 'crude_oil' })).order;
  // another user cannot touch them (not even learn that they exist)
  for (const [event, payload] of [['cancel-order', a.id], ['amend-order', { orderId: a.id, price: 73 }]] as const) {
    assert.equal((await request(mallory, event, payload)).error.code, 'ORDER_NOT_FOUND', event);
  }
  const amended = await request(socket, 'amend-order', { orderId: a.id, price: 70.5 });
  assert.deepEqual([amended.ok, amended.order.id, amended.order.price], [true, a.id, 70.5]);
  assert.equal((await request(socket, 'amend-order', { orderId: a.id })).error.code, 'INVALID_ORDER', 'an amend needs a change');
  const byObject = await request(socket, 'cancel-order', { orderId: a.id });
  assert.deepEqual([byObject.ok, byObject.order.status], [true, 'cancelled']);
  const again = await request(socket, 'cancel-order', a.id);
  assert.deepEqual([again.error.code, again.order.status], ['ORDER_NOT_CANCELLABLE', 'cancelled']);
  const amendDone = await request(socket, 'amend-order', { orderId: a.id, price: 71 });
  assert.deepEqual([amendDone.error.code, amendDone.order.id], ['ORDER_NOT_OPEN', a.id]);
  assert.equal((await request(socket, 'cancel-order', { orderId: 42 })).error.code, 'INVALID_PAYLOAD');
  const brentOnly = await request(socket, 'cancel-all-orders', { commodity: 'brent' });
  assert.deepEqual(brentOnly.cancelled.map((o: any) => o.id), [b.id]);
  const rest = await request(socket, 'cancel-all-orders');
  assert.deepEqual(rest.cancelled.map((o: any) => o.id), [c.id]);
  assert.deepEqual((await request(socket, 'cancel-all-orders', {})).cancelled, []);
  assert.equal((await request(socket, 'cancel-all-orders', { commodity: 'nope' })).error.code, 'UNKNOWN_COMMODITY');
  assert.equal((await request(socket, 'cancel-all-orders', { commodity: 'Not A Symbol' })).error.code, 'INVALID_PAYLOAD');
  await until(() => orders.filter((o) => o.payload.status === 'cancelled').length === 3, 3000, 'three cancelled updates');
});

test('a REST body with a __proto__ or constructor.prototype key is refused naming the key; malformed JSON says why', async () => {
  const token = await server.sign('sock-json');
  const post = (body: string) => fetch(`${server.url}/api/v1/trading/orders`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const proto = await post('{"commodity":"brent","side":"buy","type":"limit","quantity":1000,"price":75,"__proto__":{"admin":true}}');
  assert.deepEqual([proto.status, proto.body.error.code, proto.body.error.field], [400, 'INVALID_PAYLOAD', '__proto__']);
  assert.match(proto.body.error.message, /__proto__ is not allowed/);
  const nested = await post('{"commodity":"brent","x":{"constructor":{"prototype":{"a":1}}}}');
  assert.deepEqual([nested.body.error.code, nested.body.error.field], ['INVALID_PAYLOAD', 'x.constructor.prototype']);
  const broken = await post('{"commodity":');
  assert.equal(broken.body.error.code, 'INVALID_PAYLOAD');
  assert.match(broken.body.error.message, /^Body is not valid JSON: /);
  // an ordinary key named constructor is fine (only its prototype is forbidden)
  const fine = await post(JSON.stringify({ ...limit(75), clientOrderId: 'constructor' }));
  assert.equal(fine.status, 201);
});

test('subscribe-book takes an array of commodities and {commodities, depth}, as subscribe-market does; coded errors and limits', async () => {
  const socket = await server.authed('sock-books');
  const snapshots = collect(socket, 'book-snapshot');
  const many = await request(socket, 'subscribe-book', ['brent', 'crude_oil']);
  assert.deepEqual(many, { ok: true, commodities: ['brent', 'crude_oil'], depth: 10, message: 'Subscribed to the order books of brent, crude_oil, 10 levels' });
  await until(() => snapshots.length === 2, 3000, 'two snapshots');
  assert.deepEqual(snapshots.map((s) => [s.commodity, s.depth]).sort(), [['brent', 10], ['crude_oil', 10]]);
  const deeper = await request(socket, 'subscribe-book', { commodities: ['brent'], depth: 3 });
  assert.deepEqual([deeper.ok, deeper.commodities, deeper.depth], [true, ['brent'], 3]);
  assert.equal((await request(socket, 'subscribe-book', ['brent', 'nope'])).error.code, 'UNKNOWN_COMMODITY');
  assert.equal((await request(socket, 'subscribe-book', ['brent', 'crude_oil', 'power', 'carbon'])).error.code, 'TOO_MANY_COMMODITIES');
  assert.deepEqual([(await request(socket, 'subscribe-book', { commodities: ['brent'], depth: 21 })).error.code], ['INVALID_PAYLOAD']);
  assert.equal((await request(socket, 'subscribe-book', { commodities: ['brent'], junk: 1 })).error.code, 'INVALID_PAYLOAD');
  // 5 subscriptions per socket: brent and crude_oil held, three more fit, a fourth does not
  assert.equal((await request(socket, 'subscribe-book', ['power', 'carbon', 'gasoline'])).ok, true);
  assert.equal((await request(socket, 'subscribe-book', ['natural_gas'])).error.code, 'TOO_MANY_SUBSCRIPTIONS');
  const off = await request(socket, 'unsubscribe-book', { commodities: ['power', 'carbon'] });
  assert.deepEqual(off, { ok: true, commodities: ['power', 'carbon'], message: 'Unsubscribed from the order books of power, carbon' });
  assert.equal((await request(socket, 'unsubscribe-book', ['gasoline'])).ok, true);
  const rooms = [...([...server.app.io.of('/').sockets.values()].find((s) => s.data.auth?.userId === 'sock-books')?.rooms ?? [])].filter((r) => r.startsWith('book-')).sort();
  assert.deepEqual(rooms, ['book-brent-3', 'book-crude_oil-10']);
  // the single forms answer as they always have
  assert.deepEqual(await request(socket, 'subscribe-book', 'power'), { ok: true, commodity: 'power', depth: 10, message: 'Subscribed to the power order book, 10 levels' });
  const confirm = once(socket, 'book-subscribed');
  socket.emit('subscribe-book', ['carbon']);
  assert.deepEqual((await confirm).commodities, ['carbon']);
});
