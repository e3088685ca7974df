import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exchange } from './exchange.js';
import { MarketSimulator, type MarketSimulatorOptions } from './market-simulator.js';
import { PriceGrid } from './price-grid.js';
import { mulberry32 } from './prng.js';
import { payloadProblems } from './testing.js';

const T0 = Date.UTC(2024, 6, 29, 14, 0, 0);

function setup(seed: number, options: Partial<MarketSimulatorOptions> = {}) {
  let now = T0;
  const exchange = new Exchange({ clock: () => now });
  const simulator = new MarketSimulator({ exchange, random: mulberry32(seed), ...options });
  const step = (ms: number) => {
    now = ms;
    return simulator.step(ms);
  };
  return { exchange, simulator, step };
}

function run(seed: number, steps: number) {
  const { exchange, step } = setup(seed);
  const trace: unknown[] = [];
  exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74.9, quantity: 5000 });
  for (let i = 0; i < steps; i++) {
    const s = step(T0 + i * 100);
    trace.push(s.changed, s.events, s.journal, s.changed.map((c) => exchange.marketData(c, T0)));
  }
  return JSON.stringify(trace);
}

test('the same seed gives the same market; another seed a different one', () => {
  const a = run(42, 300);
  assert.equal(run(42, 300), a);
  assert.notEqual(run(43, 300), a);
});

test('prices stay positive, on the tick grid and inside the band; every commodity trades within a few seconds', () => {
  const { exchange, step } = setup(1);
  const grids = new Map(exchange.commodities().map((c) => [c.symbol, PriceGrid.of(c)]));
  let changedSteps = 0;
  for (let i = 0; i < 600; i++) {
    const s = step(T0 + i * 100);
    if (s.changed.length > 0) changedSteps++;
    assert.deepEqual(s.events, []); // nobody real is trading
    for (const c of exchange.commodities()) {
      const grid = grids.get(c.symbol)!;
      const md = exchange.marketData(c.symbol)!;
      for (const price of [md.price, md.bid, md.ask]) {
        assert.ok(price !== null && price !== undefined && price > 0, `${c.symbol} price ${price}`);
        assert.notEqual(grid.toTicks(price), null, `${c.symbol} ${price} off grid`);
        assert.ok(Math.abs(price / c.referencePrice - 1) < 0.2, `${c.symbol} ${price} outside the band`);
      }
      assert.ok(md.bid! < md.ask!, `${c.symbol} crossed`);
    }
  }
  for (const c of exchange.commodities()) {
    const md = exchange.marketData(c.symbol)!;
    assert.ok(md.volume > 0, `${c.symbol} never traded`);
    const book = exchange.book(c.symbol, 10)!;
    assert.equal(book.bids.length, 5);
    assert.equal(book.asks.length, 5);
  }
  assert.ok(changedSteps > 500, `market data changed in only ${changedSteps} of 600 steps`);
});

test("noise traders fill a real user's resting order: only that user's events and journal come out", () => {
  const { exchange, step } = setup(5, { commodities: ['crude_oil'] });
  step(T0);
  const md = exchange.marketData('crude_oil')!;
  // improve the bid by a tick: the next market sell hits alice first
  const bid = Math.round((md.bid! + 0.01) * 100) / 100;
  const order = exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: bid, quantity: 1000 });
  assert.equal(order.ok, true);
  const seen = [];
  for (let i = 1; i < 100 && seen.length === 0; i++) {
    const s = step(T0 + i * 100);
    assert.deepEqual(payloadProblems(s.events), []);
    for (const e of s.events) {
      assert.equal(e.userId, 'alice');
      if (e.event === 'trade-update') seen.push(e.payload);
    }
    if (s.events.length > 0) assert.ok(s.journal.some((r) => r.kind === 'trade' && r.trade.userId === 'alice'));
  }
  assert.ok(seen.length > 0, 'alice was never filled');
  assert.equal(seen[0]?.price, bid);
  assert.equal(seen[0]?.liquidity, 'maker');
});

test('default settings raise volatility alerts occasionally, not constantly', () => {
  const { step } = setup(3);
  let alerts = 0;
  const hours = 2;
  for (let i = 0; i < hours * 3600; i++) {
    for (const e of step(T0 + i * 1000).events) if (e.event === 'system-alert') alerts++;
  }
  // 7 commodities, jumps every ~30 minutes each: a handful of alerts per hour
  assert.ok(alerts >= 2, `only ${alerts} alerts`);
  assert.ok(alerts <= 30 * hours, `${alerts} alerts is flapping`);
});
