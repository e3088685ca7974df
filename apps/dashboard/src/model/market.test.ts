import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_MARKET, applyMarketUpdate, applyMarketUpdates } from './market.js';
import type { MarketUpdatePayload } from './types.js';

const tick = (price: number, commodity = 'crude_oil'): MarketUpdatePayload => ({
  commodity,
  price,
  change: price - 75,
  changePercent: ((price - 75) / 75) * 100,
  volume: 1000,
  bid: price - 0.01,
  ask: price + 0.01,
  timestamp: '2026-01-01T00:00:00.000Z',
});

test('the first quote has no direction', () => {
  const s = applyMarketUpdate(EMPTY_MARKET, tick(75.1));
  assert.equal(s['crude_oil']?.direction, 'flat');
  assert.equal(s['crude_oil']?.moves, 0);
  assert.equal(s['crude_oil']?.bid, tick(75.1).bid);
});

test('a higher price is up, a lower one down, and each move counts', () => {
  const s = applyMarketUpdates(EMPTY_MARKET, [tick(75), tick(75.2), tick(75.1)]);
  assert.equal(s['crude_oil']?.direction, 'down');
  assert.equal(s['crude_oil']?.moves, 2);
});

test('an unchanged price keeps the last direction and does not flash again', () => {
  const s = applyMarketUpdates(EMPTY_MARKET, [tick(75), tick(75.2), { ...tick(75.2), volume: 5 }]);
  assert.equal(s['crude_oil']?.direction, 'up');
  assert.equal(s['crude_oil']?.moves, 1);
  assert.equal(s['crude_oil']?.volume, 5);
});

test('missing bid/ask become null; other commodities are untouched', () => {
  const first = applyMarketUpdate(EMPTY_MARKET, tick(3, 'natural_gas'));
  const { bid: _b, ask: _a, ...bare } = tick(75);
  const s = applyMarketUpdate(first, bare);
  assert.equal(s['crude_oil']?.bid, null);
  assert.equal(s['crude_oil']?.ask, null);
  assert.equal(s['natural_gas'], first['natural_gas']);
});
