import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_MARKET, applyMarketUpdate } from './market.js';
import { exposureOf, markToMarket, totalPnl } from './positions.js';
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

test('a long position gains when the price rises, a short one loses', () => {
  const [long, short] = markToMarket(
    [position({ netQuantity: 1000, averagePrice: 75.1 }), position({ netQuantity: -500, averagePrice: 75.1 })],
    market,
  );
  assert.equal(long?.unrealizedPnl, 200);
  assert.equal(short?.unrealizedPnl, -100);
  assert.equal(long?.lastPrice, 75.3);
});

test('without a last price the P&L is unknown, not zero', () => {
  const [row] = markToMarket([position({ commodity: 'power', netQuantity: 10, averagePrice: 50 })], market);
  assert.equal(row?.unrealizedPnl, null);
});

test('flat positions with no history and no open orders are left out', () => {
  assert.equal(markToMarket([position({})], market).length, 0);
  assert.equal(markToMarket([position({ openBuyQuantity: 5 })], market).length, 1);
});

test('exposure against the position limit, and total P&L per currency', () => {
  assert.deepEqual(exposureOf(position({ netQuantity: -2_500_000 }), 10_000_000), { units: 2_500_000, limit: 10_000_000, used: 0.25 });
  assert.equal(exposureOf(position({ netQuantity: 5 }), undefined), null);
  const rows = markToMarket(
    [
      position({ netQuantity: 1000, averagePrice: 75.1, realizedPnl: 50 }),
      position({ commodity: 'brent', netQuantity: -1000, averagePrice: 80, realizedPnl: 0 }),
      position({ commodity: 'carbon', netQuantity: 0, realizedPnl: -12.5 }),
    ],
    market,
  );
  const currency = (c: string) => (c === 'carbon' ? 'EUR' : 'USD');
  // brent has no last price: its unrealized P&L is unknown, so the USD total is marked incomplete
  assert.deepEqual(totalPnl(rows, currency), [
    { currency: 'EUR', pnl: -12.5, complete: true },
    { currency: 'USD', pnl: 250, complete: false },
  ]);
});
