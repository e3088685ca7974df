import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Position } from './position.js';

test('average cost: adding, reducing, flipping', () => {
  const p = new Position('u', 'crude_oil');
  p.applyFill('buy', 100, 7500);
  p.applyFill('buy', 100, 7600);
  assert.equal(p.averageEntryTicks(), 7550);
  p.applyFill('sell', 50, 7700);
  assert.equal(p.netQuantity, 150);
  assert.equal(p.realizedPnl, 50 * 150);
  assert.equal(p.averageEntryTicks(), 7550);
  p.applyFill('sell', 250, 7400);
  assert.equal(p.netQuantity, -100);
  assert.equal(p.realizedPnl, 50 * 150 - 150 * 150);
  assert.equal(p.averageEntryTicks(), 7400);
  p.applyFill('buy', 100, 7300);
  assert.equal(p.netQuantity, 0);
  assert.equal(p.openCost, 0);
  assert.equal(p.realizedPnl, 50 * 150 - 150 * 150 + 100 * 100);
});

test('realized + unrealized P&L equals the cash flow of the fills', () => {
  const fill = fc.record({ buy: fc.boolean(), quantity: fc.integer({ min: 1, max: 1000 }), price: fc.integer({ min: 1, max: 20_000 }) });
  fc.assert(
    fc.property(fc.array(fill, { maxLength: 40 }), fc.integer({ min: 1, max: 20_000 }), (fills, mark) => {
      const p = new Position('u', 'x');
      let cash = 0;
      let net = 0;
      for (const f of fills) {
        p.applyFill(f.buy ? 'buy' : 'sell', f.quantity, f.price);
        cash += f.buy ? -f.quantity * f.price : f.quantity * f.price;
        net += f.buy ? f.quantity : -f.quantity;
      }
      assert.equal(p.netQuantity, net);
      const unrealized = net * mark - (net >= 0 ? p.openCost : -p.openCost);
      // average-cost rounding may leave at most half a tick-unit per reducing fill
      assert.ok(Math.abs(p.realizedPnl + unrealized - (cash + net * mark)) <= fills.length);
    }),
  );
});
