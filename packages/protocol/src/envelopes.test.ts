import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEnvelope } from './envelopes.js';
import { commoditiesPayloadSchema, describeZodError, marketUpdatePayloadSchema } from './schemas.js';
import { parsePrivateStream, rooms } from './rooms.js';

test('private envelopes keep the seed key order and carry seq', () => {
  const env = buildEnvelope(
    'order-update',
    { id: 'o1', userId: 'u1', status: 'new', filledQuantity: 0, remainingQuantity: 5, averagePrice: 0 },
    { timestamp: '2024-07-29T22:00:00.000Z', seq: 7, userId: 'u1' },
  );
  assert.deepEqual(Object.keys(env), ['type', 'payload', 'timestamp', 'userId', 'seq']);
  assert.equal(env.type, 'ORDER_UPDATE');
});

test('compliance alerts travel in a SYSTEM_ALERT envelope', () => {
  const env = buildEnvelope(
    'compliance-alert',
    { type: 'COMPLIANCE_ALERT', checkType: 'position_limit', severity: 'high', message: 'm', userId: 'u1', details: {} },
    { timestamp: '2024-07-29T22:00:00.000Z', seq: 1, userId: 'u1' },
  );
  assert.equal(env.type, 'SYSTEM_ALERT');
  assert.equal(env.payload.type, 'COMPLIANCE_ALERT');
});

test('commodity lists are de-duplicated and a bare symbol is accepted', () => {
  assert.deepEqual(commoditiesPayloadSchema.parse(['crude_oil', 'crude_oil', 'brent']), ['crude_oil', 'brent']);
  assert.deepEqual(commoditiesPayloadSchema.parse('power'), ['power']);
  assert.equal(commoditiesPayloadSchema.safeParse([]).success, false);
  assert.equal(commoditiesPayloadSchema.safeParse([{ a: 1 }]).success, false);
});

test('a failed parse names the field at fault', () => {
  const r = marketUpdatePayloadSchema.safeParse({ commodity: 'crude_oil', price: -1, change: 0, changePercent: 0, volume: 1 });
  assert.equal(r.success, false);
  if (!r.success) assert.equal(describeZodError(r.error).field, 'price');
});

test('private stream names parse back to channel and user', () => {
  assert.deepEqual(parsePrivateStream(rooms.orders('user-123')), { channel: 'orders', userId: 'user-123' });
  assert.equal(parsePrivateStream('market-crude_oil'), null);
});
