/**
 * Authentication with a shared secret (HS256): the seed's auth-error messages, claims, handshake
 * tokens, expiry and refresh on the same socket, user switching, failure rate limits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, base64url } from 'jose';
import {
  SECRET,
  connected,
  none,
  once,
  orderUpdate,
  request,
  startServer,
  systemAlert,
  tradeUpdate,
  type TestServer,
} from './helpers.js';

const key = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

async function authError(server: TestServer, payload: unknown): Promise<unknown> {
  const socket = server.client();
  const error = once(socket, 'auth-error');
  socket.emit('authenticate', payload);
  const data = await error;
  socket.disconnect();
  return data;
}

describe('HS256 authentication', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ AUTH_FAILURES_PER_ADDRESS: '10000', AUTH_FAILURES_PER_SOCKET: '100' });
  });
  after(() => server.close());

  test('auth-error messages say which check failed', async () => {
    const good = await server.sign('alice');
    const invalidData = { message: 'Invalid authentication data', code: 'INVALID_AUTH_DATA' };
    assert.deepEqual(await authError(server, null), invalidData);
    assert.deepEqual(await authError(server, 'alice'), invalidData);
    assert.deepEqual(await authError(server, { userId: 'alice' }), invalidData);
    assert.deepEqual(await authError(server, { token: good }), invalidData);
    assert.deepEqual(await authError(server, { userId: 42, token: good }), invalidData);
    assert.deepEqual(await authError(server, { userId: 'alice', token: '' }), invalidData);

    const invalidToken = { message: 'Invalid token', code: 'INVALID_TOKEN' };
    assert.deepEqual(await authError(server, { userId: 'alice', token: 'garbage' }), invalidToken);
    assert.deepEqual(await authError(server, { userId: 'alice', token: `${good.slice(0, -4)}AAAA` }), invalidToken);
    const otherKey = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    assert.deepEqual(await authError(server, { userId: 'alice', token: otherKey }), invalidToken);
    // not yet valid
    assert.deepEqual(await authError(server, { userId: 'alice', token: await jwt({ sub: 'alice', nbf: nowS() + 600, exp: nowS() + 3600 }) }), invalidToken);
    // no subject
    assert.deepEqual(await authError(server, { userId: 'alice', token: await jwt({ exp: nowS() + 3600 }) }), invalidToken);
    // unsigned
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify({ sub: 'alice', exp: nowS() + 3600 }))}.`;
    assert.deepEqual(await authError(server, { userId: 'alice', token: none }), invalidToken);

    assert.deepEqual(await authError(server, { userId: 'alice', token: await jwt({ sub: 'alice', exp: nowS() - 10 }) }), {
      message: 'Token expired',
      code: 'TOKEN_EXPIRED',
    });
    assert.deepEqual(await authError(server, { userId: 'bob', token: good }), { message: 'User ID does not match token', code: 'USER_MISMATCH' });
  });

  test('a failed authenticate leaves the socket unauthenticated; a good one follows', async () => {
    const socket = server.client();
    const err = await request(socket, 'authenticate', { userId: 'alice', token: 'nope' });
    assert.deepEqual(err, { ok: false, error: { code: 'INVALID_TOKEN', message: 'Invalid token' } });
    const denied = await request(socket, 'subscribe-orders', 'alice');
    assert.equal(denied.error.code, 'NOT_AUTHENTICATED');
    const ok = await request(socket, 'authenticate', { userId: 'alice', token: await server.sign('alice', { roles: ['trader'] }) });
    assert.equal(ok.ok, true);
    assert.equal(ok.userId, 'alice');
    assert.equal(ok.message, 'Authentication successful');
    assert.deepEqual(ok.roles, ['trader']);
  });

  test('a handshake token authenticates on connect', async () => {
    const token = await server.sign('hand');
    const socket = server.client({ auth: { token } });
    const success = await once(socket, 'auth-success');
    assert.equal(success.message, 'Authentication successful');
    assert.equal(success.userId, 'hand');
    const sub = await request(socket, 'subscribe-orders', 'hand');
    assert.equal(sub.ok, true);
  });

  test('a bad handshake token is refused with connect_error data.code', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ token: 'garbage' }, 'INVALID_TOKEN'],
      [{ token: await jwt({ sub: 'x', exp: nowS() - 5 }) }, 'TOKEN_EXPIRED'],
      [{ token: await server.sign('x'), userId: 'y' }, 'USER_MISMATCH'],
      [{ token: 42 }, 'INVALID_AUTH_DATA'],
    ];
    for (const [auth, code] of cases) {
      const socket = server.client({ auth });
      const err = await connected(socket).then(
        () => assert.fail('connected'),
        (e: Error & { data?: { code: string } }) => e,
      );
      assert.equal(err.data?.code, code, JSON.stringify(auth));
      assert.equal(socket.connected, false);
    }
  });

  test('switching to another user on the same socket is refused', async () => {
    const socket = await server.authed('first');
    const res = await request(socket, 'authenticate', { userId: 'second', token: await server.sign('second') });
    assert.deepEqual(res, { ok: false, error: { code: 'USER_SWITCH_REFUSED', message: 'Socket is already authenticated as another user' } });
    // still the first user, still allowed what the first user may do
    assert.equal((await request(socket, 'subscribe-orders', 'first')).ok, true);
    assert.equal((await request(socket, 'subscribe-orders', 'second')).error.code, 'FORBIDDEN');
  });

  test('at exp the socket is told and stops receiving; a fresh token restores it, with what it missed, in order', async () => {
    const user = 'expiring';
    const token = await server.sign(user, { ttlSeconds: 2 });
    const socket = server.client({ auth: { token } });
    await once(socket, 'auth-success');
    for (const e of ['subscribe-orders', 'join-trading']) assert.equal((await request(socket, e, user)).ok, true);
    const live = once(socket, 'order-update');
    await server.publish(orderUpdate(user, 'o-1'));
    assert.equal((await live).seq, 1);

    const expired = await once(socket, 'auth-error', 4000);
    assert.deepEqual(expired, { message: 'Token expired', code: 'TOKEN_EXPIRED' });

    // published while expired: logged, not delivered
    const orders: any[] = [];
    const trades: any[] = [];
    const alerts: any[] = [];
    socket.on('order-update', (e) => orders.push(e));
    socket.on('trade-update', (e) => trades.push(e));
    socket.on('system-alert', (e) => alerts.push(e));
    await server.publish(orderUpdate(user, 'o-2'));
    await server.publish(tradeUpdate(user, 't-1'));
    await server.publish(orderUpdate(user, 'o-3'));
    const sys = await server.publish(systemAlert());
    const denied = await request(socket, 'subscribe-orders', user);
    assert.equal(denied.error.code, 'TOKEN_EXPIRED');
    assert.equal((await request(socket, 'ping')).ok, true);
    await none(socket, 'order-update', 200);
    assert.deepEqual([orders.length, trades.length, alerts.length], [0, 0, 0]);

    // refresh: same socket, no reconnect
    const id = socket.id;
    const refreshed = await request(socket, 'authenticate', { userId: user, token: await server.sign(user) });
    assert.equal(refreshed.ok, true);
    assert.equal(socket.id, id);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`replay incomplete: ${orders.length} ${trades.length} ${alerts.length}`)), 3000);
      const check = setInterval(() => {
        if (orders.length >= 2 && trades.length >= 1 && alerts.length >= 1) {
          clearTimeout(t);
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    assert.deepEqual(orders.map((e) => [e.payload.id, e.seq]), [['o-2', 2], ['o-3', 3]]);
    assert.deepEqual(trades.map((e) => [e.payload.id, e.seq]), [['t-1', 1]]);
    assert.deepEqual(alerts.map((e) => e.seq), [sys.body.seq]);

    // and live delivery goes on
    const next = once(socket, 'order-update');
    await server.publish(orderUpdate(user, 'o-4'));
    const e = await next;
    assert.deepEqual([e.payload.id, e.seq], ['o-4', 4]);
    assert.equal(orders.length, 3);
  });
});

describe('issuer and audience', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'quantenergx' });
  });
  after(() => server.close());

  test('iss and aud are required to match when configured', async () => {
    const exp = nowS() + 600;
    const good = await jwt({ sub: 'ia', exp, iss: 'https://idp.example', aud: 'quantenergx' });
    const socket = server.client();
    assert.equal((await request(socket, 'authenticate', { userId: 'ia', token: good })).ok, true);
    for (const claims of [
      { sub: 'ia', exp },
      { sub: 'ia', exp, iss: 'https://evil.example', aud: 'quantenergx' },
      { sub: 'ia', exp, iss: 'https://idp.example', aud: 'other' },
      { sub: 'ia', exp, iss: 'https://idp.example' },
    ]) {
      assert.deepEqual(await authError(server, { userId: 'ia', token: await jwt(claims) }), { message: 'Invalid token', code: 'INVALID_TOKEN' });
    }
  });
});

describe('failed attempts are limited, and a valid token is never refused for them', () => {
  const DELAY = 300;
  const timed = async <T>(work: Promise<T>): Promise<[T, number]> => {
    const start = Date.now();
    const value = await work;
    return [value, Date.now() - start];
  };

  test('per socket: past AUTH_FAILURES_PER_SOCKET failures are answered late as rate-limited; going on disconnects', async () => {
    const server = await startServer({ AUTH_FAILURES_PER_SOCKET: '3', AUTH_FAILURES_PER_ADDRESS: '1000', AUTH_FAILURE_DELAY_MS: String(DELAY) });
    try {
      const socket = server.client();
      const reason = once(socket, 'disconnect-reason', 8000);
      const disconnected = once(socket, 'disconnect', 8000);
      for (let i = 0; i < 3; i++) {
        assert.equal((await request(socket, 'authenticate', { userId: 'u', token: 'bad' })).error.code, 'INVALID_TOKEN');
      }
      const [limited, took] = await timed(request(socket, 'authenticate', { userId: 'u', token: 'bad' }));
      assert.deepEqual(limited, { ok: false, error: { code: 'AUTH_RATE_LIMITED', message: 'Too many failed authentication attempts' } });
      assert.ok(took >= DELAY - 20, `answered after ${took} ms`);
      const errors: any[] = [];
      socket.on('auth-error', (e) => errors.push(e));
      for (let i = 0; i < 2; i++) socket.emit('authenticate', { userId: 'u', token: 'bad' });
      assert.deepEqual(await reason, { code: 'AUTH_FAILURES', numeric: 4502, message: 'Too many failed authentication attempts' });
      assert.equal(await disconnected, 'io server disconnect');
      assert.ok(errors.every((e) => e.code === 'AUTH_RATE_LIMITED'));
      // a socket past its limit still signs in with a valid token
      const other = server.client();
      for (let i = 0; i < 4; i++) await request(other, 'authenticate', { userId: 'u', token: 'bad' });
      assert.equal((await request(other, 'authenticate', { userId: 'u', token: await server.sign('u') })).ok, true);
    } finally {
      await server.close();
    }
  });

  test('per address: 30 bad tokens slow that address down but do not lock out a valid login from it (event and handshake)', async () => {
    const server = await startServer({ AUTH_FAILURES_PER_SOCKET: '100', AUTH_FAILURES_PER_ADDRESS: '30', AUTH_FAILURE_DELAY_MS: String(DELAY) });
    try {
      const attacker = server.client();
      for (let i = 0; i < 30; i++) {
        assert.equal((await request(attacker, 'authenticate', { userId: 'u', token: `bad-${i}` })).error.code, 'INVALID_TOKEN');
      }
      const [limited, took] = await timed(request(attacker, 'authenticate', { userId: 'u', token: 'bad-31' }));
      assert.equal(limited.error.code, 'AUTH_RATE_LIMITED');
      assert.ok(took >= DELAY - 20, `answered after ${took} ms`);
      // a user behind the same address signs in at once
      const victim = server.client();
      const [res, fast] = await timed(request(victim, 'authenticate', { userId: 'v', token: await server.sign('v') }));
      assert.equal(res.ok, true);
      assert.ok(fast < DELAY, `a valid login waited ${fast} ms`);
      const hand = server.client({ auth: { token: await server.sign('v') } });
      const welcome = once(hand, 'auth-success');
      await connected(hand);
      assert.equal((await welcome).userId, 'v');
      // while a bad handshake token from there is slowed and refused as rate-limited
      const bad = server.client({ auth: { token: 'bad-handshake' } });
      const [err, late] = await timed(connected(bad).then(
        () => assert.fail('connected'),
        (e: Error & { data?: { code: string } }) => e,
      ));
      assert.equal(err.data?.code, 'AUTH_RATE_LIMITED');
      assert.ok(late >= DELAY - 20, `refused after ${late} ms`);
    } finally {
      await server.close();
    }
  });

  test('behind TRUST_PROXY=true the nearest untrusted address counts: rotating or forging X-Forwarded-For changes nothing', async () => {
    const server = await startServer({ TRUST_PROXY: 'true', AUTH_FAILURES_PER_SOCKET: '100', AUTH_FAILURES_PER_ADDRESS: '3', AUTH_FAILURE_DELAY_MS: '50' });
    try {
      // the proxy (here the TCP peer, 127.0.0.1) appends the address it saw; the rest is the client's own writing
      const via = (written: string, seen: string) => ({ extraHeaders: { 'x-forwarded-for': `${written}, ${seen}` } });
      const badFrom = async (written: string, seen: string) => {
        const socket = server.client(via(written, seen));
        const res = await request(socket, 'authenticate', { userId: 'u', token: 'bad' });
        socket.disconnect();
        return res.error.code as string;
      };
      const attacker = '198.51.100.1';
      const victim = '198.51.100.2';
      const codes: string[] = [];
      // rotating the client-written part: still one address, so still limited
      for (let i = 0; i < 5; i++) codes.push(await badFrom(`10.9.${i}.1`, attacker));
      assert.deepEqual(codes, ['INVALID_TOKEN', 'INVALID_TOKEN', 'INVALID_TOKEN', 'AUTH_RATE_LIMITED', 'AUTH_RATE_LIMITED']);
      // forging the victim's address as the leftmost entry does not count against the victim
      for (let i = 0; i < 5; i++) await badFrom(victim, attacker);
      assert.equal(await badFrom('203.0.113.50', victim), 'INVALID_TOKEN');
    } finally {
      await server.close();
    }
  });
});
