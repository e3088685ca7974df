import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_SEQ, forgetSeqs, lastSeqs, rebaseSeqs, trackSeq } from './seq-tracker.js';

test('the first envelope of a stream is fresh, whatever its seq', () => {
  const r = trackSeq(EMPTY_SEQ, 'orders-u1', 41);
  assert.equal(r.verdict, 'fresh');
  assert.deepEqual(r.state, { 'orders-u1': 41 });
});

test('the next seq is fresh, a repeat or an older one is a duplicate', () => {
  let s = trackSeq(EMPTY_SEQ, 'orders-u1', 1).state;
  const next = trackSeq(s, 'orders-u1', 2);
  assert.equal(next.verdict, 'fresh');
  s = next.state;
  assert.equal(trackSeq(s, 'orders-u1', 2).verdict, 'duplicate');
  assert.equal(trackSeq(s, 'orders-u1', 1).verdict, 'duplicate');
  assert.equal(trackSeq(s, 'orders-u1', 2).state, s, 'a duplicate leaves the state as it was');
});

test('a skipped seq is a gap, and the stream moves on', () => {
  const s = trackSeq(EMPTY_SEQ, 'system', 3).state;
  const r = trackSeq(s, 'system', 7);
  assert.equal(r.verdict, 'gap');
  assert.equal(r.state['system'], 7);
});

test('streams are independent', () => {
  const s = trackSeq(EMPTY_SEQ, 'market-brent', 10).state;
  assert.equal(trackSeq(s, 'market-carbon', 1).verdict, 'fresh');
});

test('envelopes without seq are taken as they come', () => {
  assert.equal(trackSeq(EMPTY_SEQ, 'system', undefined).verdict, 'fresh');
});

test('lastSeqs picks the streams asked for', () => {
  const s = { 'market-brent': 5, 'orders-u1': 3, system: 2 };
  assert.deepEqual(lastSeqs(s, (k) => !k.startsWith('market-')), { 'orders-u1': 3, system: 2 });
});

test('rebaseSeqs follows a stream that restarted lower, and only that', () => {
  const s = { 'orders-u1': 40, system: 9 };
  assert.deepEqual(rebaseSeqs(s, { 'orders-u1': 2, system: 12, 'trading-u1': 5 }), { 'orders-u1': 2, system: 9 });
  assert.equal(rebaseSeqs(s, { system: 9 }), s);
});

test('forgetSeqs drops the matching streams', () => {
  assert.deepEqual(forgetSeqs({ 'market-brent': 5, 'orders-u1': 3 }, (k) => k.startsWith('market-')), { 'orders-u1': 3 });
});
