import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimalsOf, formatCompact, formatPrice, formatQuantity, formatSigned, formatTime, signClass } from './format.js';

test('prices are shown to the tick', () => {
  assert.equal(decimalsOf(0.0001), 4);
  assert.equal(decimalsOf(1e-7), 7);
  assert.equal(decimalsOf(5), 0);
  assert.equal(formatPrice(2.45, 0.0001), '2.4500');
  assert.equal(formatPrice(1075.5, 0.05), '1,075.50');
  assert.equal(formatPrice(null, 0.01), '—');
});

test('quantities and volumes', () => {
  assert.equal(formatQuantity(1234567), '1,234,567');
  assert.equal(formatCompact(1_234_567), '1.23M');
  assert.equal(formatCompact(56_700), '56.7K');
  assert.equal(formatCompact(950), '950');
  assert.equal(formatCompact(undefined), '—');
});

test('signed values carry their sign, and zero none', () => {
  assert.equal(formatSigned(0.75, 2), '+0.75');
  assert.equal(formatSigned(-1.014, 2, '%'), '−1.01%');
  assert.equal(formatSigned(-0.001, 2), '0.00');
  assert.equal(signClass(-2), 'neg');
  assert.equal(signClass(0), 'flat');
  assert.equal(signClass(3), 'pos');
});

test('times are UTC clock times', () => {
  assert.equal(formatTime('2026-01-01T13:04:05.123Z'), '13:04:05');
  assert.equal(formatTime('nonsense'), '—');
  assert.equal(formatTime(null), '—');
});
