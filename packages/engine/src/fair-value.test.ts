import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_FAIR_VALUE, FairValueProcess } from './fair-value.js';
import { mulberry32 } from './prng.js';

test('fair value stays positive, within its maximum deviation, and reverts to the anchor', () => {
  fc.assert(
    fc.property(fc.integer(), fc.double({ min: 0.5, max: 2, noNaN: true }), (seed, startRatio) => {
      const random = mulberry32(seed);
      const process = new FairValueProcess(75, 75 * startRatio, { ...DEFAULT_FAIR_VALUE, jumpRate: 0.01 });
      const bound = Math.exp(DEFAULT_FAIR_VALUE.maxDeviation) + 1e-9;
      for (let i = 0; i < 500; i++) {
        process.advance(0.5, random);
        assert.ok(process.price > 0);
        assert.ok(process.price / 75 <= bound && 75 / process.price <= bound);
      }
    }),
    { numRuns: 50 },
  );
  // far from the anchor, the drift pulls back over a few reversion times
  const random = mulberry32(9);
  const p = new FairValueProcess(3, 3.4, { ...DEFAULT_FAIR_VALUE, jumpRate: 0 });
  for (let i = 0; i < 3600; i++) p.advance(1, random);
  assert.ok(Math.abs(p.price / 3 - 1) < 0.06, `still at ${p.price}`);
});

test('jumps happen at roughly their rate', () => {
  const random = mulberry32(11);
  const p = new FairValueProcess(50, 50, { ...DEFAULT_FAIR_VALUE, jumpRate: 0.1 });
  let jumps = 0;
  for (let i = 0; i < 10_000; i++) if (p.advance(1, random)) jumps++;
  assert.ok(jumps > 850 && jumps < 1050, `${jumps} jumps`);
});
