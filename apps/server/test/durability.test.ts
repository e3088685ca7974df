/**
 * Sequence numbers and the durable event log: numbering per stream, reading back what was missed
 * (REST, `resume`, connection state recovery), and surviving a restart and `kill -9`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import {
  PUBLISH_KEY,
  SECRET,
  collect,
  complianceAlert,
  none,
  once,
  orderUpdate,
  request,
  startServer,
  systemAlert,
  tradeUpdate,
  until,
  type TestServer,
} from './helpers.js';
import { spawnServer } from './spawn.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

test('seq goes +1 per private stream and for the system stream', async () => {
  const socket = await server.authed('d-seq');
  for (const e of ['join-trading', 'subscribe-orders', 'subscribe-compliance']) await request(socket, e, 'd-seq');
  const orders = collect(socket, 'order-update');
  const trades = collect(socket, 'trade-update');
  const alerts = collect(socket, 'compliance-alert');
  const system = collect(socket, 'system-alert');
  const systemBefore = server.app.publisher.lastSeq('system');
  const plan = [orderUpdate('d-seq', 'o1'), tradeUpdate('d-seq', 't1'), orderUpdate('d-seq', 'o2'), complianceAlert('d-seq'), systemAlert(), orderUpdate('d-seq', 'o3'), tradeUpdate('d-seq', 't2'), systemAlert()];
  for (const body of plan) assert.equal((await server.publish(body)).status, 202);
  await until(() => orders.length === 3 && trades.length === 2 && alerts.length === 1 && system.length === 2, 2000, 'events');
  assert.deepEqual(orders.map((e) => [e.payload.id, e.seq]), [['o1', 1], ['o2', 2], ['o3', 3]]);
  assert.deepEqual(trades.map((e) => [e.payload.id, e.seq]), [['t1', 1], ['t2', 2]]);
  assert.deepEqual(alerts.map((e) => e.seq), [1]);
  assert.deepEqual(system.map((e) => e.seq), [systemBefore + 1, systemBefore + 2]);
});

test('a private event that cannot be logged is not emitted, and its number is not used', async () => {
  const socket = await server.authed('d-first');
  await request(socket, 'subscribe-orders', 'd-first');
  const orders = collect(socket, 'order-update');
  assert.equal((await server.publish(orderUpdate('d-first', 'o1'))).status, 202);
  await until(() => orders.length === 1, 2000, 'first event');
  // the disk "fails": every append to the log is refused
  server.app.db!.exec("CREATE TRIGGER log_fails BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  try {
    const refused = await server.publish(orderUpdate('d-first', 'o2'));
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'SERVICE_UNAVAILABLE');
    await none(socket, 'order-update', 200);
  } finally {
    server.app.db!.exec('DROP TRIGGER log_fails');
  }
  assert.deepEqual((await server.publish(orderUpdate('d-first', 'o3'))).body, { event: 'order-update', stream: 'orders-d-first', seq: 2 });
  await until(() => orders.length === 2, 2000, 'next event');
  assert.deepEqual(orders.map((e) => [e.payload.id, e.seq]), [['o1', 1], ['o3', 2]]);
});

test('GET /api/v1/events returns what a client missed, own streams only, paged', async () => {
  const user = 'd-rest';
  for (let i = 1; i <= 5; i++) assert.equal((await server.publish(orderUpdate(user, `o${i}`))).status, 202);
  const token = await server.sign(user);

  const all = await server.http(`/api/v1/events?stream=orders-${user}`, { token });
  assert.equal(all.status, 200);
  assert.equal(all.body.stream, `orders-${user}`);
  assert.equal(all.body.hasMore, false);
  assert.equal(all.body.lastSeq, 5);
  assert.deepEqual(all.body.events.map((e: any) => [e.event, e.seq, e.envelope.seq, e.envelope.payload.id, e.envelope.type, e.envelope.userId]), [
    ['order-update', 1, 1, 'o1', 'ORDER_UPDATE', user],
    ['order-update', 2, 2, 'o2', 'ORDER_UPDATE', user],
    ['order-update', 3, 3, 'o3', 'ORDER_UPDATE', user],
    ['order-update', 4, 4, 'o4', 'ORDER_UPDATE', user],
    ['order-update', 5, 5, 'o5', 'ORDER_UPDATE', user],
  ]);

  const page1 = await server.http(`/api/v1/events?stream=orders-${user}&after=1&limit=2`, { token });
  assert.deepEqual([page1.body.events.map((e: any) => e.seq), page1.body.hasMore], [[2, 3], true]);
  const page2 = await server.http(`/api/v1/events?stream=orders-${user}&after=3&limit=2`, { token });
  assert.deepEqual([page2.body.events.map((e: any) => e.seq), page2.body.hasMore], [[4, 5], false]);
  const empty = await server.http(`/api/v1/events?stream=orders-${user}&after=5`, { token });
  assert.deepEqual([empty.body.events, empty.body.hasMore, empty.body.lastSeq], [[], false, 5]);

  const other = await server.http(`/api/v1/events?stream=orders-${user}`, { token: await server.sign('d-other') });
  assert.equal(other.status, 403);
  assert.equal(other.body.error.code, 'FORBIDDEN');
  const admin = await server.http(`/api/v1/events?stream=orders-${user}`, { token: await server.sign('d-admin', { roles: ['admin'] }) });
  assert.equal(admin.status, 200);
  assert.equal(admin.body.events.length, 5);
  const officer = await server.http(`/api/v1/events?stream=orders-${user}`, { token: await server.sign('d-off', { roles: ['compliance'] }) });
  assert.equal(officer.status, 403);

  const anonymous = await server.http(`/api/v1/events?stream=orders-${user}`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.body.error.code, 'UNAUTHORIZED');
  const badStream = await server.http('/api/v1/events?stream=market-crude_oil', { token });
  assert.deepEqual([badStream.status, badStream.body.error.code, badStream.body.error.field], [400, 'INVALID_STREAM', 'stream']);
  const badLimit = await server.http(`/api/v1/events?stream=orders-${user}&limit=0`, { token });
  assert.deepEqual([badLimit.status, badLimit.body.error.code, badLimit.body.error.field], [400, 'INVALID_PAYLOAD', 'limit']);
});

test('resume {stream: lastSeq} replays the missed events in order', async () => {
  const user = 'd-resume';
  const socket = await server.authed(user);
  await request(socket, 'subscribe-orders', user);
  await request(socket, 'join-trading', user);
  const orders = collect(socket, 'order-update');
  const trades = collect(socket, 'trade-update');
  for (let i = 1; i <= 4; i++) await server.publish(orderUpdate(user, `o${i}`));
  await server.publish(tradeUpdate(user, 't1'));
  await until(() => orders.length === 4 && trades.length === 1, 2000, 'live events');
  orders.length = 0;
  trades.length = 0;
  // the client says it holds orders up to 2 and no trades
  const resumed = once(socket, 'resumed');
  const ack = await request(socket, 'resume', { [`orders-${user}`]: 2, [`trading-${user}`]: 0 });
  const expected = { streams: { [`orders-${user}`]: { replayed: 2, lastSeq: 4 }, [`trading-${user}`]: { replayed: 1, lastSeq: 1 } } };
  assert.deepEqual(ack, { ok: true, ...expected });
  assert.deepEqual(await resumed, expected);
  await until(() => orders.length === 2 && trades.length === 1, 2000, 'replay');
  await none(socket, 'order-update', 150);
  assert.deepEqual(orders.map((e) => [e.payload.id, e.seq]), [['o3', 3], ['o4', 4]]);
  assert.deepEqual(trades.map((e) => [e.payload.id, e.seq]), [['t1', 1]]);
  // only streams the socket follows
  assert.equal((await request(socket, 'resume', { 'compliance-someone': 0 })).error.code, 'FORBIDDEN');
});

test('connection state recovery: a dropped transport reconnects, recovered, with the events published meanwhile', async () => {
  const user = 'd-recover';
  const token = await server.sign(user);
  const socket = server.client({
    auth: { token },
    reconnection: true,
    reconnectionDelay: 800,
    reconnectionDelayMax: 800,
    randomizationFactor: 0,
  });
  await once(socket, 'auth-success');
  await request(socket, 'subscribe-orders', user);
  await request(socket, 'subscribe-compliance', user);
  const orders = collect(socket, 'order-update');
  const alerts = collect(socket, 'compliance-alert');
  await server.publish(orderUpdate(user, 'before'));
  await until(() => orders.length === 1, 2000, 'first event');
  const id = socket.id!;

  const reconnected = once(socket, 'connect', 5000);
  socket.io.engine.close();
  await until(() => !server.app.io.of('/').sockets.has(id), 2000, 'server to see the drop');
  await server.publish(orderUpdate(user, 'away-1'));
  await server.publish(complianceAlert(user));
  await server.publish(orderUpdate(user, 'away-2'));
  await reconnected;
  assert.equal(socket.recovered, true);
  assert.equal(socket.id, id);
  await until(() => orders.some((e) => e.payload.id === 'away-2') && alerts.length >= 1, 3000, 'missed events');
  // delivery is at least once (what was written before the drop may come again): by seq, no gap, in order
  const seqs = orders.map((e) => e.seq as number);
  assert.deepEqual([...new Set(seqs)], [1, 2, 3]);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! >= seqs[i - 1]! || seqs[i] === 1, `out of order: ${seqs.join(',')}`);
  assert.deepEqual(orders.filter((e) => e.seq > 1).map((e) => e.payload.id), ['away-1', 'away-2']);
  assert.deepEqual(alerts.map((e) => e.seq), [1]);
  // still subscribed and authenticated without asking again
  const live = once(socket, 'order-update');
  await server.publish(orderUpdate(user, 'after'));
  assert.equal((await live).seq, 4);
  socket.disconnect();
});

test('the log survives kill -9: a new process on the same data dir serves it and numbering continues', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-kill-'));
  const signer = new SecretTokenVerifier(SECRET);
  const token = await signer.sign('d-crash', { ttlSeconds: 600 });
  const publish = (url: string, body: unknown) =>
    fetch(`${url}/api/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_KEY}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  let first = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY });
  try {
    for (let i = 1; i <= 20; i++) {
      const res = await publish(first.url, i % 5 === 0 ? tradeUpdate('d-crash', `t${i}`) : orderUpdate('d-crash', `o${i}`));
      assert.equal(res.status, 202);
    }
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    first = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY });
    const read = async (stream: string) => {
      const res = await fetch(`${first.url}/api/v1/events?stream=${stream}&limit=1000`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as any).events.map((e: any) => [e.seq, e.envelope.payload.id]);
    };
    const orderIds = [...Array(20).keys()].map((i) => i + 1).filter((i) => i % 5 !== 0);
    assert.deepEqual(await read('orders-d-crash'), orderIds.map((i, n) => [n + 1, `o${i}`]));
    assert.deepEqual(await read('trading-d-crash'), [[1, 't5'], [2, 't10'], [3, 't15'], [4, 't20']]);
    const next = await publish(first.url, orderUpdate('d-crash', 'o21'));
    assert.deepEqual(next.body, { event: 'order-update', stream: 'orders-d-crash', seq: 17 });
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
