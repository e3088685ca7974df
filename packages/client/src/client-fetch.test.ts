import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantEnergxClient } from './client.js';

test('the global fetch is called as a plain function (a browser throws "Illegal invocation" when it is called as a method)', async () => {
  const original = globalThis.fetch;
  const calls: string[] = [];
  // like a browser's fetch: refuses any `this` but the global object (or none)
  const browserLike = function (this: unknown, input: string) {
    if (this !== undefined && this !== globalThis) throw new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation");
    calls.push(input);
    return Promise.resolve(new Response(JSON.stringify({ order: { id: 'ord-1', userId: 'u1', status: 'new', filledQuantity: 0, remainingQuantity: 3000, averagePrice: null } }), { status: 200 }));
  };
  globalThis.fetch = browserLike as unknown as typeof fetch;
  const client = new QuantEnergxClient({ url: 'http://127.0.0.1:9', userId: 'u1', token: 'not-a-jwt' });
  try {
    const order = await client.amendOrder('ord-1', { quantity: 3000 });
    assert.equal(order.id, 'ord-1');
    assert.deepEqual(calls, ['http://127.0.0.1:9/api/v1/trading/orders/ord-1']);
  } finally {
    client.close();
    globalThis.fetch = original;
  }
});
