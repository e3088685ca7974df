import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_COMMODITIES } from '@qx/protocol';
import { PriceGrid } from './price-grid.js';

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
