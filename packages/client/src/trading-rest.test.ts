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

test('place and cancel go to their routes; flatten carries its clientOrderId; a refusal keeps its status, the order and the wait', async () => {
  const placed = fake(201, { order });
  const body = { commodity: 'crude_oil', side: 'buy' as const, type: 'limit' as const, price: 75.5, quantity: 5, clientOrderId: 'c-1' };
  assert.deepEqual(await new TradingRest('http://gw', placed.fetch, 1000).placeOrder(body, 'tok'), order);
  assert.deepEqual([placed.calls[0]?.url, placed.calls[0]?.method, placed.calls[0]?.body], ['http://gw/api/v1/trading/orders', 'POST', JSON.stringify(body)]);
  const cancel = fake(200, { order });
  await new TradingRest('http://gw', cancel.fetch, 1000).cancelOrder('ord 1', 'tok');
  assert.deepEqual([cancel.calls[0]?.url, cancel.calls[0]?.method], ['http://gw/api/v1/trading/orders/ord%201', 'DELETE']);
  const flat = fake(201, { order });
  await new TradingRest('http://gw', flat.fetch, 1000).flatten('crude_oil', 'tok', { clientOrderId: 'flat-1' });
  assert.deepEqual([flat.calls[0]?.body, flat.calls[0]?.type], ['{"clientOrderId":"flat-1"}', 'application/json']);

  const refused = fake(409, { error: { code: 'ORDER_NOT_CANCELLABLE', message: 'Order ord-1 is cancelled' }, order: { ...order, status: 'cancelled' } });
  await assert.rejects(new TradingRest('http://gw', refused.fetch, 1000).cancelOrder('ord-1', 'tok'), (e: unknown) => {
    assert.ok(e instanceof QuantEnergxError);
    assert.deepEqual([e.code, e.status, e.order?.status], ['ORDER_NOT_CANCELLABLE', 409, 'cancelled']);
    return true;
  });
  const limited: FetchLike = () =>
    Promise.resolve({ ok: false, status: 429, headers: new Headers({ 'retry-after': '7' }), json: () => Promise.resolve({ error: { code: 'RATE_LIMITED', message: 'slow down' } }) });
  await assert.rejects(new TradingRest('http://gw', limited, 1000).cancelAll(undefined, 'tok'), (e: unknown) => e instanceof QuantEnergxError && e.code === 'RATE_LIMITED' && e.retryAfterMs === 7000);
});

test('no answer in time is REQUEST_TIMEOUT; the caller\'s signal is ABORTED', async () => {
  // a fetch that answers only when aborted, as a real one does
  const silent: FetchLike = (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)));
  const alive = setTimeout(() => undefined, 5000); // AbortSignal.timeout does not keep the process alive
  await assert.rejects(new TradingRest('http://gw', silent, 50).flatten('crude_oil', 'tok'), (e: unknown) => e instanceof QuantEnergxError && e.code === 'REQUEST_TIMEOUT' && /no answer within 50 ms/.test(e.message));
  const controller = new AbortController();
  const pending = new TradingRest('http://gw', silent, 5000).cancelAll(undefined, 'tok', controller.signal);
  controller.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof QuantEnergxError && e.code === 'ABORTED');
  clearTimeout(alive);
});
