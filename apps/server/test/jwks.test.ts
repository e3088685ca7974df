/**
 * Authentication against an identity provider's JWKS (RS256 and ES256), served by a local HTTP
 * server; HS256 tokens (algorithm confusion) and unsigned tokens are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { connected, once, request, startServer, type TestServer } from './helpers.js';

let jwks: Server;
let server: TestServer;
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
let stranger: { publicKey: CryptoKey; privateKey: CryptoKey };
let jwksRequests = 0;

before(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  stranger = await generateKeyPair('RS256', { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwks = createServer((req, res) => {
    jwksRequests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as AddressInfo;
  server = await startServer({
    JWT_SECRET: '',
    JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    JWT_ISSUER: 'https://idp.example',
    JWT_AUDIENCE: 'quantenergx',
    AUTH_FAILURES_PER_ADDRESS: '1000',
    AUTH_FAILURES_PER_SOCKET: '100',
  });
});
after(async () => {
  await server.close();
  jwks.closeAllConnections();
  await new Promise((resolve) => jwks.close(resolve));
});

const nowS = () => Math.floor(Date.now() / 1000);
function token(sub: string, alg: string, kid: string, signingKey: CryptoKey | Uint8Array, claims: Record<string, unknown> = {}) {
  const payload = { roles: ['trader'], sub, iss: 'https://idp.example', aud: 'quantenergx', iat: nowS(), exp: nowS() + 600, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(signingKey);
}

async function authenticate(userId: string, jwt: string) {
  const socket = server.client();
  const res = await request(socket, 'authenticate', { userId, token: jwt });
  socket.disconnect();
  return res;
}

test('RS256 and ES256 tokens from the JWKS are accepted', async () => {
  const rs = await authenticate('rs-user', await token('rs-user', 'RS256', 'rsa-1', rsa.privateKey));
  assert.equal(rs.ok, true, JSON.stringify(rs));
  assert.equal(rs.userId, 'rs-user');
  assert.deepEqual(rs.roles, ['trader']);
  const es = await authenticate('es-user', await token('es-user', 'ES256', 'ec-1', ec.privateKey));
  assert.equal(es.ok, true, JSON.stringify(es));
  assert.ok(jwksRequests >= 1);
});

test('a JWKS token in the handshake authenticates on connect', async () => {
  const socket = server.client({ auth: { token: await token('hs-user', 'ES256', 'ec-1', ec.privateKey) } });
  const success = await once(socket, 'auth-success');
  assert.equal(success.userId, 'hs-user');
});

test('exp, iss, aud and sub are checked for JWKS tokens too', async () => {
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
    .setSubject('u')
    .setIssuer('https://idp.example')
    .setAudience('quantenergx')
    .setExpirationTime(nowS() - 30)
    .sign(rsa.privateKey);
  assert.deepEqual(await authenticate('u', expired), { ok: false, error: { code: 'TOKEN_EXPIRED', message: 'Token expired' } });
  const wrongIss = await token('u', 'RS256', 'rsa-1', rsa.privateKey, { iss: 'https://evil.example' });
  assert.equal((await authenticate('u', wrongIss)).error.code, 'INVALID_TOKEN');
  const wrongAud = await token('u', 'RS256', 'rsa-1', rsa.privateKey, { aud: 'someone-else' });
  assert.equal((await authenticate('u', wrongAud)).error.code, 'INVALID_TOKEN');
  const mismatch = await token('u', 'RS256', 'rsa-1', rsa.privateKey);
  assert.deepEqual(await authenticate('v', mismatch), { ok: false, error: { code: 'USER_MISMATCH', message: 'User ID does not match token' } });
});

test('a key that is not in the JWKS is refused', async () => {
  const res = await authenticate('u', await token('u', 'RS256', 'rsa-1', stranger.privateKey));
  assert.deepEqual(res, { ok: false, error: { code: 'INVALID_TOKEN', message: 'Invalid token' } });
  const unknownKid = await authenticate('u', await token('u', 'RS256', 'nope', stranger.privateKey));
  assert.equal(unknownKid.error.code, 'INVALID_TOKEN');
});

test('algorithm confusion: an HS256 token signed with the RSA public key is refused', async () => {
  const pem = await exportSPKI(rsa.publicKey);
  for (const secret of [pem, JSON.stringify(await exportJWK(rsa.publicKey))]) {
    const forged = await token('mallory', 'HS256', 'rsa-1', new TextEncoder().encode(secret));
    assert.deepEqual(await authenticate('mallory', forged), { ok: false, error: { code: 'INVALID_TOKEN', message: 'Invalid token' } });
    const socket = server.client({ auth: { token: forged } });
    const err = await connected(socket).then(
      () => assert.fail('connected with a forged token'),
      (e: Error & { data?: { code: string } }) => e,
    );
    assert.equal(err.data?.code, 'INVALID_TOKEN');
  }
});

test('alg none is refused', async () => {
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'rsa-1' }));
  const claims = base64url.encode(
    JSON.stringify({ sub: 'mallory', iss: 'https://idp.example', aud: 'quantenergx', exp: nowS() + 600, roles: ['admin'] }),
  );
  for (const forged of [`${header}.${claims}.`, `${header}.${claims}`]) {
    assert.deepEqual(await authenticate('mallory', forged), { ok: false, error: { code: 'INVALID_TOKEN', message: 'Invalid token' } });
  }
});
