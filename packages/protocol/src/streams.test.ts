import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStream, isDurableStream, roomOfStream, streamOfEvent, streamOfRoom, streams } from './streams.js';
import { rooms } from './rooms.js';

test('each data event has one stream, and each stream one room', () => {
  assert.equal(streamOfEvent('order-update', { userId: 'u-1' }), 'orders-u-1');
  assert.equal(streamOfEvent('trade-update', { userId: 'u-1' }), 'trading-u-1');
  assert.equal(streamOfEvent('compliance-alert', { userId: 'u-1' }), 'compliance-u-1');
  assert.equal(streamOfEvent('system-alert', {}), 'system');
  assert.equal(streamOfEvent('market-update', { commodity: 'crude_oil' }), 'market-crude_oil');
  assert.throws(() => streamOfEvent('order-update', {}), /userId/);
  assert.throws(() => streamOfEvent('market-update', { userId: 'x' }), /commodity/);
  assert.equal(roomOfStream('system'), rooms.authenticated);
  assert.equal(roomOfStream('orders-u-1'), 'orders-u-1');
  assert.equal(roomOfStream(streams.tape('brent')), 'trades-brent');
});

test('rooms map back to their stream; a book room of any depth to its commodity book', () => {
  assert.equal(streamOfRoom(rooms.authenticated), 'system');
  assert.equal(streamOfRoom('orders-u-1'), 'orders-u-1');
  assert.equal(streamOfRoom('market-crude_oil'), 'market-crude_oil');
  assert.equal(streamOfRoom('trades-crude_oil'), 'trades-crude_oil');
  assert.equal(streamOfRoom(rooms.book('crude_oil', 10)), 'book-crude_oil');
  assert.equal(streamOfRoom(rooms.book('natural_gas', 1)), 'book-natural_gas');
  assert.equal(streamOfRoom('xYz12AbCdEf'), null, "a socket's own room carries no stream");
  assert.equal(streamOfRoom('system'), null, 'system alerts go to the authenticated room');
  assert.equal(streamOfRoom('book-crude_oil'), null, 'sockets join a depth, never the bare book stream');
});

test('stream kinds, and which are read back after a gap', () => {
  assert.deepEqual(describeStream('orders-a.b@c'), { kind: 'private', channel: 'orders', userId: 'a.b@c' });
  assert.deepEqual(describeStream('system'), { kind: 'system' });
  assert.deepEqual(describeStream('market-power'), { kind: 'market', commodity: 'power' });
  assert.deepEqual(describeStream('trades-power'), { kind: 'tape', commodity: 'power' });
  assert.deepEqual(describeStream('book-power'), { kind: 'book', commodity: 'power' });
  assert.equal(describeStream('book-power-10'), null);
  assert.equal(describeStream('nonsense'), null);
  assert.equal(isDurableStream('orders-u'), true);
  assert.equal(isDurableStream('system'), true);
  assert.equal(isDurableStream('trades-power'), true);
  assert.equal(isDurableStream('market-power'), false);
  assert.equal(isDurableStream('book-power'), false);
});
