import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachingVerifier } from './caching-verifier.js';
import type { TokenVerifier, VerifyResult } from './token-verifier.js';

function counting(result: (token: string) => VerifyResult): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    verify(token: string) {
      v.calls++;
      return Promise.resolve(result(token));
    },
  };
  return v;
}

test('a verified token is checked once, then served from the cache until its exp', async () => {
  let now = 1_000_000;
  const inner = counting(() => ({ ok: true, token: { userId: 'u1', roles: [], expiresAt: 1_005_000 } }));
  const cache = new CachingVerifier(inner, () => now);
  assert.equal((await cache.verify('t')).ok, true);
  assert.equal((await cache.verify('t')).ok, true);
  assert.equal(inner.calls, 1);
  now = 1_005_000;
  assert.deepEqual(await cache.verify('t'), { ok: false, code: 'TOKEN_EXPIRED', detail: 'exp' });
});

test('failures are not cached, entries expire after the ttl, and the cache is bounded', async () => {
  let now = 0;
  const inner = counting((t) => (t === 'bad' ? { ok: false, code: 'INVALID_TOKEN', detail: 'sig' } : { ok: true, token: { userId: t, roles: [], expiresAt: null } }));
  const cache = new CachingVerifier(inner, () => now, 1000, 2);
  await cache.verify('bad');
  await cache.verify('bad');
  assert.equal(inner.calls, 2, 'a bad token is checked every time');
  await cache.verify('a');
  now = 1001;
  await cache.verify('a');
  assert.equal(inner.calls, 4, 'checked again after the ttl');
  await cache.verify('b');
  await cache.verify('c');
  await cache.verify('a');
  assert.equal(inner.calls, 7, 'the oldest entry was evicted');
});
