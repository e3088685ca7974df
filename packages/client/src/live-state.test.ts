import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComplianceAlertPayload, OrderUpdatePayload, SystemAlertPayload } from '@qx/protocol';
import { initialLiveState, liveReducer, LIVE_LIMITS, type LiveAction, type LiveState } from './live-state.js';

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
