import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataEvent } from '@qx/protocol';
import { encodeHeader, parseChannelMessage, parseEntry } from './bus-message.js';

test('a channel message round-trips, whatever the envelope holds', () => {
  const event = { room: 'authenticated', stream: 'system', seq: 42, event: DataEvent.SystemAlert };
  const envelope = JSON.stringify({ type: 'SYSTEM_ALERT', payload: { message: 'line 1\nline 2 "q" \\' }, seq: 42 }) + '\n';
  const msg = parseChannelMessage(`abc123\n${encodeHeader(event)}\n${envelope}`);
  assert.deepEqual(msg, { ...event, envelope, epoch: 'abc123' });
});

test('malformed messages parse to null, never throw', () => {
  for (const bad of ['', 'x', '\n', 'e\n', 'e\n{not json}\n{}', 'e\n["a","a",1]\n{}', 'e\n["a","a",1.5,"order-update"]\n{}', 'e\n["a","",1,"order-update"]\n{}', 'e\n["a","a",1,"hello"]\n{}', 'e\n[1,"a",1,"order-update"]\n{}']) {
    assert.equal(parseChannelMessage(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseEntry('', 'no newline'), null);
});

test("an order's times and its trace ride in the header; a malformed trace makes the message malformed", () => {
  const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const event = { room: 'orders-alice', stream: 'orders-alice', seq: 7, event: DataEvent.OrderUpdate, meta: { receivedAt: 1.5, committedAt: 2.25, trace } };
  const msg = parseChannelMessage(`e1\n${encodeHeader(event)}\n{}`);
  assert.deepEqual(msg?.meta, { receivedAt: 1.5, committedAt: 2.25, trace });
  for (const bad of ['', 'nope', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', 42]) {
    const header = JSON.stringify(['orders-alice', 'orders-alice', 7, 'order-update', { receivedAt: 1, trace: bad }]);
    assert.equal(parseChannelMessage(`e1\n${header}\n{}`), null, JSON.stringify(bad));
  }
});
