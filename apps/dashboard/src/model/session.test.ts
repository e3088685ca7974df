import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredSession, readClaims, refreshDelay, sessionFromPastedToken, type Session } from './session.js';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.c2ln`;

test('claims are read from a JWT, roles as array or space-separated', () => {
  assert.deepEqual(readClaims(jwt({ sub: 'trader-1', exp: 100, roles: ['admin'] })), { sub: 'trader-1', exp: 100, roles: ['admin'] });
  assert.deepEqual(readClaims(jwt({ sub: 'ü-1', roles: 'trader compliance' })), { sub: 'ü-1', exp: null, roles: ['trader', 'compliance'] });
  assert.equal(readClaims('not-a-jwt'), null);
  assert.equal(readClaims('a.!!!.c'), null);
});

test('a pasted token becomes a session for its subject', () => {
  const now = 1_000_000;
  const r = sessionFromPastedToken(`  ${jwt({ sub: 'desk-7', exp: 2000 })}\n`, now);
  assert.ok(r.ok);
  assert.equal(r.session.userId, 'desk-7');
  assert.equal(r.session.expiresAt, 2_000_000);
  assert.equal(r.session.source, 'jwt');
  assert.equal(sessionFromPastedToken(jwt({ exp: 2000 }), now).ok, false);
  assert.equal(sessionFromPastedToken(jwt({ sub: 'x', exp: 999 }), now).ok, false);
});

test('demo tokens renew a minute early, short ones at 80%; pasted ones never', () => {
  const demo: Session = { token: 't', userId: 'u', expiresAt: 3_600_000, source: 'demo' };
  assert.equal(refreshDelay(demo, 0), 3_540_000);
  assert.equal(refreshDelay({ ...demo, expiresAt: 100_000 }, 0), 80_000);
  assert.equal(refreshDelay({ ...demo, expiresAt: 100_000 }, 99_900, 0), 1_000);
  assert.equal(refreshDelay({ ...demo, source: 'jwt' }, 0), null);
  assert.equal(refreshDelay({ ...demo, expiresAt: null }, 0), null);
});

test('a stored session is read back only when well-formed and unexpired', () => {
  const s: Session = { token: 't', userId: 'u', expiresAt: 5000, source: 'demo' };
  assert.deepEqual(parseStoredSession(JSON.stringify(s), 1000), s);
  assert.equal(parseStoredSession(JSON.stringify(s), 6000), null);
  assert.equal(parseStoredSession('{', 0), null);
  assert.equal(parseStoredSession(JSON.stringify({ ...s, source: 'other' }), 0), null);
  assert.equal(parseStoredSession(null, 0), null);
});
