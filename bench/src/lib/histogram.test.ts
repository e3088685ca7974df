import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from './histogram.js';

test('percentiles are within 0.1% of the recorded values', () => {
  const h = new Histogram();
  for (let v = 1; v <= 100_000; v++) h.record(v);
  const within = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 1, `${actual} vs ${expected}`);
  within(h.valueAtPercentile(50), 50_000);
  within(h.valueAtPercentile(99), 99_000);
  within(h.valueAtPercentile(99.9), 99_900);
  assert.equal(h.valueAtPercentile(100), 100_000);
  assert.equal(h.count, 100_000);
});

test('sparse counts merge into another histogram', () => {
  const a = new Histogram();
  const b = new Histogram();
  [5, 7, 1500, 2_500_000].forEach((v) => a.record(v));
  b.addSparse(a.toSparse());
  assert.equal(b.count, 4);
  assert.equal(b.valueAtPercentile(25), 5);
  assert.ok(Math.abs(b.valueAtPercentile(100) - 2_500_000) <= 2_500);
});

test('values beyond the range are clamped and counted', () => {
  const h = new Histogram();
  h.record(-3);
  h.record(1e12);
  assert.equal(h.clamped, 1);
  assert.equal(h.valueAtPercentile(0), 0);
  assert.match(h.percentileDistribution(), /Total count\s+=\s+2/);
});
