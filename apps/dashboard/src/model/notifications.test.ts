import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_NOTIFICATIONS, addFill, addNotification, dismiss } from './notifications.js';
import type { Trade } from './types.js';

const crude = { name: 'WTI Crude Oil', contractSize: 1000, tickSize: 0.01 };
const fill = (id: string, quantity: number, price: number, orderId = 'ord-1'): Trade => ({
  id,
  orderId,
  userId: 'u',
  commodity: 'crude_oil',
  quantity,
  price,
  side: 'sell',
  status: 'executed',
  executionTime: '2026-01-01T00:00:00.000Z',
});

test('the fills of one order gather into one notification, each trade once', () => {
  let n = addFill(EMPTY_NOTIFICATIONS, fill('t1', 20_000, 75.1), crude, 1);
  assert.equal(n[0]?.text, 'Sold 20 lots WTI Crude Oil at 75.10 · ord-1');
  n = addFill(n, fill('t2', 10_000, 75.4), crude, 2);
  n = addFill(n, fill('t2', 10_000, 75.4), crude, 3);
  assert.equal(n.length, 1);
  assert.equal(n[0]?.text, 'Sold 30 lots WTI Crude Oil at avg 75.20 (2 fills) · ord-1');
  n = addFill(n, fill('t3', 1000, 75, 'ord-2'), crude, 4);
  assert.deepEqual(n.map((x) => x.orderId), ['ord-2', 'ord-1']);
});

test('actions are acknowledged; any notification can be dismissed, or all of them', () => {
  let n = addNotification(EMPTY_NOTIFICATIONS, { kind: 'action', tone: 'ok', text: 'Cancelled 3 open orders (all commodities)', time: 1 });
  n = addFill(n, fill('t1', 1000, 75), crude, 2);
  assert.equal(n.length, 2);
  assert.deepEqual(dismiss(n, 'fill:ord-1').map((x) => x.kind), ['action']);
  assert.equal(dismiss(n, 'all').length, 0);
});
