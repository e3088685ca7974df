import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, isExpiring, refreshDelay, tokenExpiry } from './token.js';

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

test('tokenExpiry reads exp in ms, null when absent or unreadable', () => {
  assert.equal(tokenExpiry(jwt({ sub: 'u', exp: 1_700_000_000 })), 1_700_000_000_000);
  assert.equal(tokenExpiry(jwt({ sub: 'u' })), null);
  assert.equal(tokenExpiry('not-a-jwt'), null);
  assert.equal(tokenExpiry('a.!!!.c'), null);
});

test('isExpiring', () => {
  const t = jwt({ exp: 100 });
  assert.equal(isExpiring(t, 99_000, 500), false);
  assert.equal(isExpiring(t, 99_600, 500), true);
  assert.equal(isExpiring('opaque', 0, 1000), false);
});

test('refreshDelay: lead time, at most a fifth of the remaining life', () => {
  assert.equal(refreshDelay(3_600_000, 0, 30_000), 3_570_000);
  assert.equal(refreshDelay(2_000, 0, 30_000), 1_600);
  assert.equal(refreshDelay(1_000, 2_000, 30_000), 0);
});

test('backoffDelay grows exponentially, is capped, and jitters around its value', () => {
  assert.equal(backoffDelay(0, 500, 10_000, 0), 500);
  assert.equal(backoffDelay(3, 500, 10_000, 0), 4_000);
  assert.equal(backoffDelay(10, 500, 10_000, 0), 10_000);
  assert.equal(backoffDelay(1, 500, 10_000, 0.5, () => 0), 500);
  assert.equal(backoffDelay(1, 500, 10_000, 0.5, () => 1), 1_500);
});
