import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantEnergxError } from './errors.js';
import { newClientOrderId } from './orders.js';
import { bounded } from './requests.js';

const never = new Promise<never>(() => undefined);

test('bounded: settles with the work, at its time limit, when the signal fires, or when cancelled', async () => {
  assert.equal(await bounded(Promise.resolve(7), { event: 'x', timeoutMs: 1000 }), 7);
  await assert.rejects(bounded(never, { event: 'ping', timeoutMs: 20 }), (e: unknown) => e instanceof QuantEnergxError && e.code === 'REQUEST_TIMEOUT' && e.event === 'ping');
  await assert.rejects(
    bounded(never, { event: 'x', timeoutMs: 20, timeout: () => new QuantEnergxError('REQUEST_TIMEOUT', 'said why') }),
    { message: 'said why' },
  );
  await assert.rejects(bounded(never, { event: 'x', timeoutMs: null, signal: AbortSignal.abort() }), { code: 'ABORTED' });
  const controller = new AbortController();
  const aborted = bounded(never, { event: 'x', timeoutMs: null, signal: controller.signal });
  controller.abort();
  await assert.rejects(aborted, { code: 'ABORTED' });
  const cancels = new Set<(e: QuantEnergxError) => void>();
  const closing = bounded(never, { event: 'x', timeoutMs: null, cancels });
  assert.equal(cancels.size, 1);
  for (const cancel of cancels) cancel(new QuantEnergxError('CLIENT_CLOSED', 'closed'));
  await assert.rejects(closing, { code: 'CLIENT_CLOSED' });
  assert.equal(cancels.size, 0, 'a settled wait leaves the set');
  // anything else the work throws comes out as a QuantEnergxError
  await assert.rejects(bounded(Promise.reject(new TypeError('boom')), { event: 'x', timeoutMs: null }), (e: unknown) => e instanceof QuantEnergxError && e.message === 'boom');
});

test('generated clientOrderIds are valid for the gateway and do not repeat', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newClientOrderId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^qx-[0-9a-f]{24}$/);
  assert.match(newClientOrderId('flat'), /^flat-[0-9a-f]{24}$/);
});
