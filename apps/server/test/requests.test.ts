/**
 * Every request gets an answer: the confirmation event and `{ok: true, ...}` ack on success,
 * `request-error {event, code, message}` and `{ok: false, error}` on failure. The undo events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_EVENTS, complianceAlert, marketUpdate, none, once, orderUpdate, request, startServer, tradeUpdate, until, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

const subscriptions = (u: string) =>
  [
    ['join-trading', u, 'trading-joined', { room: `trading-${u}`, message: `Joined trading room for user ${u}` }],
    ['subscribe-orders', u, 'orders-subscribed', { userId: u, room: `orders-${u}`, message: `Subscribed to order updates for user ${u}` }],
    ['subscribe-compliance', u, 'compliance-subscribed', { userId: u, room: `compliance-${u}`, message: `Subscribed to compliance alerts for user ${u}` }],
    ['subscribe-market', ['crude_oil', 'power'], 'market-subscribed', { commodities: ['crude_oil', 'power'], message: 'Subscribed to market data for: crude_oil, power' }],
  ] as const;
const undos = (u: string) =>
  [
    ['leave-trading', u, 'trading-left', { room: `trading-${u}`, message: `Left trading room for user ${u}` }],
    ['unsubscribe-orders', u, 'orders-unsubscribed', { userId: u, room: `orders-${u}`, message: `Unsubscribed from order updates for user ${u}` }],
    ['unsubscribe-compliance', u, 'compliance-unsubscribed', { userId: u, room: `compliance-${u}`, message: `Unsubscribed from compliance alerts for user ${u}` }],
    ['unsubscribe-market', ['crude_oil', 'power'], 'market-unsubscribed', { commodities: ['crude_oil', 'power'], message: 'Unsubscribed from market data for: crude_oil, power' }],
  ] as const;

test('success: the confirmation event and the ack {ok: true, ...confirmation}', async () => {
  const socket = await server.authed('req-ok');
  for (const [event, payload, confirm, body] of subscriptions('req-ok')) {
    const confirmation = once(socket, confirm);
    const ack = await request(socket, event, payload);
    assert.deepEqual(ack, { ok: true, ...body }, event);
    assert.deepEqual(await confirmation, body, confirm);
  }
  const pong = once(socket, 'pong');
  const ack = await request(socket, 'ping');
  const p = await pong;
  assert.deepEqual(ack, { ok: true, timestamp: p.timestamp });
});

test('success without an ack: the confirmation event alone', async () => {
  const socket = await server.authed('req-noack');
  for (const [event, payload, confirm, body] of subscriptions('req-noack')) {
    const confirmation = once(socket, confirm);
    socket.emit(event, payload);
    assert.deepEqual(await confirmation, body, confirm);
  }
});

test('failure: request-error {event, code, message} and the ack {ok: false, error}', async () => {
  const socket = await server.authed('req-fail');
  const cases: [string, unknown, string][] = [
    ['join-trading', 42, 'INVALID_PAYLOAD'],
    ['subscribe-orders', { userId: 'req-fail' }, 'INVALID_PAYLOAD'],
    ['subscribe-compliance', 'someone-else', 'FORBIDDEN'],
    ['subscribe-market', [], 'INVALID_PAYLOAD'],
    ['subscribe-market', ['gold'], 'UNKNOWN_COMMODITY'],
    ['unsubscribe-market', 7, 'INVALID_PAYLOAD'],
    ['resume', 'x', 'INVALID_PAYLOAD'],
    ['resume', { 'nonsense-stream!': 1 }, 'INVALID_STREAM'],
    ['no-such-event', { a: 1 }, 'UNKNOWN_EVENT'],
  ];
  for (const [event, payload, code] of cases) {
    const reqError = once(socket, 'request-error');
    const ack = await request(socket, event, payload);
    const err = await reqError;
    assert.equal(ack.ok, false, event);
    assert.equal(ack.error.code, code, `${event} ${JSON.stringify(payload)}`);
    assert.equal(typeof ack.error.message, 'string');
    assert.ok(ack.error.message.length > 0);
    const { field, ...wire } = err;
    assert.deepEqual(wire, { event, code, message: ack.error.message }, event);
    if (field !== undefined) assert.equal(ack.error.field, field);
  }
});

test('unknown events answer UNKNOWN_EVENT, with and without ack', async () => {
  for (const socket of [server.client(), await server.authed('req-unknown')]) {
    const reqError = once(socket, 'request-error');
    socket.emit('subscribe-everything', 'x');
    assert.deepEqual(await reqError, { event: 'subscribe-everything', code: 'UNKNOWN_EVENT', message: 'Unknown event: subscribe-everything' });
    const ack = await request(socket, 'hack', 1, 2, 3);
    assert.deepEqual(ack, { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'Unknown event: hack' } });
  }
});

test('undo: each unsubscribe confirms, and nothing more arrives', async () => {
  const u = 'req-undo';
  const socket = await server.authed(u);
  for (const [event, payload] of subscriptions(u)) assert.equal((await request(socket, event, payload)).ok, true);
  // a first round arrives
  const first = ['trade-update', 'order-update', 'compliance-alert', 'market-update'].map((e) => once(socket, e));
  for (const body of [tradeUpdate(u), orderUpdate(u), complianceAlert(u), marketUpdate('power', 51)]) await server.publish(body);
  await Promise.all(first);

  for (const [event, payload, confirm, body] of undos(u)) {
    const confirmation = once(socket, confirm);
    assert.deepEqual(await request(socket, event, payload), { ok: true, ...body }, event);
    assert.deepEqual(await confirmation, body);
  }
  const serverSocket = server.app.io.of('/').sockets.get(socket.id!)!;
  assert.deepEqual([...serverSocket.rooms].sort(), ['authenticated', socket.id].sort());
  const silence = Promise.all(['trade-update', 'order-update', 'compliance-alert', 'market-update'].map((e) => none(socket, e, 400)));
  for (const body of [tradeUpdate(u), orderUpdate(u), complianceAlert(u), marketUpdate('power', 52), marketUpdate('crude_oil', 76)]) {
    assert.equal((await server.publish(body)).status, 202);
  }
  await silence;
});

test('every request is answered exactly once, in order', async () => {
  const socket = await server.authed('req-count');
  const answers: string[] = [];
  const answerEvents = ANSWER_EVENTS;
  socket.onAny((event: string) => {
    if (answerEvents.has(event)) answers.push(event);
  });
  const sent: [string, unknown][] = [
    ['ping', undefined],
    ['join-trading', 'req-count'],
    ['join-trading', 'nobody'],
    ['subscribe-market', 'crude_oil'],
    ['bogus', null],
    ['resume', { 'trading-req-count': 0 }],
    ['authenticate', { userId: 'req-count', token: 'bad' }],
    ['leave-trading', 'req-count'],
  ];
  for (const [event, payload] of sent) {
    if (payload === undefined) socket.emit(event);
    else socket.emit(event, payload);
  }
  await until(() => answers.length >= sent.length, 3000, 'answers');
  await none(socket, 'request-error', 150);
  assert.deepEqual(answers, [
    'pong',
    'trading-joined',
    'request-error',
    'market-subscribed',
    'request-error',
    'resumed',
    'auth-error',
    'trading-left',
  ]);
});

test('authenticate followed at once by subscriptions: answered in order, the subscriptions succeed', async () => {
  const socket = server.client();
  const token = await server.sign('pipelined');
  const answers = [
    request(socket, 'authenticate', { userId: 'pipelined', token }),
    request(socket, 'subscribe-orders', 'pipelined'),
    request(socket, 'subscribe-market', ['crude_oil']),
  ];
  const [auth, orders, market] = await Promise.all(answers);
  assert.equal(auth.ok, true);
  assert.equal(orders.ok, true, JSON.stringify(orders));
  assert.equal(market.ok, true, JSON.stringify(market));
});
