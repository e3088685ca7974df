import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COMMODITIES, systemAlertPayloadSchema, type SystemAlertPayload } from '@qx/protocol';
import { VolatilityMonitor } from './volatility-monitor.js';

const T0 = Date.UTC(2024, 6, 29, 22, 0, 0);

test('raises once when the move crosses the threshold and does not flap around it', () => {
  const monitor = new VolatilityMonitor(DEFAULT_COMMODITIES, { windowMs: 60_000, warningMove: 0.02, criticalMove: 0.05, clearMove: 0.01 });
  const alerts: SystemAlertPayload[] = [];
  // steady, then a 2.5% jump, then prices hovering around the threshold for a while
  const path = [75, 75.1, 75, 76.9, 76.7, 77, 76.5, 76.95, 76.6, 77.1, 76.8];
  path.forEach((p, i) => {
    const a = monitor.observe('crude_oil', p, T0 + i * 1000);
    if (a) alerts.push(a);
  });
  assert.equal(alerts.length, 1);
  const alert = alerts[0]!;
  assert.equal(systemAlertPayloadSchema.safeParse(alert).success, true);
  assert.equal(alert.alertType, 'market_volatility');
  assert.equal(alert.severity, 'warning');
  assert.deepEqual(alert.affectedCommodities, ['crude_oil']);
  assert.equal(alert.message, 'High volatility detected in WTI Crude Oil market');
  assert.equal(alert.timestamp, new Date(T0 + 3000).toISOString());
  assert.equal(monitor.level('crude_oil'), 'warning');
});

test('escalates to critical once, clears only below the lower threshold, then can raise again', () => {
  const monitor = new VolatilityMonitor(DEFAULT_COMMODITIES, { windowMs: 10_000, warningMove: 0.02, criticalMove: 0.05, clearMove: 0.01 });
  const at = (p: number, s: number) => monitor.observe('brent', p, T0 + s * 1000)?.severity ?? null;
  assert.equal(at(79, 0), null);
  assert.equal(at(81, 1), 'warning'); // 2.5%
  assert.equal(at(83.5, 2), 'critical'); // 5.7%
  assert.equal(at(84, 3), null); // still critical: no repeat
  assert.equal(at(83.9, 20), null); // window rolled: move 0.6% → cleared silently
  assert.equal(monitor.level('brent'), 'normal');
  assert.equal(at(84.3, 21), null); // 0.5%: below warning
  assert.equal(at(86, 22), 'warning'); // a new episode
  // other commodities are independent
  assert.equal(monitor.level('carbon'), 'normal');
});

test('between the clear and warning thresholds the state holds (hysteresis)', () => {
  const monitor = new VolatilityMonitor(DEFAULT_COMMODITIES, { windowMs: 5_000, warningMove: 0.02, criticalMove: 0.05, clearMove: 0.01 });
  monitor.observe('carbon', 70, T0);
  assert.equal(monitor.observe('carbon', 71.5, T0 + 1000)?.severity, 'warning');
  assert.equal(monitor.observe('carbon', 71.2, T0 + 4000), null);
  // 70 and 71.5 left the window: the move is 1.4%, above clear, so the warning holds
  assert.equal(monitor.observe('carbon', 72.2, T0 + 6500), null);
  assert.equal(monitor.level('carbon'), 'warning');
  // and back above the warning threshold (2.2%) it does not raise again
  assert.equal(monitor.observe('carbon', 72.8, T0 + 7000), null);
  assert.equal(monitor.level('carbon'), 'warning');
  assert.equal(monitor.observe('carbon', 0, T0 + 7500), null); // ignored
});
