/**
 * The seed, to the letter: event names, confirmation payloads and messages, envelopes, rooms,
 * system alerts to every authenticated socket — and the seed's own TypeScript client against us.
 */
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ISO,
  complianceAlert,
  connected,
  marketUpdate,
  none,
  once,
  orderUpdate,
  startServer,
  subscribeMarket,
  systemAlert,
  tradeUpdate,
  until,
  type TestServer,
} from './helpers.js';
import { QuantEnergxWebSocket } from './fixtures/seed-client.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

describe('seed confirmations', () => {
  test('authenticate answers auth-success {message, userId}', async () => {
    const token = await server.sign('user-123', { roles: ['trader'] });
    const socket = server.client();
    const success = once(socket, 'auth-success');
    socket.emit('authenticate', { userId: 'user-123', token });
    const data = await success;
    assert.equal(data.message, 'Authentication successful');
    assert.equal(data.userId, 'user-123');
    // additions only: expiry and roles
    assert.deepEqual(Object.keys(data), ['message', 'userId', 'expiresAt', 'roles']);
    assert.match(data.expiresAt, ISO);
    assert.deepEqual(data.roles, ['trader']);
  });

  test('a bad token answers auth-error {message}', async () => {
    const socket = server.client();
    const error = once(socket, 'auth-error');
    socket.emit('authenticate', { userId: 'user-123', token: 'not-a-jwt' });
    assert.deepEqual(await error, { message: 'Invalid token', code: 'INVALID_TOKEN' });
  });

  test('join-trading, subscribe-market, subscribe-orders, subscribe-compliance confirm with the seed payloads', async () => {
    const socket = await server.authed('user-123');
    const joined = once(socket, 'trading-joined');
    socket.emit('join-trading', 'user-123');
    assert.deepEqual(await joined, { room: 'trading-user-123', message: 'Joined trading room for user user-123' });

    const market = once(socket, 'market-subscribed');
    socket.emit('subscribe-market', ['crude_oil', 'natural_gas', 'heating_oil']);
    assert.deepEqual(await market, {
      commodities: ['crude_oil', 'natural_gas', 'heating_oil'],
      message: 'Subscribed to market data for: crude_oil, natural_gas, heating_oil',
    });

    const orders = once(socket, 'orders-subscribed');
    socket.emit('subscribe-orders', 'user-123');
    assert.deepEqual(await orders, { userId: 'user-123', room: 'orders-user-123', message: 'Subscribed to order updates for user user-123' });

    const compliance = once(socket, 'compliance-subscribed');
    socket.emit('subscribe-compliance', 'user-123');
    assert.deepEqual(await compliance, {
      userId: 'user-123',
      room: 'compliance-user-123',
      message: 'Subscribed to compliance alerts for user user-123',
    });

    // the seed's room names, one room per commodity
    const serverSocket = server.app.io.of('/').sockets.get(socket.id!)!;
    for (const room of ['trading-user-123', 'orders-user-123', 'compliance-user-123', 'market-crude_oil', 'market-natural_gas', 'market-heating_oil']) {
      assert.ok(serverSocket.rooms.has(room), room);
    }
  });

  test('ping answers pong {timestamp: ms}, even before authentication', async () => {
    const socket = server.client();
    await connected(socket);
    const pong = once(socket, 'pong');
    const before = Date.now();
    socket.emit('ping');
    const data = await pong;
    assert.deepEqual(Object.keys(data), ['timestamp']);
    assert.equal(typeof data.timestamp, 'number');
    assert.ok(data.timestamp >= before - 5 && data.timestamp <= Date.now() + 5, String(data.timestamp));
  });
});

