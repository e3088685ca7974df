import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_MARKET, applyMarketUpdate } from './market.js';
import { markToMarket, totalPnl, unrealizedPnl } from './positions.js';
import type { Position } from './types.js';

const position = (over: Partial<Position>): Position => ({
  commodity: 'crude_oil',
  netQuantity: 0,
  averagePrice: 0,
  realizedPnl: 0,
  openBuyQuantity: 0,
  openSellQuantity: 0,
  ...over,
});
const market = applyMarketUpdate(EMPTY_MARKET, { commodity: 'crude_oil', price: 75.3, change: 0, changePercent: 0, volume: 0 });
const tick = (c: string) => (c === 'power' ? 0.05 : 0.01);

test('a long position gains when the price rises, a short one loses', () => {
  const [long, short] = markToMarket(
    [position({ netQuantity: 1000, averagePrice: 75.1, openCost: 75_100 }), position({ netQuantity: -500, averagePrice: 75.1, openCost: 37_550 })],
    market,
    tick,
  );
  assert.equal(long?.unrealizedPnl, 200);
  assert.equal(short?.unrealizedPnl, -100);
  assert.equal(long?.lastPrice, 75.3);
});

test('exact to the cent from the open cost, where the rounded average is a cent off (a 27-lot power short)', () => {
  // sold 1 lot (800 MWh) at 50.00 and 26 lots at 50.10: the average 50.0962962… is sent rounded, 50.096296
  const p = { netQuantity: -21_600, averagePrice: 50.096296, openCost: 800 * 50 + 20_800 * 50.1 };
  assert.equal(unrealizedPnl(p, 50.1, 0.05), -80);
  // from the rounded average alone the figure is a cent off: why openCost is used
  assert.equal(unrealizedPnl({ netQuantity: p.netQuantity, averagePrice: p.averagePrice }, 50.1, 0.05), -80.01);
  // four-decimal grids are rounded once, to the cent: 3 × 2.4502 − 7.35 = 0.0006 → 0.00
  assert.equal(unrealizedPnl({ netQuantity: 3, averagePrice: 2.45, openCost: 7.35 }, 2.4502, 0.0001), 0);
  assert.equal(unrealizedPnl({ netQuantity: 42_000, averagePrice: 2.45, openCost: 102_900 }, 2.4501, 0.0001), 4.2);
});

test('without a last price the P&L is unknown, not zero', () => {
  const [row] = markToMarket([position({ commodity: 'power', netQuantity: 10, averagePrice: 50 })], market, tick);
  assert.equal(row?.unrealizedPnl, null);
});

test('flat positions with no history and no open orders are left out', () => {
  assert.equal(markToMarket([position({})], market, tick).length, 0);
  assert.equal(markToMarket([position({ openBuyQuantity: 5 })], market, tick).length, 1);
});

test('total P&L per currency, summed in cents', () => {
  const rows = markToMarket(
    [
      position({ netQuantity: 1000, averagePrice: 75.1, openCost: 75_100, realizedPnl: 50.1 }),
      position({ commodity: 'brent', netQuantity: -1000, averagePrice: 80, realizedPnl: 0.2 }),
      position({ commodity: 'carbon', netQuantity: 0, realizedPnl: -12.5 }),
    ],
    market,
    tick,
  );
  const currency = (c: string) => (c === 'carbon' ? 'EUR' : 'USD');
  // brent has no last price: its unrealized P&L is unknown, so the USD total is marked incomplete
  assert.deepEqual(totalPnl(rows, currency), [
    { currency: 'EUR', pnl: -12.5, complete: true },
    { currency: 'USD', pnl: 250.3, complete: false },
  ]);
});
