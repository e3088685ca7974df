import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { HandshakeGate } from './handshake-gate.js';

const request = (destroyed = false): IncomingMessage => ({ socket: { destroyed } }) as unknown as IncomingMessage;

test('admits `limit` sessions at once; each one connected lets the next waiting one in, in arrival order', () => {
  const gate = new HandshakeGate({ limit: 2, holdMs: 60_000 });
  const admitted: number[] = [];
  const reqs = [0, 1, 2, 3, 4].map(() => request());
  reqs.forEach((req, i) => gate.enter(req, () => admitted.push(i)));
  assert.deepEqual(admitted, [0, 1]);
  assert.equal(gate.waiting, 3);
  gate.done(reqs[1]!);
  assert.deepEqual(admitted, [0, 1, 2]);
  gate.done(reqs[1]!); // twice: the second is a no-op
  assert.deepEqual(admitted, [0, 1, 2]);
  gate.done(reqs[0]!);
  gate.done(reqs[2]!);
  assert.deepEqual(admitted, [0, 1, 2, 3, 4]);
  assert.equal(gate.waiting, 0);
  assert.equal(gate.admitted, 2);
});

test('a client that left while waiting is passed over without taking a slot', () => {
  const gate = new HandshakeGate({ limit: 1, holdMs: 60_000 });
  const admitted: string[] = [];
  const first = request();
  gate.enter(first, () => admitted.push('first'));
  gate.enter(request(true), () => admitted.push('gone'));
  gate.enter(request(), () => admitted.push('third'));
  gate.done(first);
  assert.deepEqual(admitted, ['first', 'third']);
});

test('a session that never connects gives its slot back after holdMs', async () => {
  const gate = new HandshakeGate({ limit: 1, holdMs: 30 });
  const admitted: string[] = [];
  gate.enter(request(), () => admitted.push('silent'));
  gate.enter(request(), () => admitted.push('next'));
  assert.deepEqual(admitted, ['silent']);
  const deadline = Date.now() + 5000;
  while (admitted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(admitted, ['silent', 'next']);
});

test('bad options are refused', () => {
  assert.throws(() => new HandshakeGate({ limit: 0, holdMs: 10 }), RangeError);
  assert.throws(() => new HandshakeGate({ limit: 1, holdMs: 0 }), RangeError);
});
