import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchMatching } from './bench-matching.js';

for (const through of ['book', 'exchange'] as const) {
  test(`benchMatching (${through}) runs the requested mix deterministically`, () => {
    const a = benchMatching({ operations: 20_000, seed: 1, through });
    const b = benchMatching({ operations: 20_000, seed: 1, through });
    assert.equal(a.adds + a.cancels + a.marketable, 20_000);
    assert.ok(a.filledQuantity > 0 && a.cancels > 0 && a.restingAtEnd > 0);
    assert.ok(a.opsPerSecond > 0);
    assert.deepEqual({ ...a, seconds: 0, opsPerSecond: 0 }, { ...b, seconds: 0, opsPerSecond: 0 });
  });
}
