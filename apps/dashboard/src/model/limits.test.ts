import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COMMODITIES } from '@qx/protocol';
import { exposureOf, isOnTick, preTradeWarnings, priceBand, projectedPosition } from './limits.js';

const crude = DEFAULT_COMMODITIES.find((c) => c.symbol === 'crude_oil')!;
const flat = { netQuantity: 0, openBuyQuantity: 0, openSellQuantity: 0 };

test('exposure counts working orders on the side that grows the position, as the limit check does', () => {
  // nine 1,000-lot bids and no position: 90% used, not 0%
  const nine = exposureOf({ ...flat, openBuyQuantity: 9_000_000 }, 10_000_000);
  assert.deepEqual(nine, { units: 9_000_000, side: 'buy', position: 0, limit: 10_000_000, used: 0.9 });
  // a short with working sells grows short; working buys would shrink it
  assert.equal(exposureOf({ netQuantity: -2_000_000, openBuyQuantity: 1_000_000, openSellQuantity: 3_000_000 }, 10_000_000)?.used, 0.5);
  assert.equal(exposureOf({ netQuantity: -2_000_000, openBuyQuantity: 1_000_000, openSellQuantity: 3_000_000 }, 10_000_000)?.side, 'sell');
  assert.equal(exposureOf(flat, undefined), null);
});

test('the projected position is net plus working orders on the side plus the order (compliance-monitor checkOrder)', () => {
  const p = { netQuantity: 1000, openBuyQuantity: 500, openSellQuantity: 2000 };
  assert.equal(projectedPosition(p, 'buy', 100), 1600);
  assert.equal(projectedPosition(p, 'sell', 100), -1100);
  assert.equal(projectedPosition(undefined, 'sell', 7), -7);
});

test('the ticket warns before an order would be refused: size, position limit, band, tick', () => {
  const nine = { ...flat, openBuyQuantity: 10_000_000 };
  const at = (o: Partial<Parameters<typeof preTradeWarnings>[0]>) => preTradeWarnings({ commodity: crude, side: 'buy', units: 1000, price: null, position: nine, mark: 75, ...o });
  assert.deepEqual(at({}).map((w) => w.text), [
    'This buy could take your position to 10,001 lots long (counting 10,000 lots of working buys), above the position limit of 10,000 lots: it would be refused',
  ]);
  assert.deepEqual(at({ side: 'sell' }), [], 'a sell shrinks nothing here');
  assert.deepEqual(at({ position: flat, units: 5_000_000 }).map((w) => w.kind), ['size']);
  assert.match(at({ position: flat, units: 5_000_000 })[0]?.text ?? '', /^5,000 lots is above the maximum order size of 1,000 lots/);
  assert.deepEqual(at({ position: flat, price: 50 }).map((w) => w.text), ['50.00 is outside the allowed band 60.00–90.00 (±20% of the last price): it would be refused']);
  assert.deepEqual(at({ position: flat, price: 74.005 }).map((w) => w.kind), ['tick']);
  assert.deepEqual(at({ position: flat, price: 74.01, units: null }), []);
});

test('the band is whole ticks within ±20% of the mark, rounded inward as the engine does', () => {
  assert.deepEqual(priceBand(75.12, 0.01), { low: 60.1, high: 90.14 });
  assert.deepEqual(priceBand(50, 0.05), { low: 40, high: 60 });
  assert.equal(priceBand(0, 0.01), null);
  assert.ok(isOnTick(50.1, 0.05));
  assert.ok(!isOnTick(50.12, 0.05));
  assert.ok(isOnTick(2.4501, 0.0001));
});
