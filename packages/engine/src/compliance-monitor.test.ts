import { test } from 'node:test';
import assert from 'node:assert/strict';
import { complianceAlertPayloadSchema, DEFAULT_COMMODITIES } from '@qx/protocol';
import { ComplianceMonitor } from './compliance-monitor.js';
import { Exchange } from './exchange.js';
import type { EngineEvent } from './events.js';
import { manualClock, payloadProblems } from './testing.js';

const alertsOf = (events: EngineEvent[]) => events.flatMap((e) => (e.event === 'compliance-alert' ? [e.payload] : []));

function setup() {
  const clock = manualClock();
  const exchange = new Exchange({
    clock: clock.now,
    volatility: false,
    compliance: { users: { alice: { crude_oil: { positionLimit: 1000, maxOrderSize: 600 } } } },
  });
  // plenty of liquidity from another user on both sides
  exchange.submit('dealer', { commodity: 'crude_oil', side: 'sell', type: 'limit', price: 75, quantity: 100_000 });
  exchange.submit('dealer', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74.9, quantity: 100_000 });
  return { clock, exchange };
}

const buy = (quantity: number) => ({ commodity: 'crude_oil', side: 'buy' as const, type: 'market' as const, quantity });
const sell = (quantity: number) => ({ commodity: 'crude_oil', side: 'sell' as const, type: 'market' as const, quantity });

test('pre-trade: an order above the maximum order size is rejected with an order_size alert', () => {
  const { exchange } = setup();
  const result = exchange.submit('alice', buy(601));
  assert.equal(!result.ok && result.error.code, 'COMPLIANCE_REJECTED');
  assert.deepEqual(payloadProblems(result.events), []);
  assert.deepEqual(result.events.map((e) => e.event), ['order-update', 'compliance-alert']);
  const [alert] = alertsOf(result.events);
  assert.equal(alert?.checkType, 'order_size');
  assert.equal(alert?.severity, 'critical');
  assert.equal(alert?.userId, 'alice');
  assert.deepEqual({ ...alert?.details }, { currentPosition: 0, limit: 600, utilization: 1.0017, commodity: 'crude_oil', orderQuantity: 601 });
  assert.equal(result.order?.status, 'rejected');
  assert.match(result.order?.reason ?? '', /maximum order size/);
  assert.equal(exchange.position('alice', 'crude_oil')?.netQuantity, 0);
});

test('pre-trade: position plus open same-side orders plus the order may not exceed the limit', () => {
  const { exchange } = setup();
  assert.equal(exchange.submit('alice', buy(500)).ok, true);
  assert.equal(exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74, quantity: 400 }).ok, true);
  const result = exchange.submit('alice', buy(101)); // 500 + 400 + 101 > 1000
  assert.equal(!result.ok && result.error.code, 'COMPLIANCE_REJECTED');
  const [alert] = alertsOf(result.events);
  assert.equal(alert?.checkType, 'position_limit');
  assert.equal(alert?.details.currentPosition, 500);
  assert.equal(alert?.details.limit, 1000);
  assert.equal(alert?.details.utilization, 1.001);
  assert.equal(complianceAlertPayloadSchema.safeParse(alert).success, true);
  assert.equal(exchange.submit('alice', buy(100)).ok, true); // exactly at the limit is fine
  // the other side reduces the position, so selling is allowed
  assert.equal(exchange.submit('alice', sell(600)).ok, true);
  // other users keep the catalogue's defaults
  const bob = DEFAULT_COMMODITIES.find((c) => c.symbol === 'crude_oil')!;
  assert.deepEqual(exchange.complianceLimits('bob', 'crude_oil'), { positionLimit: bob.positionLimit, maxOrderSize: bob.maxOrderSize });
});

test('post-trade: one alert per upward threshold crossing, re-armed after falling back', () => {
  const { exchange } = setup();
  const seen: [string, number][] = [];
  const step = (r: { events: EngineEvent[] }) => {
    assert.deepEqual(payloadProblems(r.events), []);
    for (const a of alertsOf(r.events)) seen.push([a.severity, a.details.utilization ?? -1]);
  };
  step(exchange.submit('alice', buy(500))); // 0.5
  step(exchange.submit('alice', buy(310))); // 0.81 → medium
  step(exchange.submit('alice', buy(10))); // 0.82 → nothing
  step(exchange.submit('alice', buy(10))); // 0.83 → nothing
  step(exchange.submit('alice', buy(80))); // 0.91 → high
  step(exchange.submit('alice', sell(200))); // 0.71 → re-armed, no alert
  step(exchange.submit('alice', buy(100))); // 0.81 → medium again
  step(exchange.submit('alice', buy(160))); // 0.97 → one alert (critical), not three
  assert.deepEqual(seen, [
    ['medium', 0.81],
    ['high', 0.91],
    ['medium', 0.81],
    ['critical', 0.97],
  ]);
  const alert = alertsOf(exchange.submit('alice', sell(1)).events);
  assert.deepEqual(alert, []);
});

test('post-trade alerts carry the catalogue name and details; the level survives in the journal', () => {
  const { exchange } = setup();
  assert.deepEqual(alertsOf(exchange.submit('alice', buy(500)).events), []);
  const result = exchange.submit('alice', buy(350));
  const [alert] = alertsOf(result.events);
  assert.equal(alert?.message, 'Position limit approaching for WTI Crude Oil');
  assert.equal(alert?.type, 'COMPLIANCE_ALERT');
  assert.equal(alert?.checkType, 'position_limit');
  assert.equal(alert?.details.currentPosition, 850);
  const level = result.journal.find((r) => r.kind === 'compliance');
  assert.deepEqual(level?.kind === 'compliance' && { user: level.compliance.userId, level: level.compliance.level }, { user: 'alice', level: 1 });
});

test('a short position counts by its absolute size', () => {
  const monitor = new ComplianceMonitor(DEFAULT_COMMODITIES, { users: { u: { power: { positionLimit: 100 } } } });
  const t = '2024-07-29T22:00:00.000Z';
  assert.equal(monitor.afterPositionChange('u', 'power', -85, t).alert?.severity, 'medium');
  assert.equal(monitor.afterPositionChange('u', 'power', -100, t).alert?.message, 'Position limit reached for PJM West Power');
  const check = monitor.checkOrder({ userId: 'u', commodity: 'power', side: 'sell', quantity: 10, netQuantity: -95, openBuyQuantity: 0, openSellQuantity: 0 }, t);
  assert.equal(check?.alert.checkType, 'position_limit');
  assert.equal(monitor.checkOrder({ userId: 'u', commodity: 'power', side: 'buy', quantity: 10, netQuantity: -95, openBuyQuantity: 0, openSellQuantity: 0 }, t), null);
});
