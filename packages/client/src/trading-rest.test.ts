import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantEnergxError } from './errors.js';
import type { FetchLike } from './event-log-api.js';
import { TradingRest } from './trading-rest.js';

type Call = { url: string; method: string | undefined; body: string | undefined; auth: string | undefined; type: string | undefined };

function fake(status: number, body: unknown): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, method: init?.method, body: init?.body, auth: init?.headers?.['authorization'], type: init?.headers?.['content-type'] });
    return Promise.resolve({ ok: status < 400, status, json: () => Promise.resolve(body) });
  };
  return { fetch, calls };
}

const order = { id: 'ord-1', userId: 'u', status: 'new', filledQuantity: 0, remainingQuantity: 5, averagePrice: 0, timestamp: '2026-01-01T00:00:00.000Z' };

test('each call goes to its route with the token, and returns the order(s)', async () => {
  const amend = fake(200, { order });
  assert.deepEqual(await new TradingRest('http://gw', amend.fetch, 1000).amendOrder('ord/1', { price: '75.5', quantity: 5 }, 'tok'), order);
  assert.deepEqual(amend.calls, [{ url: 'http://gw/api/v1/trading/orders/ord%2F1', method: 'PATCH', body: '{"price":"75.5","quantity":5}', auth: 'Bearer tok', type: 'application/json' }]);

  const all = fake(200, { cancelled: [order] });
  assert.deepEqual(await new TradingRest('http://gw', all.fetch, 1000).cancelAll('crude_oil', 'tok'), [order]);
  assert.deepEqual([all.calls[0]?.url, all.calls[0]?.method, all.calls[0]?.body], ['http://gw/api/v1/trading/orders?commodity=crude_oil', 'DELETE', undefined]);
  await new TradingRest('http://gw', all.fetch, 1000).cancelAll(undefined, 'tok');
  assert.equal(all.calls[1]?.url, 'http://gw/api/v1/trading/orders');

  const flat = fake(201, { order });
  assert.deepEqual(await new TradingRest('http://gw', flat.fetch, 1000).flatten('crude_oil', 'tok'), order);
  assert.deepEqual([flat.calls[0]?.url, flat.calls[0]?.method, flat.calls[0]?.type], ['http://gw/api/v1/trading/positions/crude_oil/flatten', 'POST', undefined]);
});

test('the gateway\'s coded errors become QuantEnergxErrors with that code; anything else HTTP_ERROR', async () => {
  const coded = fake(409, { error: { code: 'INVALID_QUANTITY', message: 'quantity 5 must exceed the 5 already filled', field: 'quantity' } });
  await assert.rejects(new TradingRest('http://gw', coded.fetch, 1000).amendOrder('ord-1', { quantity: 5 }, 'tok'), (e: unknown) => {
    assert.ok(e instanceof QuantEnergxError);
    assert.deepEqual([e.code, e.field, e.message], ['INVALID_QUANTITY', 'quantity', 'quantity 5 must exceed the 5 already filled']);
    return true;
  });
  const odd = fake(502, { error: { code: 'BAD_GATEWAY_OF_A_PROXY' } });
  await assert.rejects(new TradingRest('http://gw', odd.fetch, 1000).flatten('x', 'tok'), (e: unknown) => e instanceof QuantEnergxError && e.code === 'HTTP_ERROR');
  const down: FetchLike = () => Promise.reject(new Error('ECONNREFUSED'));
  await assert.rejects(new TradingRest('http://gw', down, 1000).cancelAll(undefined, 'tok'), (e: unknown) => e instanceof QuantEnergxError && e.code === 'HTTP_ERROR' && /ECONNREFUSED/.test(e.message));
});
