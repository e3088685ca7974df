import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimalsOf, formatCompact, formatFullTime, formatLots, formatLotsWithUnits, formatMoney, formatPrice, formatQuantity, formatSigned, formatTime, signClass } from './format.js';

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

test('lots: units over the contract size, with the units beside them', () => {
  assert.equal(formatLots(5000, 1000), '5');
  assert.equal(formatLots(500, 1000), '0.5');
  assert.equal(formatLots(1_000_000, 1000), '1,000');
  assert.equal(formatLotsWithUnits(1000, { contractSize: 1000, unit: 'bbl' }), '1 lot (1,000 bbl)');
  assert.equal(formatLotsWithUnits(144_000, { contractSize: 1000, unit: 'bbl' }), '144 lots (144,000 bbl)');
  assert.equal(formatMoney(75120, 'USD'), 'USD 75,120.00');
});

test('the hover time has the date, the milliseconds and the zones', () => {
  const full = formatFullTime('2026-12-02T03:01:02.123Z', 'Europe/Berlin') ?? '';
  assert.match(full, /^2026-12-02 03:01:02\.123 UTC · local 02 Dec(,)? 04:01:02 (CET|GMT\+1)$/);
  assert.equal(formatFullTime(undefined), undefined);
  assert.equal(formatFullTime('nope'), undefined);
});
