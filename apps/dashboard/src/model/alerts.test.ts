import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ALERTS, MAX_ACKED, MAX_ALERTS, addAlert, addAlerts, clearConnectionNotices, complianceAlert, complianceAlertsFromLog, parseAcked, screenNotice, systemAlert, withAcked } from './alerts.js';

const envelope = { timestamp: '2026-01-01T00:00:00.000Z', seq: 4 };

test('a compliance alert keeps its check, severity, commodity and utilization', () => {
  const a = complianceAlert(
    {
      type: 'COMPLIANCE_ALERT',
      checkType: 'position_limit',
      severity: 'high',
      message: 'Position limit approaching for crude oil',
      userId: 'u1',
      details: { currentPosition: 9_500_000, limit: 10_000_000, utilization: 0.95, commodity: 'crude_oil' },
    },
    envelope,
  );
  assert.deepEqual(
    { id: a.id, source: a.source, kind: a.kind, severity: a.severity, commodities: a.commodities, utilization: a.utilization, time: a.time },
    { id: 'compliance:4', source: 'compliance', kind: 'position_limit', severity: 'high', commodities: ['crude_oil'], utilization: 0.95, time: envelope.timestamp },
  );
});

test('a system alert keeps its type and affected commodities', () => {
  const a = systemAlert({ alertType: 'market_volatility', severity: 'warning', message: 'High volatility', affectedCommodities: ['brent'], timestamp: '2026-01-01T00:00:09.000Z' }, envelope);
  assert.equal(a.kind, 'market_volatility');
  assert.deepEqual(a.commodities, ['brent']);
  assert.equal(a.time, '2026-01-01T00:00:09.000Z');
  assert.equal(a.utilization, null);
});

test('newest first, each alert once, capped', () => {
  const one = systemAlert({ alertType: 'x', severity: 'info', message: 'one' }, { timestamp: envelope.timestamp, seq: 1 });
  const two = systemAlert({ alertType: 'x', severity: 'info', message: 'two' }, { timestamp: envelope.timestamp, seq: 2 });
  let s = addAlert(addAlert(EMPTY_ALERTS, one), two);
  s = addAlert(s, one);
  assert.deepEqual(s.map((a) => a.message), ['two', 'one']);
  for (let i = 0; i < MAX_ALERTS + 5; i++) s = addAlert(s, screenNotice('n', 'info', `n${i}`, new Date(i)));
  assert.equal(s.length, MAX_ALERTS);
});

test('reconnecting clears the notices about the lost connection, and nothing else', () => {
  const shutdown = screenNotice('SHUTDOWN', 'warning', 'Disconnected by the server: Server shutting down', new Date(1), { connection: true });
  const refused = screenNotice('order', 'warning', 'Cancel ord-1: ORDER_NOT_FOUND', new Date(2));
  const system = systemAlert({ alertType: 'x', severity: 'info', message: 'kept' }, envelope);
  const s = addAlert(addAlert(addAlert(EMPTY_ALERTS, shutdown), refused), system);
  assert.deepEqual(clearConnectionNotices(s).map((a) => a.message), ['kept', 'Cancel ord-1: ORDER_NOT_FOUND']);
  const clean = clearConnectionNotices(s);
  assert.equal(clearConnectionNotices(clean), clean);
});

test('compliance alerts read back from the event log have the ids they had live, so none shows twice', () => {
  const payload = { type: 'COMPLIANCE_ALERT' as const, checkType: 'position_limit', severity: 'critical' as const, message: 'Position limit reached for crude oil', userId: 'u1', details: { currentPosition: 1, limit: 1, utilization: 1, commodity: 'crude_oil' } };
  const logged = complianceAlertsFromLog([
    { event: 'compliance-alert', seq: 7, envelope: { type: 'SYSTEM_ALERT', payload, timestamp: '2026-01-01T00:00:07.000Z', seq: 7 } },
    { event: 'other', seq: 8, envelope: { payload: {}, timestamp: '2026-01-01T00:00:08.000Z' } },
  ]);
  assert.deepEqual(logged.map((a) => a.id), ['compliance:7']);
  const live = complianceAlert(payload, { timestamp: '2026-01-01T00:00:07.000Z', seq: 7 });
  const s = addAlerts(addAlert(EMPTY_ALERTS, live), logged);
  assert.equal(s.length, 1);
  const newer = screenNotice('n', 'info', 'newer', new Date('2026-01-01T00:01:00Z'));
  assert.deepEqual(addAlerts([newer], logged).map((a) => a.id), [newer.id, 'compliance:7']);
});

test('acknowledged ids are kept once each, bounded, and junk in storage is ignored', () => {
  assert.deepEqual(withAcked(withAcked([], 'compliance:7'), 'compliance:7'), ['compliance:7']);
  assert.deepEqual(parseAcked('["a", 3, "b"]'), ['a', 'b']);
  assert.deepEqual(parseAcked('{'), []);
  assert.deepEqual(parseAcked(null), []);
  let many: string[] = [];
  for (let i = 0; i < MAX_ACKED + 3; i++) many = withAcked(many, `a${i}`);
  assert.equal(many.length, MAX_ACKED);
  assert.equal(many[0], 'a3');
});
