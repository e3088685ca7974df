import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { SecretTokenVerifier } from './token-verifier.js';

const secret = 'unit-test-secret-unit-test-secret-0123';
const key = new TextEncoder().encode(secret);
const verifier = new SecretTokenVerifier(secret);

test('HS256, HS384 and HS512 tokens verify with the shared secret', async () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const token = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg }).setSubject('u1').setExpirationTime('1h').sign(key);
    const r = await verifier.verify(token);
    assert.equal(r.ok, true, alg);
    if (r.ok) assert.deepEqual([r.token.userId, r.token.roles], ['u1', ['admin']]);
  }
});

test('a token signed with another secret, or tampered with, is refused for each HMAC algorithm (the imported keys are the secret)', async () => {
  const other = new TextEncoder().encode('another-secret-another-secret-0123456');
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    // verified once first: the key for this algorithm is imported and kept
    assert.equal((await verifier.verify(await new SignJWT({}).setProtectedHeader({ alg }).setSubject('u1').setExpirationTime('1h').sign(key))).ok, true);
    const forged = await new SignJWT({}).setProtectedHeader({ alg }).setSubject('u1').setExpirationTime('1h').sign(other);
    assert.deepEqual(await verifier.verify(forged), { ok: false, code: 'INVALID_TOKEN', detail: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, alg);
    const good = await new SignJWT({}).setProtectedHeader({ alg }).setSubject('u1').setExpirationTime('1h').sign(key);
    const [h, , sig] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: 9_999_999_999 })).toString('base64url')}.${sig}`;
    assert.equal((await verifier.verify(tampered)).ok, false, `${alg}: another payload under the same signature`);
  }
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u1","exp":9999999999}').toString('base64url')}.`;
  assert.equal((await verifier.verify(none)).ok, false, 'alg none');
});

test('a token without sub may name its user in a userId claim; with neither it is invalid', async () => {
  const withClaim = await new SignJWT({ userId: 'u2' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
  const r = await verifier.verify(withClaim);
  assert.equal(r.ok && r.token.userId, 'u2');
  const anonymous = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
  assert.deepEqual(await verifier.verify(anonymous), { ok: false, code: 'INVALID_TOKEN', detail: 'missing sub' });
});

test('an RS256 token is refused by the secret verifier (no algorithm confusion)', async () => {
  const { privateKey } = await generateKeyPair('RS256');
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('u1').setExpirationTime('1h').sign(privateKey);
  const r = await verifier.verify(token);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.code, 'INVALID_TOKEN');
});

test('an expired token says so', async () => {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(key);
  assert.deepEqual(await verifier.verify(token), { ok: false, code: 'TOKEN_EXPIRED', detail: 'exp' });
});

test('a token without exp is refused unless allowNoExp (JWT_ALLOW_NO_EXP) is set', async () => {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').sign(key);
  assert.deepEqual(await verifier.verify(token), { ok: false, code: 'INVALID_TOKEN', detail: 'missing exp' });
  const lenient = await new SecretTokenVerifier(secret, { allowNoExp: true }).verify(token);
  assert.deepEqual(lenient, { ok: true, token: { userId: 'u1', roles: [], expiresAt: null } });
});
