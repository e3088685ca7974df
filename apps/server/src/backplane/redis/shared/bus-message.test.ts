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
