/**
 * Cancel-on-disconnect (issue 17), one process: `connection` cancels the orders placed through the
 * socket when its connection ends and is not recovered — a transport cut, a ping timeout (the
 * client process stopped), the server killed — each with its order-update (`cancel_on_disconnect`);
 * `account` cancels all the user's orders once the user's last account-scoped socket is gone; a
 * connection recovered within CANCEL_ON_DISCONNECT_GRACE_MS keeps its orders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import { collect, once, request, sleep, startServer, until, SECRET, type TestServer } from './helpers.js';
import { spawnServer } from './spawn.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const limit = (price: number, extra: Record<string, unknown> = {}) => ({ commodity: 'brent', side: 'buy', type: 'limit', quantity: 1000, price, timeInForce: 'gtc', ...extra });

/** A second socket of the user that watches its orders (it asks for nothing itself). */
async function watcher(server: TestServer, userId: string): Promise<any[]> {
  const socket = await server.authed(userId);
  const orders = collect(socket, 'order-update');
  assert.equal((await request(socket, 'subscribe-orders', userId)).ok, true);
  return orders;
}

const cancelledByDisconnect = (orders: any[]) => orders.filter((o) => o.payload.status === 'cancelled' && o.payload.reason === 'cancel_on_disconnect').map((o) => o.payload.id as string);

test('scope connection: a transport cut cancels the orders placed through that socket, not the REST ones; scope off cancels nothing; coded errors', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const seen = await watcher(server, 'cod-alice');
  const socket = await server.authed('cod-alice');
  assert.deepEqual(await request(socket, 'cancel-on-disconnect', { scope: 'connection' }), { ok: true, scope: 'connection' });
  for (const bad of [{ scope: 'everything' }, {}, 'connection', null]) assert.equal((await request(socket, 'cancel-on-disconnect', bad)).error.code, 'INVALID_PAYLOAD', JSON.stringify(bad));
  const a = (await request(socket, 'place-order', limit(70))).order;
  const b = (await request(socket, 'place-order', limit(71))).order;
  const viaRest = (await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign('cod-alice'), json: limit(72) })).body.order;
  // a socket that turned it off again
  const calm = await server.authed('cod-alice');
  assert.equal((await request(calm, 'cancel-on-disconnect', { scope: 'connection' })).ok, true);
  const kept = (await request(calm, 'place-order', limit(69))).order;
  assert.deepEqual(await request(calm, 'cancel-on-disconnect', { scope: 'off' }), { ok: true, scope: 'off' });
  calm.disconnect();
  socket.io.engine.close();
  await until(() => cancelledByDisconnect(seen).length === 2, 3000, 'the two socket orders cancelled');
  assert.deepEqual(cancelledByDisconnect(seen).sort(), [a.id, b.id].sort());
  await sleep(200);
  const open = (await server.http('/api/v1/trading/orders?status=open', { token: await server.sign('cod-alice') })).body.orders.map((o: any) => o.id).sort();
  assert.deepEqual(open, [viaRest.id, kept.id].sort(), 'the REST order and the off socket\'s order stay');
});

test('scope account: all the user\'s orders are cancelled when the last account-scoped socket is gone, not before', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const seen = await watcher(server, 'cod-bob');
  const first = await server.authed('cod-bob');
  const second = await server.authed('cod-bob');
  for (const s of [first, second]) assert.deepEqual(await request(s, 'cancel-on-disconnect', { scope: 'account' }), { ok: true, scope: 'account' });
  assert.equal((await request(first, 'place-order', limit(70))).ok, true);
  await server.http('/api/v1/trading/orders', { method: 'POST', token: await server.sign('cod-bob'), json: limit(71) });
  first.disconnect();
  await sleep(400);
  assert.deepEqual(cancelledByDisconnect(seen), [], 'another account-scoped socket is still there');
  second.io.engine.close();
  await until(() => cancelledByDisconnect(seen).length === 2, 3000, 'every order of the user cancelled');
  assert.deepEqual((await server.http('/api/v1/trading/orders?status=open', { token: await server.sign('cod-bob') })).body.orders, []);
});