describe('data envelopes', () => {
  test('market-update: {type, payload, timestamp, seq} with ISO timestamps', async () => {
    const socket = await server.authed('env-market');
    await subscribeMarket(server, socket, ['brent']);
    const update = once(socket, 'market-update');
    const published = await server.publish(marketUpdate('brent', 80.5));
    assert.equal(published.status, 202);
    const env = await update;
    assert.deepEqual(Object.keys(env), ['type', 'payload', 'timestamp', 'seq']);
    assert.equal(env.type, 'MARKET_UPDATE');
    assert.match(env.timestamp, ISO);
    assert.deepEqual(env.payload, { ...marketUpdate('brent', 80.5).payload, timestamp: env.timestamp });
    assert.deepEqual(published.body, { event: 'market-update', stream: 'market-brent', seq: env.seq });
  });

  test('trade-update, order-update, compliance-alert: {type, payload, timestamp, userId, seq}', async () => {
    const socket = await server.authed('env-user');
    for (const [event, confirm] of [
      ['join-trading', 'trading-joined'],
      ['subscribe-orders', 'orders-subscribed'],
      ['subscribe-compliance', 'compliance-subscribed'],
    ] as const) {
      const ok = once(socket, confirm);
      socket.emit(event, 'env-user');
      await ok;
    }
    const cases = [
      { body: tradeUpdate('env-user'), event: 'trade-update', type: 'TRADE_UPDATE', stream: 'trading-env-user' },
      { body: orderUpdate('env-user'), event: 'order-update', type: 'ORDER_UPDATE', stream: 'orders-env-user' },
      { body: complianceAlert('env-user'), event: 'compliance-alert', type: 'SYSTEM_ALERT', stream: 'compliance-env-user' },
    ];
    for (const c of cases) {
      const arrived = once(socket, c.event);
      const res = await server.publish(c.body);
      assert.deepEqual(res, { status: 202, body: { event: c.event, stream: c.stream, seq: 1 } });
      const env = await arrived;
      assert.deepEqual(Object.keys(env), ['type', 'payload', 'timestamp', 'userId', 'seq'], c.event);
      assert.equal(env.type, c.type);
      assert.equal(env.userId, 'env-user');
      assert.equal(env.seq, 1);
      assert.match(env.timestamp, ISO);
      const expected: Record<string, unknown> = { ...c.body.payload };
      // order updates get the payload timestamp the seed shows, when the publisher left it out
      if (c.event === 'order-update') expected['timestamp'] = env.timestamp;
      assert.deepEqual(env.payload, expected, c.event);
    }
  });

  test('compliance-alert travels as type SYSTEM_ALERT with payload.type COMPLIANCE_ALERT', async () => {
    const socket = await server.authed('env-comp');
    socket.emit('subscribe-compliance', 'env-comp');
    await once(socket, 'compliance-subscribed');
    const arrived = once(socket, 'compliance-alert');
    await server.publish(complianceAlert('env-comp'));
    const env = await arrived;
    assert.equal(env.type, 'SYSTEM_ALERT');
    assert.equal(env.payload.type, 'COMPLIANCE_ALERT');
    assert.deepEqual(env.payload.details, { currentPosition: 9500000, limit: 10000000, utilization: 0.95 });
  });

  test('system-alert reaches every authenticated socket and no unauthenticated one', async () => {
    const a = await server.authed('sys-a');
    const b = await server.authed('sys-b');
    const anonymous = server.client();
    await connected(anonymous);
    const gotA = once(a, 'system-alert');
    const gotB = once(b, 'system-alert');
    const notAnon = none(anonymous, 'system-alert', 400);
    const res = await server.publish(systemAlert());
    assert.equal(res.status, 202);
    assert.equal(res.body.stream, 'system');
    const [envA, envB] = await Promise.all([gotA, gotB]);
    await notAnon;
    assert.deepEqual(envA, envB);
    assert.deepEqual(Object.keys(envA), ['type', 'payload', 'timestamp', 'seq']);
    assert.equal(envA.type, 'SYSTEM_ALERT');
    assert.equal(envA.seq, res.body.seq);
    assert.deepEqual(envA.payload, { ...systemAlert().payload, timestamp: envA.timestamp });
  });
});

test("the seed's TypeScript client works against the gateway as the seed promises", async () => {
  const logs: unknown[][] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => {
    logs.push(args);
  });
  const token = await server.sign('seed-user');
  // the seed client connects with default options: HTTP long-polling first, then an upgrade
  const ws = new QuantEnergxWebSocket(server.url, 'seed-user', token);
  try {
    const find = (label: string) => logs.filter((l) => l[0] === label).map((l) => l[1] as any);
    await until(() => find('Authentication successful:').length === 1, 5000, 'auth-success');
    assert.equal(find('Authentication successful:')[0].userId, 'seed-user');
    assert.equal(logs.filter((l) => l[0] === 'Connected to QuantEnergx WebSocket').length, 1);
    // its subscriptions take effect (it never waits for confirmations): the rooms appear
    await until(() => {
      const s = [...server.app.io.of('/').sockets.values()].find((x) => x.data.auth?.userId === 'seed-user');
      return !!s && ['market-crude_oil', 'market-natural_gas', 'trading-seed-user', 'orders-seed-user'].every((r) => s.rooms.has(r));
    }, 5000, 'seed client subscriptions');

    const opening = find('Market update:').length; // the opening prices of the trading core, if any
    await server.publish(marketUpdate('natural_gas', 3.1));
    await server.publish(marketUpdate('brent', 80)); // not subscribed
    await server.publish(tradeUpdate('seed-user'));
    await server.publish(orderUpdate('seed-user'));
    await server.publish(tradeUpdate('someone-else'));
    await server.publish(systemAlert());
    await until(() => find('System alert:').length === 1 && find('Order update:').length === 1, 5000, 'seed client events');

    const market = find('Market update:');
    assert.deepEqual(market.slice(opening).map((p) => [p.commodity, p.price]), [['natural_gas', 3.1]]);
    assert.ok(market.every((p) => p.commodity === 'crude_oil' || p.commodity === 'natural_gas'));
    assert.deepEqual(find('Trade update:'), [tradeUpdate('seed-user').payload]);
    assert.equal(find('Order update:')[0].id, 'order-456');
    assert.equal(find('Order update:')[0].status, 'partially_filled');
    assert.equal(find('System alert:')[0].alertType, 'market_volatility');
  } finally {
    ws.disconnect();
    log.mock.restore();
  }
});
