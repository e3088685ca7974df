/**
 * Connection limits that hold: recovered sockets count towards MAX_CONNECTIONS_PER_USER (and are
 * refused past it), unauthenticated sockets are disconnected after AUTH_TIMEOUT_MS (on by default)
 * and capped per address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config.js';
import { connected, none, once, orderUpdate, request, startServer, until } from './helpers.js';

const reconnecting = { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300, randomizationFactor: 0 };

test('a recovered socket counts towards MAX_CONNECTIONS_PER_USER and is refused past it', async () => {
  const server = await startServer({ MAX_CONNECTIONS_PER_USER: '2' });
  try {
    const user = 'c-recover';
    const a = server.client({ auth: { token: await server.sign(user) }, ...reconnecting });
    await once(a, 'auth-success');
    assert.equal((await request(a, 'subscribe-orders', user)).ok, true);
    await server.authed(user);
    const aId = a.id!;
    const back = once(a, 'connect', 5000);
    const refused = once(a, 'auth-error', 5000);
    // a's transport drops; while it is away a fresh connection takes the free slot
    a.io.engine.close();
    await until(() => !server.app.io.of('/').sockets.has(aId), 3000, 'server to see the drop');
    await server.authed(user);
    await back;
    assert.equal(a.recovered, true);
    assert.deepEqual(await refused, { message: 'At most 2 connections per user', code: 'TOO_MANY_CONNECTIONS' });
    // it is not authenticated any more, follows nothing, and is not counted
    assert.equal(await server.metric('qx_authenticated_sockets'), 2);
    assert.equal((await request(a, 'subscribe-orders', user)).error.code, 'NOT_AUTHENTICATED');
    await server.publish(orderUpdate(user, 'not-for-a'));
    await none(a, 'order-update', 300);
    const again = await request(a, 'authenticate', { userId: user, token: await server.sign(user) });
    assert.equal(again.error.code, 'TOO_MANY_CONNECTIONS');
  } finally {
    await server.close();
  }
});

test('AUTH_TIMEOUT_MS is on by default (10 s); a socket that does not authenticate in time is told and disconnected', async () => {
  const parsed = parseConfig({});
  assert.ok(parsed.ok);
  assert.equal(parsed.config.limits.authTimeoutMs, 10_000);
  const server = await startServer({ AUTH_TIMEOUT_MS: '400' });
  try {
    const idle = server.client();
    const reason = once(idle, 'disconnect-reason', 3000);
    const gone = once(idle, 'disconnect', 3000);
    await connected(idle);
    assert.deepEqual(await reason, { code: 'AUTH_TIMEOUT', numeric: 4504, message: 'Not authenticated in time' });
    assert.equal(await gone, 'io server disconnect');
    // one that authenticates in time stays
    const prompt = await server.authed('c-prompt');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(prompt.connected, true);
  } finally {
    await server.close();
  }
});

test('unauthenticated sockets are capped per address; authenticating frees the slot', async () => {
  const server = await startServer({ MAX_UNAUTHENTICATED_PER_ADDRESS: '3' });
  try {
    const waiting = [server.client(), server.client(), server.client()];
    for (const s of waiting) await connected(s);
    const extra = server.client();
    const err = await connected(extra).then(
      () => assert.fail('connected'),
      (e: Error & { data?: { code: string } }) => e,
    );
    assert.equal(err.data?.code, 'TOO_MANY_UNAUTHENTICATED');
    assert.equal(err.message, 'Too many unauthenticated connections from this address');
    // a handshake token authenticates at once: not held against the cap
    const withToken = server.client({ auth: { token: await server.sign('c-hand') } });
    await once(withToken, 'auth-success');
    // one of the waiting ones authenticates: its slot is free again
    assert.equal((await request(waiting[0]!, 'authenticate', { userId: 'c-cap', token: await server.sign('c-cap') })).ok, true);
    const next = server.client();
    await connected(next);
    // and a disconnect frees one too
    waiting[1]!.disconnect();
    await until(() => server.app.io.of('/').sockets.size === 4, 2000, 'server to see the disconnect');
    await connected(server.client());
  } finally {
    await server.close();
  }
});

test("POST /api/v1/users/{userId}/disconnect closes every socket of the user (the back-end's key; bad input changes nothing)", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const key = { authorization: `Bearer ${server.app.publishApiKey}` };
  const a = await server.authed('kicked');
  const b = await server.authed('kicked');
  const bystander = await server.authed('stays');
  const reasons = [once(a, 'disconnect-reason'), once(b, 'disconnect-reason')];
  const gone = [once(a, 'disconnect'), once(b, 'disconnect')];
  assert.equal((await server.http('/api/v1/users/kicked/disconnect', { method: 'POST' })).status, 401);
  assert.equal((await server.http('/api/v1/users/kicked/disconnect', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status, 401);
  const bad = await server.http(`/api/v1/users/${encodeURIComponent('not a user!')}/disconnect`, { method: 'POST', headers: key });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'INVALID_PAYLOAD');
  assert.ok(a.connected && b.connected, 'nothing closed by refused requests');
  const res = await server.http('/api/v1/users/kicked/disconnect', { method: 'POST', headers: key });
  assert.equal(res.status, 202);
  assert.deepEqual(res.body, { userId: 'kicked', disconnected: true });
  for (const r of await Promise.all(reasons)) assert.deepEqual(r, { code: 'USER_DISCONNECTED', numeric: 4505, message: 'Disconnected by an operator' });
  assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
  assert.ok(bystander.connected);
  assert.equal((await request(bystander, 'ping')).ok, true);
});
