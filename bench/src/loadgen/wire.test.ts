import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MARKET_UPDATE_PREFIX, ORDER_UPDATE_PREFIX, decodeAck, decodeEvent, eventPacket, readCommodity, readSentAt, readSeq, startsWith } from './wire.js';

const frame = Buffer.from(
  '42["market-update",{"type":"MARKET_UPDATE","payload":{"commodity":"crude_oil","price":75.25,"sentAt":1795642476998.5547,"timestamp":"2026-01-01T00:00:00.000Z"},"timestamp":"2026-01-01T00:00:00.000Z","seq":42}]',
);

test('classifies frames by their leading bytes', () => {
  assert.ok(startsWith(frame, MARKET_UPDATE_PREFIX));
  assert.ok(!startsWith(frame, ORDER_UPDATE_PREFIX));
  assert.ok(!startsWith(Buffer.from('42["market-subscribed",{}]'), MARKET_UPDATE_PREFIX));
});

test('reads sentAt, seq and commodity without parsing JSON', () => {
  assert.equal(readSentAt(frame), 1795642476998.5547);
  assert.equal(readSeq(frame), 42);
  assert.equal(readCommodity(frame), 'crude_oil');
  assert.ok(Number.isNaN(readSentAt(Buffer.from('42["x",{}]'))));
});

test('decodes rare events fully', () => {
  assert.deepEqual(decodeEvent(Buffer.from('42["auth-success",{"userId":"u1"}]')), { name: 'auth-success', data: { userId: 'u1' } });
  assert.equal(decodeEvent(Buffer.from('2')), null);
});

test('an event with an ack id, and the ACK answering it', () => {
  assert.equal(eventPacket('place-order', { quantity: 1 }, 7), '427["place-order",{"quantity":1}]');
  assert.equal(eventPacket('place-order', { quantity: 1 }), '42["place-order",{"quantity":1}]');
  assert.deepEqual(decodeAck(Buffer.from('4312[{"ok":true,"order":{"id":"o1"}}]')), { id: 12, data: { ok: true, order: { id: 'o1' } } });
  assert.equal(decodeAck(Buffer.from('43[{"ok":true}]')), null, 'an ACK needs its id');
  assert.equal(decodeAck(Buffer.from('42["x",{}]')), null);
});
