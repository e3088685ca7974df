import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MarketTrade } from '@qx/protocol/wire';
import { addToTape, applyTradeToCandles, bucketStart, type CandleBar } from './tape.js';

const trade = (seq: number, price: number, quantity: number, time: string): MarketTrade => ({ commodity: 'crude_oil', tradeId: `t${seq}`, price, quantity, side: 'buy', time, seq });

test('tape: newest first, each trade once, capped', () => {
  let tape: MarketTrade[] = [];
  tape = addToTape(tape, trade(1, 75, 1000, '2026-01-01T00:00:01Z'));
  tape = addToTape(tape, trade(2, 75.1, 2000, '2026-01-01T00:00:02Z'));
  const same = addToTape(tape, trade(2, 75.1, 2000, '2026-01-01T00:00:02Z'));
  assert.equal(same, tape, 'a repeated trade changes nothing');
  assert.deepEqual(tape.map((t) => t.tradeId), ['t2', 't1']);
  // a late one falls into its place by time
  tape = addToTape(tape, trade(0, 74.9, 1000, '2026-01-01T00:00:00Z'));
  assert.deepEqual(tape.map((t) => t.tradeId), ['t2', 't1', 't0']);
  tape = addToTape(tape, trade(3, 75, 1000, '2026-01-01T00:00:03Z'), 2);
  assert.deepEqual(tape.map((t) => t.tradeId), ['t3', 't2']);
});

test('candles: a trade moves its minute, the next minute opens a new candle', () => {
  const m = 60_000;
  const t0 = Date.parse('2026-01-01T10:00:00Z');
  let candles: CandleBar[] = [{ time: t0, open: 75, high: 75.2, low: 74.9, close: 75.1, volume: 5000 }];
  let r = applyTradeToCandles(candles, trade(1, 75.5, 1000, '2026-01-01T10:00:30Z'), m);
  candles = r.candles;
  assert.deepEqual(candles, [{ time: t0, open: 75, high: 75.5, low: 74.9, close: 75.5, volume: 6000 }]);
  r = applyTradeToCandles(candles, trade(2, 74.5, 2000, '2026-01-01T10:01:05Z'), m);
  assert.equal(r.candles.length, 2);
  assert.deepEqual(r.bar, { time: t0 + m, open: 74.5, high: 74.5, low: 74.5, close: 74.5, volume: 2000 });
  // a late trade of the first minute: its high/low/volume, not the close of the newer candle
  r = applyTradeToCandles(r.candles, trade(3, 74.0, 1000, '2026-01-01T10:00:59Z'), m);
  assert.deepEqual(r.candles[0], { time: t0, open: 75, high: 75.5, low: 74, close: 75.5, volume: 7000 });
  assert.equal(r.candles[1]?.close, 74.5);
  // older than anything held: left to the candles endpoint
  const before = r.candles;
  assert.equal(applyTradeToCandles(before, trade(4, 70, 1000, '2026-01-01T09:00:00Z'), m).candles, before);
  assert.equal(bucketStart(Date.parse('2026-01-01T10:59:59Z'), 3_600_000), Date.parse('2026-01-01T10:00:00Z'));
});
