import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_TRADES, upsertTrades } from './trades.js';
import type { Trade } from './types.js';

const trade = (id: string, at: string): Trade => ({
  id,
  orderId: 'o1',
  userId: 'u1',
  commodity: 'brent',
  quantity: 10,
  price: 79.1,
  side: 'sell',
  status: 'executed',
  executionTime: at,
});

test('trades are kept once per id, newest first', () => {
  let s = upsertTrades(EMPTY_TRADES, [trade('t1', '2026-01-01T00:00:01.000Z'), trade('t2', '2026-01-01T00:00:02.000Z')]);
  s = upsertTrades(s, [trade('t1', '2026-01-01T00:00:01.000Z')]);
  assert.deepEqual(s.map((t) => t.id), ['t2', 't1']);
});

test('an empty batch changes nothing', () => {
  const s = upsertTrades(EMPTY_TRADES, [trade('t1', '2026-01-01T00:00:01.000Z')]);
  assert.equal(upsertTrades(s, []), s);
});
