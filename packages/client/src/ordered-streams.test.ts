import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedStreams } from './ordered-streams.js';

const feed = (s: OrderedStreams<number>, stream: string, seqs: number[]) => seqs.flatMap((q) => s.receive(stream, q, q).deliver);

test('delivers in order and drops duplicates', () => {
  const s = new OrderedStreams<number>();
  assert.deepEqual(feed(s, 'orders-u', [5, 6, 6, 5, 7]), [5, 6, 7]);
  assert.equal(s.receive('orders-u', 7, 7).duplicate, true);
  assert.deepEqual(s.positions(), { 'orders-u': 7 });
});

test('holds events after a gap until it is filled, then releases them in order', () => {
  const s = new OrderedStreams<number>();
  assert.deepEqual(feed(s, 'x', [1, 2, 5, 4]), [1, 2]);
  assert.deepEqual(s.gap('x'), { after: 2, next: 4 });
  assert.deepEqual(s.gaps(), ['x']);
  assert.deepEqual(feed(s, 'x', [3]), [3, 4, 5]);
  assert.equal(s.gap('x'), null);
  // a replay of what was already delivered changes nothing
  assert.deepEqual(feed(s, 'x', [3, 4, 5, 6]), [6]);
});

test('a held event received twice is a duplicate', () => {
  const s = new OrderedStreams<number>();
  feed(s, 'x', [1, 3]);
  assert.equal(s.receive('x', 3, 3).duplicate, true);
});

test('the floor read at subscription time makes the first missed events a gap', () => {
  const s = new OrderedStreams<number>();
  s.setFloor('x', 10);
  assert.deepEqual(s.positions(), { x: 10 });
  assert.deepEqual(feed(s, 'x', [12]), []);
  assert.deepEqual(s.gap('x'), { after: 10, next: 12 });
  assert.deepEqual(feed(s, 'x', [11]), [11, 12]);
});

test('events in flight before the floor was read are still delivered', () => {
  const s = new OrderedStreams<number>();
  s.setFloor('x', 10);
  assert.deepEqual(feed(s, 'x', [9, 10, 11]), [9, 10, 11]);
  s.setFloor('x', 50); // ignored once events have been delivered
  assert.deepEqual(s.positions(), { x: 11 });
});

test('skipGap releases the held events and says what is missing', () => {
  const s = new OrderedStreams<number>();
  feed(s, 'x', [1, 4, 5, 8]);
  assert.deepEqual(s.skipGap('x'), { deliver: [4, 5], missing: { from: 2, to: 3 } });
  assert.deepEqual(s.skipGap('x'), { deliver: [8], missing: { from: 6, to: 7 } });
  assert.equal(s.skipGap('x'), null);
  assert.deepEqual(feed(s, 'x', [9]), [9]);
});

test('forget drops a stream', () => {
  const s = new OrderedStreams<number>();
  feed(s, 'x', [1]);
  s.forget('x');
  assert.deepEqual(s.positions(), {});
  assert.equal(s.position('x'), undefined);
});

test('streams are independent', () => {
  const s = new OrderedStreams<number>();
  feed(s, 'a', [1, 2]);
  assert.deepEqual(feed(s, 'b', [7]), [7]);
  assert.deepEqual(s.positions(), { a: 2, b: 7 });
});
