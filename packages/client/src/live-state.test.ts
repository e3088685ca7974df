import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComplianceAlertPayload, OrderUpdatePayload, SystemAlertPayload } from '@qx/protocol/wire';
import type { QuantEnergxErrorCode } from './errors.js';
import { initialLiveState, liveReducer, LIVE_LIMITS, type LiveAction, type LiveState } from './live-state.js';
import { acceptsOrders, isNewerStatus } from './market-status.js';

const run = (actions: LiveAction[], from: LiveState = initialLiveState) => actions.reduce(liveReducer, from);
const order = (id: string, over: Partial<OrderUpdatePayload> = {}): OrderUpdatePayload => ({
  id,
  userId: 'u1',
  status: 'new',
  filledQuantity: 0,
  remainingQuantity: 1000,
  averagePrice: null,
  ...over,
});

test('an order seen for the first time is added (the seed dropped it), then updated in place', () => {
  const s = run([
    { type: 'order', payload: order('o1', { commodity: 'crude_oil', side: 'buy' }) },
    { type: 'order', payload: order('o2') },
    { type: 'order', payload: order('o1', { status: 'partially_filled', filledQuantity: 500, remainingQuantity: 500, averagePrice: 75.2 }) },
  ]);
  assert.equal(s.orders.length, 2);
  assert.deepEqual(s.orders.map((o) => o.id), ['o2', 'o1']);
  const o1 = s.orders[1]!;
  assert.equal(o1.status, 'partially_filled');
  assert.equal(o1.filledQuantity, 500);
  // fields the later update left out are kept
  assert.equal(o1.commodity, 'crude_oil');
  assert.equal(o1.side, 'buy');
});

test('market data: latest per commodity', () => {
  const m = (commodity: string, price: number) => ({ commodity, price, change: 0, changePercent: 0, volume: 1 });
  const s = run([
    { type: 'market', payload: m('crude_oil', 75) },
    { type: 'market', payload: m('natural_gas', 3) },
    { type: 'market', payload: m('crude_oil', 76) },
  ]);
  assert.deepEqual(Object.keys(s.marketData).sort(), ['crude_oil', 'natural_gas']);
  assert.equal(s.marketData['crude_oil']?.price, 76);
});

test('alerts hold system and compliance alerts, newest first, capped', () => {
  const system: SystemAlertPayload = { alertType: 'market_volatility', severity: 'warning', message: 'vol' };
  const compliance: ComplianceAlertPayload = { type: 'COMPLIANCE_ALERT', checkType: 'position_limit', severity: 'high', message: 'limit', userId: 'u1', details: {} };
  const s = run([
    { type: 'alert', payload: system },
    { type: 'alert', payload: compliance },
  ]);
  assert.deepEqual(s.alerts, [compliance, system]);
  const many = run(Array.from({ length: LIVE_LIMITS.alerts + 5 }, () => ({ type: 'alert', payload: system })));
  assert.equal(many.alerts.length, LIVE_LIMITS.alerts);
});

