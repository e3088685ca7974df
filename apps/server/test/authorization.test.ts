/**
 * Authorization: nothing but authenticate and ping before authentication; private rooms for their
 * owner, any compliance room for the `compliance` role, anything for `admin` — and a user never
 * receives another user's private event.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { complianceAlert, connected, once, orderUpdate, request, startServer, tradeUpdate, until, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

test('before authentication only authenticate and ping work', async () => {
  const socket = server.client();
  await connected(socket);
  const guarded: [string, unknown][] = [
    ['join-trading', 'u1'],
    ['leave-trading', 'u1'],
    ['subscribe-market', ['crude_oil']],
    ['unsubscribe-market', ['crude_oil']],
    ['subscribe-orders', 'u1'],
    ['unsubscribe-orders', 'u1'],
    ['subscribe-compliance', 'u1'],
    ['unsubscribe-compliance', 'u1'],
    ['resume', { 'orders-u1': 0 }],
  ];
  const errors: any[] = [];
  socket.on('request-error', (e) => errors.push(e));
  for (const [event, payload] of guarded) {
    const ack = await request(socket, event, payload);
    assert.deepEqual(ack, { ok: false, error: { code: 'NOT_AUTHENTICATED', message: 'Authenticate first' } }, event);
  }
  await until(() => errors.length === guarded.length, 2000, 'request-errors');
  assert.deepEqual(
    errors,
    guarded.map(([event]) => ({ event, code: 'NOT_AUTHENTICATED', message: 'Authenticate first' })),
  );
  const pong = await request(socket, 'ping');
  assert.equal(pong.ok, true);
  assert.equal(typeof pong.timestamp, 'number');
  const rooms = server.app.io.of('/').sockets.get(socket.id!)!.rooms;
  assert.deepEqual([...rooms], [socket.id]);
});

const users = [
  { id: 'alice', roles: ['trader'] },
  { id: 'carol', roles: ['compliance'] },
  { id: 'adam', roles: ['admin'] },
] as const;
const channels = [
  { subscribe: 'join-trading', event: 'trade-update', kind: 'trading', build: tradeUpdate },
  { subscribe: 'subscribe-orders', event: 'order-update', kind: 'orders', build: orderUpdate },
  { subscribe: 'subscribe-compliance', event: 'compliance-alert', kind: 'compliance', build: complianceAlert },
] as const;

function allowed(caller: (typeof users)[number], kind: string, target: string): boolean {
  if (caller.id === target) return true;
  if ((caller.roles as readonly string[]).includes('admin')) return true;
  return kind === 'compliance' && (caller.roles as readonly string[]).includes('compliance');
}

test('the full matrix: who may subscribe to what, and who receives what', async () => {
  const sockets = new Map<string, Socket>();
  const received = new Map<string, string[]>();
  for (const u of users) {
    const socket = await server.authed(u.id, { roles: [...u.roles] });
    sockets.set(u.id, socket);
    const got: string[] = [];
    received.set(u.id, got);
    for (const c of channels) socket.on(c.event, (env: any) => got.push(`${c.event}:${env.userId}:${env.payload.userId}`));
  }
  // every caller tries every channel of every user
  const expected = new Map<string, string[]>();
  for (const caller of users) {
    const socket = sockets.get(caller.id)!;
    const want: string[] = [];
    for (const target of users) {
      for (const c of channels) {
        const ack = await request(socket, c.subscribe, target.id);
        const may = allowed(caller, c.kind, target.id);
        if (may) {
          assert.equal(ack.ok, true, `${caller.id} ${c.subscribe} ${target.id}`);
          assert.equal(ack.room, `${c.kind}-${target.id}`);
          want.push(`${c.event}:${target.id}:${target.id}`);
        } else {
          assert.deepEqual(
            ack,
            { ok: false, error: { code: 'FORBIDDEN', message: `Not allowed to follow ${c.kind} of user ${target.id}` } },
            `${caller.id} ${c.subscribe} ${target.id}`,
          );
        }
      }
    }
    expected.set(caller.id, want.sort());
  }
  // one event of each kind for each user
  for (const target of users) for (const c of channels) assert.equal((await server.publish(c.build(target.id))).status, 202);
  await until(() => users.every((u) => received.get(u.id)!.length >= expected.get(u.id)!.length), 3000, 'deliveries');
  // a round trip on each socket: anything extra sent to it before has arrived
  for (const socket of sockets.values()) assert.equal((await request(socket, 'ping')).ok, true);
  for (const u of users) assert.deepEqual(received.get(u.id)!.sort(), expected.get(u.id), u.id);
  // the trader sees only their own: 3 events; the compliance officer: own 3 + 2 others' compliance alerts; admin: all 9
  assert.deepEqual(
    users.map((u) => received.get(u.id)!.length),
    [3, 5, 9],
  );
});

test('a user without roles receives nothing of another user even when asking for all of it', async () => {
  const mallory = await server.authed('mallory');
  const victim = await server.authed('victim');
  const leaks: string[] = [];
  for (const c of channels) mallory.on(c.event, (env: any) => leaks.push(`${c.event}:${env.userId}`));
  for (const c of channels) {
    assert.equal((await request(victim, c.subscribe, 'victim')).ok, true);
    assert.equal((await request(mallory, c.subscribe, 'victim')).error.code, 'FORBIDDEN');
  }
  const resume = await request(mallory, 'resume', { 'orders-victim': 0 });
  assert.equal(resume.error.code, 'FORBIDDEN');
  const got = channels.map((c) => once(victim, c.event));
  for (const c of channels) await server.publish(c.build('victim'));
  await Promise.all(got);
  assert.equal((await request(mallory, 'ping')).ok, true); // anything sent to mallory before it has arrived
  assert.deepEqual(leaks, []);
  // nor through the event log
  const token = await server.sign('mallory');
  for (const c of channels) {
    const res = await server.http(`/api/v1/events?stream=${c.kind}-victim`, { token });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'FORBIDDEN');
  }
});

test('a refreshed token with fewer roles no longer follows the rooms the old roles allowed', async () => {
  const token = await server.sign('demoted', { roles: ['admin'] });
  const socket = server.client({ auth: { token } });
  await once(socket, 'auth-success');
  assert.equal((await request(socket, 'subscribe-orders', 'someone')).ok, true);
  assert.equal((await request(socket, 'subscribe-orders', 'demoted')).ok, true);
  const refreshed = await request(socket, 'authenticate', { userId: 'demoted', token: await server.sign('demoted') });
  assert.equal(refreshed.ok, true);
  assert.deepEqual(refreshed.roles, []);
  const leaks: any[] = [];
  socket.on('order-update', (e) => leaks.push(e));
  const own = once(socket, 'order-update');
  await server.publish(orderUpdate('someone'));
  await server.publish(orderUpdate('demoted'));
  assert.equal((await own).userId, 'demoted');
  assert.equal((await request(socket, 'ping')).ok, true); // anything sent to it before has arrived
  assert.deepEqual(leaks.map((e) => e.userId), ['demoted']);
});

test("a refresh with fewer roles narrows the user's other sockets too (never widens them)", async () => {
  const admin = await server.sign('narrowed', { roles: ['admin', 'compliance'] });
  const other = server.client({ auth: { token: admin } });
  await once(other, 'auth-success');
  const refreshing = server.client({ auth: { token: admin } });
  await once(refreshing, 'auth-success');
  assert.equal((await request(other, 'subscribe-orders', 'someone')).ok, true);
  assert.equal((await request(other, 'subscribe-compliance', 'someone')).ok, true);
  // a third socket of the user with only trader rights refreshes nothing: no narrowing
  const trader = server.client({ auth: { token: await server.sign('narrowed') } });
  await once(trader, 'auth-success');
  assert.equal((await request(other, 'subscribe-orders', 'someone-else')).ok, true);
  const refreshed = await request(refreshing, 'authenticate', { userId: 'narrowed', token: await server.sign('narrowed', { roles: ['compliance', 'trader'] }) });
  assert.deepEqual(refreshed.roles, ['compliance', 'trader']);
  await until(() => !server.app.io.of('/').sockets.get(other.id!)!.rooms.has('orders-someone'), 2000, 'the other socket left the admin-only room');
  const rooms = server.app.io.of('/').sockets.get(other.id!)!.rooms;
  assert.ok(!rooms.has('orders-someone-else'));
  assert.ok(rooms.has('compliance-someone'), 'compliance is still granted');
  assert.deepEqual(server.app.io.of('/').sockets.get(other.id!)!.data.auth!.roles, ['compliance'], "the trader role it never had is not added");
  const leaks: any[] = [];
  other.on('order-update', (e) => leaks.push(e));
  const alert = once(other, 'compliance-alert');
  await server.publish(orderUpdate('someone'));
  await server.publish(complianceAlert('someone'));
  await alert;
  assert.equal((await request(other, 'ping')).ok, true); // anything sent to it before has arrived
  assert.deepEqual(leaks, []);
  assert.equal((await request(other, 'subscribe-orders', 'someone')).error.code, 'FORBIDDEN');
});
