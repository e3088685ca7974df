import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_COMMODITIES } from '@qx/protocol';
import { PriceGrid, scaledUnits } from './price-grid.js';

test('wire prices convert to integer ticks exactly, and back', () => {
  assert.equal(new PriceGrid(0.01).toTicks(75.25), 7525);
  assert.equal(new PriceGrid(0.01).toTicks(0.29), 29); // 0.29 * 100 = 28.999999999999996
  assert.equal(new PriceGrid(0.0001).toTicks(2.4567), 24567);
  assert.equal(new PriceGrid(0.05).toTicks(49.95), 999);
  assert.equal(new PriceGrid(0.05).fromTicks(999), 49.95);
  assert.equal(new PriceGrid(0.001).fromTicks(2953), 2.953);
});

test('prices off the grid are refused', () => {
  assert.equal(new PriceGrid(0.01).toTicks(75.255), null);
  assert.equal(new PriceGrid(0.05).toTicks(49.97), null);
  assert.equal(new PriceGrid(0.01).toTicks(Number.NaN), null);
  assert.equal(new PriceGrid(0.01).toTicks(Infinity), null);
});

test('every tick count of every catalogue commodity round-trips through its wire decimal', () => {
  fc.assert(
    fc.property(fc.constantFrom(...DEFAULT_COMMODITIES), fc.integer({ min: 1, max: 50_000_000 }), (c, ticks) => {
      const grid = PriceGrid.of(c);
      const wire = grid.fromTicks(ticks);
      assert.equal(grid.toTicks(wire), ticks);
      assert.ok((wire.toString().split('.')[1]?.length ?? 0) <= grid.decimals, `${wire} has too many decimals`);
    }),
  );
});

test('a price a hair off the grid is refused, not rounded onto it (issue 10 item 13)', () => {
  const cents = new PriceGrid(0.01);
  assert.equal(cents.toTicks(75.10000001), null);
  assert.equal(cents.toTicks(75.1 + 1e-8), null);
  assert.equal(cents.toTicks(75.099999999), null);
  assert.equal(cents.toTicks(1e-7), null);
  assert.equal(new PriceGrid(0.05).toTicks(49.95000001), null);
  // JSON numbers that are exactly on the grid as decimals still work
  assert.equal(cents.toTicks(75.1), 7510);
  assert.equal(cents.toTicks(0.07), 7); // 0.07 * 100 = 7.000000000000001
  assert.equal(cents.toTicks(1e21), 1e23);
  assert.equal(new PriceGrid(0.0001).toTicks(1e-4), 1);
  assert.equal(new PriceGrid(1).toTicks(120), 120);
});

test('scaledUnits reads decimal text exactly', () => {
  assert.equal(scaledUnits('75.10', 2), 7510n);
  assert.equal(scaledUnits('75.100', 2), 7510n);
  assert.equal(scaledUnits('75.101', 2), null);
  assert.equal(scaledUnits('1e-7', 2), null);
  assert.equal(scaledUnits('1.5e+2', 0), 150n);
  assert.equal(scaledUnits('0', 2), 0n);
  assert.equal(scaledUnits('abc', 2), null);
  assert.equal(scaledUnits('-2.5', 1), -25n);
});
