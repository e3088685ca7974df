import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_LIVE_STATE, isLive, liveReducer } from './live-state.js';
import { screenNotice } from './alerts.js';

test('connection changes are recorded, a repeat is a no-op', () => {
  const s = liveReducer(INITIAL_LIVE_STATE, { type: 'connection', status: 'auth-error', detail: 'Token expired' });
  assert.deepEqual(s.connection, { status: 'auth-error', detail: 'Token expired', reconnects: 0 });
  assert.equal(liveReducer(s, { type: 'connection', status: 'auth-error', detail: 'Token expired' }), s);
});

test('market batches, orders, trades, positions and alerts each land in their slice', () => {
  let s = liveReducer(INITIAL_LIVE_STATE, { type: 'market', updates: [{ commodity: 'brent', price: 79, change: 0, changePercent: 0, volume: 1 }] });
  s = liveReducer(s, { type: 'orders', orders: [{ id: 'o1', userId: 'u', status: 'new', filledQuantity: 0, remainingQuantity: 5, averagePrice: null }] });
  s = liveReducer(s, { type: 'trades', trades: [{ id: 't1', orderId: 'o1', userId: 'u', commodity: 'brent', quantity: 5, price: 79, side: 'buy', status: 'executed', executionTime: '2026-01-01T00:00:00.000Z' }] });
  s = liveReducer(s, { type: 'positions', positions: [{ commodity: 'brent', netQuantity: 5, averagePrice: 79, realizedPnl: 0, openBuyQuantity: 0, openSellQuantity: 0 }] });
  s = liveReducer(s, { type: 'alert', alert: screenNotice('x', 'info', 'hello', new Date(0)) });
  assert.equal(s.market['brent']?.price, 79);
  assert.equal(s.orders.length, 1);
  assert.equal(s.trades.length, 1);
  assert.equal(s.positions.length, 1);
  assert.equal(s.alerts.length, 1);
});

test('nothing new, same state (so React skips the render)', () => {
  assert.equal(liveReducer(INITIAL_LIVE_STATE, { type: 'market', updates: [] }), INITIAL_LIVE_STATE);
  assert.equal(liveReducer(INITIAL_LIVE_STATE, { type: 'orders', orders: [] }), INITIAL_LIVE_STATE);
});

test('reconnected: live again, counted, and the lost-connection notices are gone', () => {
  let s = liveReducer(INITIAL_LIVE_STATE, { type: 'connection', status: 'connected' });
  s = liveReducer(s, { type: 'alert', alert: screenNotice('SHUTDOWN', 'warning', 'Disconnected by the server', new Date(1), { connection: true }) });
  s = liveReducer(s, { type: 'connection', status: 'reconnecting', detail: 'transport close' });
  assert.equal(isLive(s.connection), false);
  s = liveReducer(s, { type: 'reconnected' });
  assert.deepEqual(s.connection, { status: 'connected', detail: null, reconnects: 1 });
  assert.equal(isLive(s.connection), true);
  assert.equal(s.alerts.length, 0);
});