test('connection flags, disconnect reason, errors, reset', () => {
  let s = run([{ type: 'connected' }, { type: 'authenticated' }]);
  assert.equal(s.connected && s.authenticated, true);
  const notice = { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' } as const;
  s = liveReducer(s, { type: 'disconnected', notice });
  assert.equal(s.connected, false);
  assert.equal(s.authenticated, false);
  assert.deepEqual(s.disconnectReason, notice);
  s = liveReducer(s, { type: 'error', error: { code: 'UNKNOWN_COMMODITY', message: 'Unknown commodity: x' } });
  assert.equal(s.error?.code, 'UNKNOWN_COMMODITY');
  // the code is the SDK's code union, so an app can switch on it exhaustively (type-checked: a plain string would not compile here)
  const code: QuantEnergxErrorCode | undefined = s.error?.code;
  assert.equal(code, 'UNKNOWN_COMMODITY');
  s = liveReducer(s, { type: 'authenticated' });
  assert.equal(s.error, null);
  assert.equal(liveReducer(s, { type: 'reset' }), initialLiveState);
});

test('the reducer never mutates the previous state', () => {
  const before = run([{ type: 'order', payload: order('o1') }]);
  const snapshot = structuredClone(before);
  liveReducer(before, { type: 'order', payload: order('o1', { status: 'filled' }) });
  liveReducer(before, { type: 'market', payload: { commodity: 'brent', price: 1, change: 0, changePercent: 0, volume: 0 } });
  assert.deepEqual(before, snapshot);
});

test('status: connecting, connected, reconnecting, and back counts as a reconnect (a token refresh does not)', () => {
  let s = run([{ type: 'connected' }]);
  assert.equal(s.status, 'connecting', 'connected but not yet authenticated');
  s = run([{ type: 'authenticated' }, { type: 'authenticated' }], s);
  assert.equal(s.status, 'connected');
  assert.equal(s.reconnects, 0, 'a token refresh is not a reconnect');
  s = liveReducer(s, { type: 'disconnected', notice: null, willReconnect: true });
  assert.equal(s.status, 'reconnecting');
  s = run([{ type: 'connected' }, { type: 'authenticated' }], s);
  assert.equal(s.status, 'connected');
  assert.equal(s.reconnects, 1);
  // a recovered session is live at once
  s = run([{ type: 'disconnected', notice: null, willReconnect: true }, { type: 'connected', recovered: true }], s);
  assert.equal(s.status, 'connected');
  assert.equal(s.reconnects, 2);
  // refused credentials: auth-error, and a disconnect after it does not hide that
  s = run([{ type: 'error', error: { code: 'INVALID_TOKEN', message: 'Invalid token' }, fatal: true }, { type: 'disconnected', notice: null, willReconnect: false }], s);
  assert.equal(s.status, 'auth-error');
  assert.equal(liveReducer(initialLiveState, { type: 'disconnected', notice: null, willReconnect: false }).status, 'closed');
});

test('a REST page of orders merges with the live stream: an older state never replaces a newer one', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  let s = run([{ type: 'order', payload: order('o2', { status: 'cancelled', createdAt: t(2), timestamp: t(5) }) }]);
  // the page was read before the cancel: o2 still new there; o1 is older and not held yet
  s = liveReducer(s, {
    type: 'orders',
    orders: [order('o3', { createdAt: t(3), timestamp: t(3) }), order('o2', { createdAt: t(2), timestamp: t(2) }), order('o1', { createdAt: t(1), timestamp: t(1) })],
  });
  assert.deepEqual(s.orders.map((o) => `${o.id}:${o.status}`), ['o3:new', 'o2:cancelled', 'o1:new']);
  // a filled order does not go back to open, even with a later timestamp
  s = run([{ type: 'order', payload: order('o1', { status: 'filled', timestamp: t(6) }) }, { type: 'order', payload: order('o1', { status: 'new', timestamp: t(7) }) }], s);
  assert.equal(s.orders.find((o) => o.id === 'o1')?.status, 'filled');
  const same = liveReducer(s, { type: 'orders', orders: [] });
  assert.equal(same, s, 'nothing new: the same state');
});

test('trades are kept once by id, newest first', () => {
  const trade = (id: string, sec: number) => ({
    id,
    orderId: 'o1',
    userId: 'u1',
    commodity: 'crude_oil',
    side: 'buy' as const,
    quantity: 1000,
    price: 75,
    status: 'executed' as const,
    executionTime: new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString(),
  });
  let s = run([{ type: 'trade', payload: trade('t1', 1) }, { type: 'trade', payload: trade('t2', 2) }]);
  s = liveReducer(s, { type: 'trades', trades: [trade('t2', 2), trade('t1', 1), trade('t0', 0)] });
  assert.deepEqual(s.trades.map((x) => x.id), ['t2', 't1', 't0']);
  assert.equal(liveReducer(s, { type: 'trade', payload: trade('t1', 1) }), s, 'a replayed fill changes nothing');
});

test('market status: the newer status of each commodity wins; a halted or closed market does not accept orders', () => {
  const status = (commodity: string, s: 'open' | 'halted' | 'closed', seq: number, since = '2026-01-01T10:00:00.000Z') => ({ commodity, status: s, reason: s === 'open' ? 'Open' : 'Exchange incident', since, until: null, seq });
  const s = run([
    { type: 'status', payload: status('brent', 'open', 0) },
    { type: 'status', payload: status('brent', 'halted', 1, '2026-01-01T10:05:00.000Z') },
    // the snapshot of a new session, older than what is held: ignored
    { type: 'status', payload: status('brent', 'open', 0) },
    { type: 'status', payload: status('carbon', 'closed', 3) },
  ]);
  assert.deepEqual([s.marketStatus['brent']?.status, s.marketStatus['brent']?.seq, s.marketStatus['carbon']?.status], ['halted', 1, 'closed']);
  assert.equal(acceptsOrders(s.marketStatus['brent']), false);
  assert.equal(acceptsOrders(s.marketStatus['carbon']), false);
  assert.equal(acceptsOrders(s.marketStatus['crude_oil']), true, 'not followed: the gateway decides');
  // reopened
  const reopened = liveReducer(s, { type: 'status', payload: status('brent', 'open', 2, '2026-01-01T10:07:00.000Z') });
  assert.equal(acceptsOrders(reopened.marketStatus['brent']), true);
  // the same status again changes nothing (the state object is kept)
  assert.equal(liveReducer(reopened, { type: 'status', payload: status('brent', 'open', 2, '2026-01-01T10:07:00.000Z') }), reopened);
  // a gateway whose count started again: a later `since` wins over a higher seq
  assert.equal(isNewerStatus(status('brent', 'halted', 5), status('brent', 'open', 1, '2026-01-02T00:00:00.000Z')), true);
  assert.equal(liveReducer(s, { type: 'reset' }).marketStatus['brent'], undefined);
});
