/**
 * A trading desk's safety nets (issue 17), one process: the dead-man's switch over the socket and
 * REST, the kill switch of a risk manager, market status (REST, `subscribe-status`), operator and
 * velocity halts, and a closed session between the close and the next open. Each survives a
 * restart on the same DATA_DIR (its state is journaled with the trading core's steps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { capturingLogger, collect, once, request, sleep, startServer, until, type TestServer } from './helpers.js';

const limit = (price: number, extra: Record<string, unknown> = {}) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price, timeInForce: 'gtc', ...extra });

async function trader(server: TestServer, userId: string): Promise<{ socket: Socket; orders: any[]; alerts: any[] }> {
  const socket = await server.authed(userId);
  const orders = collect(socket, 'order-update');
  const alerts = collect(socket, 'compliance-alert');
  assert.equal((await request(socket, 'subscribe-orders', userId)).ok, true);
  assert.equal((await request(socket, 'subscribe-compliance', userId)).ok, true);
  return { socket, orders, alerts };
}

const openOrders = async (server: TestServer, userId: string) =>
  (await server.http('/api/v1/trading/orders?status=open', { token: await server.sign(userId) })).body.orders as { id: string; reason?: string }[];

test("dead-man's switch: armed over the socket, re-armed, disarmed; fires with dead_man_switch; REST twin; bad timeouts refused", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const { socket, orders } = await trader(server, 'dms-alice');
  for (const price of [70, 71]) assert.equal((await request(socket, 'place-order', limit(price))).ok, true);
  const armedAt = Date.now();
  const armed = await request(socket, 'cancel-all-after', { timeoutMs: 1500 });
  assert.equal(armed.ok, true);
  assert.equal(armed.timeoutMs, 1500);
  const firesAt = Date.parse(armed.firesAt);
  assert.ok(firesAt >= armedAt + 1500 - 50 && firesAt <= Date.now() + 1500 + 50, `fires about 1.5 s from now (${armed.firesAt})`);
  // re-armed before it fires: it moves
  await sleep(700);
  const rearmed = await request(socket, 'cancel-all-after', { timeoutMs: 1500 });
  assert.ok(Date.parse(rearmed.firesAt) > firesAt);
  await until(() => orders.filter((o) => o.payload.status === 'cancelled').length === 2, 5000, 'both cancelled by the switch');
  assert.ok(Date.now() >= Date.parse(rearmed.firesAt) - 5, 'not before its time');
  for (const o of orders.filter((x) => x.payload.status === 'cancelled')) {
    assert.equal(o.payload.reason, 'dead_man_switch');
    // cancelled at the re-armed deadline, never at the first one
    assert.ok(Date.parse(o.payload.timestamp) >= Date.parse(rearmed.firesAt), `the first deadline passed without firing: it was moved (cancelled ${o.payload.timestamp}, first deadline ${armed.firesAt})`);
  }
  assert.deepEqual(await openOrders(server, 'dms-alice'), []);
  // disarmed: nothing happens
  assert.equal((await request(socket, 'place-order', limit(72))).ok, true);
  assert.equal((await request(socket, 'cancel-all-after', { timeoutMs: 1000 })).ok, true);
  const off = await request(socket, 'cancel-all-after', { timeoutMs: 0 });
  assert.deepEqual([off.ok, off.timeoutMs, off.firesAt], [true, 0, null]);
  await sleep(1300);
  assert.equal((await openOrders(server, 'dms-alice')).length, 1);
  // bad timeouts, socket and REST
  for (const bad of [{ timeoutMs: 500 }, { timeoutMs: -1 }, { timeoutMs: 86_400_001 }, { timeoutMs: 'soon' }, { timeoutMs: 1.5 }, {}, 5]) {
    const r = await request(socket, 'cancel-all-after', bad);
    assert.deepEqual([r.ok, r.error.code, r.error.field], [false, 'INVALID_PAYLOAD', 'timeoutMs'], JSON.stringify(bad));
  }
  const token = await server.sign('dms-alice');
  const rest = await server.http('/api/v1/trading/cancel-all-after', { method: 'POST', token, json: { timeoutMs: 1000 } });
  assert.equal(rest.status, 200);
  assert.deepEqual(Object.keys(rest.body).sort(), ['firesAt', 'timeoutMs']);
  await until(() => orders.filter((o) => o.payload.status === 'cancelled').length === 3, 4000, 'fired from REST arming');
  assert.equal((await server.http('/api/v1/trading/cancel-all-after', { method: 'POST', token, json: { timeoutMs: 10 } })).body.error.code, 'INVALID_PAYLOAD');
  assert.equal((await server.http('/api/v1/trading/cancel-all-after', { method: 'POST', json: { timeoutMs: 1000 } })).status, 401);
});

test("dead-man's switch survives a restart: a deadline that passed while the server was down fires at once", async () => {
  const first = await startServer({}, { keepData: true });
  const { socket } = await trader(first, 'dms-bob');
  assert.equal((await request(socket, 'place-order', limit(70))).ok, true);
  assert.equal((await request(socket, 'cancel-all-after', { timeoutMs: 1000 })).ok, true);
  await first.close();
  await sleep(1200);
  const second = await startServer({}, { dataDir: first.dataDir });
  try {
    // listen() resolved once the core had started: the deadline that passed meanwhile has fired
    assert.deepEqual(await openOrders(second, 'dms-bob'), [], 'fired at start');
    const orders = await second.http('/api/v1/trading/orders?commodity=brent', { token: await second.sign('dms-bob') });
    assert.equal(orders.body.orders[0].status, 'cancelled');
    assert.equal(orders.body.orders[0].reason, 'dead_man_switch');
  } finally {
    await second.close();
  }
});

test('kill switch: only risk or admin; cancels and refuses (REST 403, socket), alerts the user, is logged, survives a restart, and is lifted', async () => {
  const { logger, lines } = capturingLogger('info');
  const server = await startServer({}, { keepData: true, logger });
  const { socket, orders, alerts } = await trader(server, 'ks-carol');
  const open = (await request(socket, 'place-order', limit(70))).order;
  const restOrder = await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign('ks-carol'), json: limit(69) });
  assert.equal(restOrder.status, 201);
  const url = '/api/v1/admin/users/ks-carol/trading';
  const trader2 = await server.sign('ks-dave');
  assert.equal((await server.http(url, { method: 'POST', token: trader2, json: { enabled: false, reason: 'x' } })).body.error.code, 'FORBIDDEN');
  const risk = await server.sign('risk-erin', { roles: ['risk'] });
  assert.equal((await server.http(url, { method: 'POST', token: risk, json: { enabled: false } })).body.error.code, 'INVALID_PAYLOAD');
  assert.equal((await server.http('/api/v1/admin/users/not a user!/trading', { method: 'POST', token: risk, json: { enabled: false, reason: 'x' } })).body.error.code, 'INVALID_PAYLOAD');
  const off = await server.http(url, { method: 'POST', token: risk, json: { enabled: false, reason: 'breached the daily loss limit' } });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  assert.deepEqual([off.body.userId, off.body.enabled, off.body.reason], ['ks-carol', false, 'breached the daily loss limit']);
  assert.deepEqual(off.body.cancelled.map((o: any) => o.id).sort(), [open.id, restOrder.body.order.id].sort());
  await until(() => orders.filter((o) => o.payload.status === 'cancelled').length === 2, 3000, 'cancelled updates');
  assert.ok(orders.filter((o) => o.payload.status === 'cancelled').every((o) => o.payload.reason === 'kill_switch: breached the daily loss limit'));
  await until(() => alerts.some((a) => a.payload.checkType === 'kill_switch'), 3000, 'a kill_switch compliance alert');
  const alert = alerts.find((a) => a.payload.checkType === 'kill_switch');
  assert.deepEqual([alert.type, alert.payload.type, alert.payload.severity], ['SYSTEM_ALERT', 'COMPLIANCE_ALERT', 'critical']);
  // refused everywhere, with the reason
  const refusedSocket = await request(socket, 'place-order', limit(70));
  assert.equal(refusedSocket.error.code, 'TRADING_DISABLED');
  assert.match(refusedSocket.error.message, /breached the daily loss limit/);
  const refusedRest = await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign('ks-carol'), json: limit(70) });
  assert.deepEqual([refusedRest.status, refusedRest.body.error.code], [403, 'TRADING_DISABLED']);
  const log = lines.find((l) => l.msg === 'trading disabled for a user (kill switch)');
  assert.deepEqual([log?.by, log?.userId, log?.reason, log?.level], ['risk-erin', 'ks-carol', 'breached the daily loss limit', 30]);
  await server.close();
  // still disabled after a restart; an admin lifts it
  const again = await startServer({}, { dataDir: server.dataDir });
  try {
    const token = await again.sign('ks-carol');
    assert.equal((await again.http('/api/v1/trading/orders', { method: 'POST', token, json: limit(70) })).body.error.code, 'TRADING_DISABLED');
    const admin = await again.sign('admin-frank', { roles: ['admin'] });
    const on = await again.http(url, { method: 'POST', token: admin, json: { enabled: true, reason: 'limit reset' } });
    assert.deepEqual([on.status, on.body.enabled, on.body.cancelled], [200, true, []]);
    assert.equal((await again.http('/api/v1/trading/orders', { method: 'POST', token, json: limit(70) })).status, 201);
  } finally {
    await again.close();
  }
});

test('market status: REST and subscribe-status (a snapshot, then changes); an operator halt refuses orders and amends, keeps resting ones, allows cancels, and ends', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const token = await server.sign('ms-gina');
  const all = await server.http('/api/v1/market/status', { token });
  assert.equal(all.body.statuses.length, 7);
  assert.ok(all.body.statuses.every((s: any) => s.status === 'open' && s.seq === 0 && s.until === null));
  const { socket, orders } = await trader(server, 'ms-gina');
  const statuses = collect(socket, 'market-status');
  const sub = await request(socket, 'subscribe-status', 'brent');
  assert.deepEqual(sub, { ok: true, commodities: ['brent'], message: 'Subscribed to market status for: brent' });
  await until(() => statuses.length === 1, 3000, 'a status snapshot');
  assert.deepEqual([statuses[0].commodity, statuses[0].status, statuses[0].seq], ['brent', 'open', 0]);
  assert.equal((await request(socket, 'subscribe-status', ['brent', 'nope'])).error.code, 'UNKNOWN_COMMODITY');
  const resting = (await request(socket, 'place-order', limit(70))).order;
  const risk = await server.sign('risk-hal', { roles: ['risk'] });
  assert.equal((await server.http('/api/v1/admin/market/brent/halt', { method: 'POST', token, json: { reason: 'x' } })).body.error.code, 'FORBIDDEN');
  assert.equal((await server.http('/api/v1/admin/market/nope/halt', { method: 'POST', token: risk, json: { reason: 'x' } })).body.error.code, 'UNKNOWN_COMMODITY');
  assert.equal((await server.http('/api/v1/admin/market/brent/halt', { method: 'POST', token: risk, json: { reason: 'x', durationMs: 10 } })).body.error.code, 'INVALID_PAYLOAD');
  const halt = await server.http('/api/v1/admin/market/brent/halt', { method: 'POST', token: risk, json: { reason: 'Exchange incident', durationMs: 1500 } });
  assert.equal(halt.status, 200, JSON.stringify(halt.body));
  assert.deepEqual([halt.body.status.status, halt.body.status.reason, halt.body.status.seq], ['halted', 'Exchange incident', 1]);
  await until(() => statuses.length === 2, 3000, 'the halt');
  assert.deepEqual([statuses[1].status, statuses[1].seq, statuses[1].until !== null], ['halted', 1, true]);
  // refused while halted, socket and REST; the resting order stays; a cancel works
  const refused = await request(socket, 'place-order', limit(71));
  assert.deepEqual([refused.error.code, refused.error.field], ['MARKET_HALTED', 'commodity']);
  const rest = await server.http('/api/v1/trading/orders', { method: 'POST', token, json: limit(71) });
  assert.deepEqual([rest.status, rest.body.error.code], [409, 'MARKET_HALTED']);
  assert.equal((await request(socket, 'amend-order', { orderId: resting.id, price: 72 })).error.code, 'MARKET_HALTED');
  assert.equal((await server.http('/api/v1/trading/orders?status=open', { token })).body.orders.length, 1, 'the resting order is kept');
  assert.equal((await request(socket, 'place-order', { ...limit(75), commodity: 'crude_oil' })).ok, true, 'other markets trade');
  assert.equal((await server.http('/api/v1/market/status', { token })).body.statuses.find((s: any) => s.commodity === 'brent').status, 'halted');
  // it ends by itself
  await until(() => statuses.length === 3, 4000, 'the end of the halt');
  assert.deepEqual([statuses[2].status, statuses[2].reason, statuses[2].seq], ['open', 'Halt ended', 2]);
  assert.equal((await request(socket, 'place-order', limit(71))).ok, true);
  assert.equal((await request(socket, 'cancel-order', resting.id)).order.status, 'cancelled');
  // until reopened: an operator's halt without an end
  const indefinite = await server.http('/api/v1/admin/market/brent/halt', { method: 'POST', token: risk, json: { reason: 'Until further notice' } });
  assert.deepEqual([indefinite.body.status.status, indefinite.body.status.until], ['halted', null]);
  await sleep(300);
  assert.equal((await request(socket, 'place-order', limit(71))).error.code, 'MARKET_HALTED');
  const reopened = await server.http('/api/v1/admin/market/brent/reopen', { method: 'POST', token: risk });
  assert.deepEqual([reopened.status, reopened.body.status.status, reopened.body.status.seq], [200, 'open', 4]);
  await until(() => statuses.at(-1)?.seq === 4, 3000, 'reopened');
  assert.equal(orders.filter((o) => o.payload.status === 'new').length, 3);
});

test('a velocity halt: a fast move halts the commodity for VELOCITY_HALT_MS and the volatility alert says so; the status survives a restart', async () => {
  const server = await startServer({ VELOCITY_HALT_PERCENT: '1', VELOCITY_HALT_WINDOW_MS: '60000', VELOCITY_HALT_MS: '60000' }, { keepData: true });
  const seller = await trader(server, 'vh-seller');
  const buyer = await trader(server, 'vh-buyer');
  const alerts = collect(buyer.socket, 'system-alert');
  const statuses = collect(buyer.socket, 'market-status');
  assert.equal((await request(buyer.socket, 'subscribe-status', ['brent'])).ok, true);
  const cross = async (price: number) => {
    assert.equal((await request(seller.socket, 'place-order', { ...limit(price), side: 'sell' })).ok, true);
    return request(buyer.socket, 'place-order', limit(price));
  };
  assert.equal((await cross(75)).order.status, 'filled');
  assert.equal((await cross(76)).order.status, 'filled', '1.33 % above the last trade: it trades, then halts');
  await until(() => statuses.some((s) => s.status === 'halted'), 3000, 'the velocity halt');
  const halted = statuses.find((s) => s.status === 'halted');
  assert.match(halted.reason, /^Velocity halt/);
  await until(() => alerts.some((a) => a.payload.alertType === 'market_volatility' && a.payload.details?.halted === true), 3000, 'the volatility alert');
  assert.equal((await request(buyer.socket, 'place-order', limit(76))).error.code, 'MARKET_HALTED');
  await server.close();
  const again = await startServer({ VELOCITY_HALT_PERCENT: '1', VELOCITY_HALT_WINDOW_MS: '60000', VELOCITY_HALT_MS: '60000' }, { dataDir: server.dataDir });
  try {
    const status = (await again.http('/api/v1/market/status', { token: await again.sign('vh-buyer') })).body.statuses.find((s: any) => s.commodity === 'brent');
    assert.deepEqual([status.status, status.seq], ['halted', halted.seq]);
  } finally {
    await again.close();
  }
});

test('between the close and the next open the market is closed: orders refused with MARKET_CLOSED, and every commodity says so', async (t) => {
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const server = await startServer({ TRADING_SESSION_CLOSE_UTC: hhmm(Date.now() - 120_000), TRADING_SESSION_OPEN_UTC: hhmm(Date.now() + 180_000) });
  t.after(() => server.close());
  const token = await server.sign('closed-ivy');
  const statuses = (await server.http('/api/v1/market/status', { token })).body.statuses;
  assert.ok(statuses.every((s: any) => s.status === 'closed' && s.reason === 'Trading session closed' && s.seq >= 1), JSON.stringify(statuses));
  const refused = await server.http('/api/v1/trading/orders', { method: 'POST', token, json: limit(70) });
  assert.deepEqual([refused.status, refused.body.error.code], [409, 'MARKET_CLOSED']);
  const socket = await server.authed('closed-ivy');
  const snapshot = once(socket, 'market-status');
  socket.emit('subscribe-status', 'brent');
  assert.equal((await snapshot).status, 'closed');
});