test('a connection recovered within CANCEL_ON_DISCONNECT_GRACE_MS keeps its orders; one that does not come back is cancelled after the grace, not before', async (t) => {
  const server = await startServer({ CANCEL_ON_DISCONNECT_GRACE_MS: '1500' });
  t.after(() => server.close());
  const seen = await watcher(server, 'cod-carol');
  const token = await server.sign('cod-carol');
  const socket: Socket = server.client({ reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  await until(() => socket.connected, 3000, 'connect');
  const ok = once(socket, 'auth-success');
  socket.emit('authenticate', { userId: 'cod-carol', token });
  await ok;
  assert.equal((await request(socket, 'cancel-on-disconnect', { scope: 'connection' })).ok, true);
  const order = (await request(socket, 'place-order', limit(70))).order;
  const sessions = collect(socket, 'session');
  socket.io.engine.close(); // the transport drops; the client comes back at once and is recovered
  await until(() => sessions.length === 1, 5000, 'the session again');
  assert.equal(sessions[0].recovered, true);
  assert.equal(socket.recovered, true);
  await sleep(2000);
  assert.deepEqual(cancelledByDisconnect(seen), [], 'recovered within the grace: kept');
  // gone for good now: cancelled once the grace is over
  const leftAt = Date.now();
  socket.disconnect();
  await until(() => cancelledByDisconnect(seen).length === 1, 5000, 'cancelled after the grace');
  const after = Date.now() - leftAt;
  assert.ok(after >= 1400, `not before the grace (${after} ms)`);
  assert.deepEqual(cancelledByDisconnect(seen), [order.id]);
  t.diagnostic(`cancelled ${after} ms after the socket left (grace 1500 ms)`);
});

test('a ping timeout: the client process is stopped (SIGSTOP); its connection is found silent and its orders cancelled', async (t) => {
  const server = await startServer({ PING_INTERVAL_MS: '1000', PING_TIMEOUT_MS: '1000' });
  t.after(() => server.close());
  const seen = await watcher(server, 'cod-dave');
  const child = spawn(process.execPath, [join(ROOT, 'apps/server/test/fixtures/cod-client.mjs'), server.url, 'cod-dave', await server.sign('cod-dave')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the client did not place its order')), 20_000);
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  const { orderId } = JSON.parse(line) as { orderId: string };
  const stoppedAt = Date.now();
  child.kill('SIGSTOP');
  await until(() => cancelledByDisconnect(seen).includes(orderId), 10_000, 'cancelled after the ping timeout');
  t.diagnostic(`cancelled ${Date.now() - stoppedAt} ms after the client stopped (ping interval 1 s + timeout 1 s)`);
  // gone before the server stops (a stopped peer would hold the stop's wait for its notice)
  child.kill('SIGKILL');
});

test('the server killed (kill -9): after a restart on the same DATA_DIR the orders of connections that asked are cancelled', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-cod-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, JWT_SECRET: SECRET, PUBLISH_API_KEY: 'cod-publish-key-0123456789' };
  const first = await spawnServer(env);
  t.after(() => first.child.kill('SIGKILL'));
  const signer = new SecretTokenVerifier(SECRET);
  const token = await signer.sign('cod-erin', { roles: [], ttlSeconds: 600 });
  const socket = io(first.url, { transports: ['websocket'], reconnection: false, forceNew: true });
  t.after(() => socket.disconnect());
  await until(() => socket.connected, 5000, 'connect');
  const ok = once(socket, 'auth-success');
  socket.emit('authenticate', { userId: 'cod-erin', token });
  await ok;
  assert.equal((await request(socket, 'cancel-on-disconnect', { scope: 'connection' })).ok, true);
  const order = (await request(socket, 'place-order', limit(70))).order;
  const rest = await fetch(`${first.url}/api/v1/trading/orders`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(limit(71)) });
  const restOrder = ((await rest.json()) as { order: { id: string } }).order;
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await spawnServer(env);
  t.after(() => second.child.kill('SIGKILL'));
  const orders = (await (await fetch(`${second.url}/api/v1/trading/orders`, { headers: { authorization: `Bearer ${token}` } })).json()) as { orders: { id: string; status: string; reason?: string }[] };
  const byId = new Map(orders.orders.map((o) => [o.id, o]));
  assert.deepEqual([byId.get(order.id)?.status, byId.get(order.id)?.reason], ['cancelled', 'cancel_on_disconnect']);
  assert.equal(byId.get(restOrder.id)?.status, 'new', 'the REST order was not placed through the connection');
  second.child.kill('SIGTERM');
  await second.exited;
});
