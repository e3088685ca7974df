/**
 * Cross-node control on a real cluster of two nodes: `all-1` (ROLE=all: a gateway and the engine
 * in one process) and `gateway-2`. MAX_CONNECTIONS_PER_USER counts a user's sockets on both
 * together — recovered sockets included, once each — and a killed gateway's counts expire after
 * the presence lease; an operator's disconnect and a role narrowed on refresh reach the user's
 * sockets on the other node; the ROLE=all node serves orders and shows one set of metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { collect, once, orderUpdate, readMetric, request, sleep, until } from '../helpers.js';
import { CLUSTER_PUBLISH_KEY, startCluster, type Cluster } from './cluster.js';

const LIMIT = 3;
/** `authErrors`: every auth-error the socket was sent, heard from the start (one may ride in with the session) */
type Outcome = { ok: true; socket: Socket; recovered: boolean; authErrors: { code: string }[] } | { ok: false; code: string };

/** Connects with a handshake token (or a recovery `pid`/`offset`): auth-success, or the refusal's code. */
async function connectAs(cluster: Cluster, url: string, userId: string, recover?: { pid: string; offset: string }): Promise<Outcome> {
  const auth = recover ? { ...recover } : { token: await cluster.sign(userId, { roles: [] }) };
  const socket = cluster.client(url, { auth });
  const authErrors: { code: string }[] = [];
  socket.on('auth-error', (e: { code: string }) => authErrors.push(e));
  return new Promise<Outcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer connecting ${userId}`)), 15_000);
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      resolve({ ok: false, code: err.data?.code ?? err.message });
    });
    if (recover) {
      socket.once('session', (s: { recovered: boolean }) => {
        clearTimeout(timer);
        resolve({ ok: true, socket, recovered: s.recovered, authErrors });
      });
    } else {
      // signed in, and told its session (the offset a recovery sends back)
      let signedIn = false;
      let session = false;
      const done = () => {
        if (!signedIn || !session) return;
        clearTimeout(timer);
        resolve({ ok: true, socket, recovered: false, authErrors });
      };
      socket.once('auth-success', () => ((signedIn = true), done()));
      socket.once('session', () => ((session = true), done()));
    }
  });
}

async function mustConnect(cluster: Cluster, url: string, userId: string): Promise<Socket> {
  const r = await connectAs(cluster, url, userId);
  assert.ok(r.ok, `${userId} connects (${r.ok ? '' : r.code})`);
  return r.socket;
}

/** Retries a fresh connection until it is admitted; the time it took. */
async function admittedWithin(cluster: Cluster, url: string, userId: string, ms: number): Promise<{ socket: Socket; tookMs: number; refusals: number }> {
  const started = Date.now();
  let refusals = 0;
  for (;;) {
    const r = await connectAs(cluster, url, userId);
    if (r.ok) return { socket: r.socket, tookMs: Date.now() - started, refusals };
    assert.equal(r.code, 'TOO_MANY_CONNECTIONS');
    refusals++;
    if (Date.now() - started > ms) assert.fail(`${userId} still refused after ${ms} ms`);
    await sleep(200);
  }
}

/** The pid/offset a reconnecting socket.io-client sends to recover its session (what it does through a load balancer). */
function recoveryOf(socket: Socket): { pid: string; offset: string } {
  const s = socket as unknown as { _pid?: string; _lastOffset?: string };
  assert.ok(s._pid && s._lastOffset, 'the client holds a recoverable session');
  return { pid: s._pid, offset: s._lastOffset };
}

test('cluster: connection limits, operator disconnects and narrowed roles cross gateways; a ROLE=all node is gateway and engine', { timeout: 420_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 0, engines: 0, env: { MAX_CONNECTIONS_PER_USER: String(LIMIT), SIMULATOR: 'on', MARKET_UPDATES_PER_SECOND: '4' } });
  if (!cluster) return;
  const all = await cluster.startGateway('all-1', { ROLE: 'all' });
  const g2 = await cluster.startGateway('gateway-2');
  const redis = await cluster.redis.client();
  const sessionSaved = (socket: Socket) => waitSession(redis, recoveryOf(socket).pid);

  await t.test('ROLE=all: leads, takes orders from the other gateway, one metrics registry for both parts', async () => {
    const deadline = Date.now() + 30_000;
    let health = await cluster.http(all.url, '/health');
    while (health.body.leader !== true && Date.now() < deadline) {
      await sleep(200);
      health = await cluster.http(all.url, '/health');
    }
    assert.equal(health.body.role, 'all');
    assert.equal(health.body.nodeId, 'all-1');
    assert.equal(health.body.leader, true);
    const owner = await mustConnect(cluster, all.url, 'allrole');
    const orders = collect(owner, 'order-update');
    assert.equal((await request(owner, 'subscribe-orders', 'allrole')).ok, true);
    const token = await cluster.sign('allrole');
    // a limit price inside the band around the simulated market's last price
    let brent: { payload: { price: number } } | undefined;
    for (let i = 0; i < 100 && !brent; i++) {
      const snap = await cluster.http(g2.url, '/api/v1/market/snapshot', { token });
      brent = (snap.body.snapshot as { payload: { commodity: string; price: number } }[]).find((e) => e.payload.commodity === 'brent');
      if (!brent) await sleep(100);
    }
    assert.ok(brent, 'the engine in the ROLE=all node publishes prices');
    const placed = await cluster.http(g2.url, '/api/v1/trading/orders', {
      method: 'POST',
      token,
      json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 2, price: Math.round(brent.payload.price * 0.99 * 100) / 100, timeInForce: 'gtc', clientOrderId: 'all-1' },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    await until(() => orders.some((o) => o.payload.id === placed.body.order.id), 10_000, 'order-update on the ROLE=all node');
    // the engine's counters and the gateway's gauges on one /metrics, no duplicate-metric error
    const metrics = await fetch(`${all.url}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.ok(readMetric(text, 'qx_events_published_total', { event: 'market-update' }) > 0, 'the engine part publishes market updates into this registry');
    assert.ok(readMetric(text, 'qx_connections') >= 1, 'the gateway part counts its sockets');
    const gatewayOnly = await (await fetch(`${g2.url}/metrics`)).text();
    assert.equal(readMetric(gatewayOnly, 'qx_events_published_total', { event: 'market-update' }), 0, 'a plain gateway runs no market');
    assert.ok(!all.logs.some((l) => /already been registered|PUBLISH_API_KEY not set/.test(l)), 'no duplicate metric, no false warning');
    owner.disconnect();
  });

  await t.test("a user's sockets on both gateways count together, by handshake and by authenticate", async () => {
    await mustConnect(cluster, g2.url, 'spread');
    await mustConnect(cluster, g2.url, 'spread');
    const third = await mustConnect(cluster, all.url, 'spread');
    assert.deepEqual(await connectAs(cluster, all.url, 'spread'), { ok: false, code: 'TOO_MANY_CONNECTIONS' });
    const late = cluster.client(g2.url);
    const refused = await request(late, 'authenticate', { userId: 'spread', token: await cluster.sign('spread') });
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, 'TOO_MANY_CONNECTIONS');
    // one leaves on one node: a place frees on the other
    third.disconnect();
    const again = await admittedWithin(cluster, g2.url, 'spread', 10_000);
    assert.deepEqual(await connectAs(cluster, all.url, 'spread'), { ok: false, code: 'TOO_MANY_CONNECTIONS' });
    again.socket.disconnect();
  });

  await t.test('a recovered socket counts on its new gateway, and is refused there past the limit', async () => {
    const away = await mustConnect(cluster, g2.url, 'roamer');
    await sessionSaved(away);
    const recovery = recoveryOf(away);
    // the transport drops (a recoverable close); meanwhile the user fills its places on the other node
    away.io.engine.close();
    await until(() => !away.connected, 5000);
    const fresh: Socket[] = [];
    for (let i = 0; i < LIMIT; i++) fresh.push((await admittedWithin(cluster, all.url, 'roamer', 10_000)).socket);
    const back = await connectAs(cluster, all.url, 'roamer', recovery);
    assert.ok(back.ok && back.recovered, 'the session is recovered on the other gateway');
    // the refusal may arrive in the same read as the session: it was listened for from the start
    await until(() => back.authErrors.length > 0, 10_000, 'auth-error');
    assert.deepEqual(back.authErrors.map((e) => e.code), ['TOO_MANY_CONNECTIONS']);
    assert.equal((await request(back.socket, 'subscribe-orders', 'roamer')).error.code, 'NOT_AUTHENTICATED', 'it lost its authentication');
    for (const s of fresh) s.disconnect();
  });

  await t.test("an operator's disconnect reaches the user's sockets on every gateway; they cannot recover", async () => {
    const here = await mustConnect(cluster, all.url, 'kicked');
    const there = await mustConnect(cluster, g2.url, 'kicked');
    const bystander = await mustConnect(cluster, g2.url, 'bystander');
    await sessionSaved(there);
    const recovery = recoveryOf(there);
    const reasons = [once(here, 'disconnect-reason', 10_000), once(there, 'disconnect-reason', 10_000)];
    const res = await cluster.http(all.url, '/api/v1/users/kicked/disconnect', { method: 'POST', headers: { authorization: `Bearer ${CLUSTER_PUBLISH_KEY}` } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    for (const r of await Promise.all(reasons)) assert.equal(r.code, 'USER_DISCONNECTED');
    await until(() => !here.connected && !there.connected, 10_000, 'both closed');
    assert.ok(bystander.connected);
    assert.equal((await request(bystander, 'ping')).ok, true);
    const back = await connectAs(cluster, all.url, 'kicked', recovery);
    assert.ok(back.ok && !back.recovered, 'a socket closed by an operator has no session to recover');
    assert.equal((await request(back.socket, 'subscribe-orders', 'kicked')).error.code, 'NOT_AUTHENTICATED');
    bystander.disconnect();
  });

  await t.test("a refresh with fewer roles on one gateway narrows the user's socket on the other", async () => {
    const adminToken = await cluster.sign('demoted', { roles: ['admin'] });
    const watcher = cluster.client(all.url, { auth: { token: adminToken } });
    await once(watcher, 'auth-success', 10_000);
    const refresher = cluster.client(g2.url, { auth: { token: adminToken } });
    await once(refresher, 'auth-success', 10_000);
    assert.equal((await request(watcher, 'subscribe-orders', 'victim')).ok, true);
    const seen = collect(watcher, 'order-update');
    const publish = (userId: string, id: string) =>
      cluster.http(g2.url, '/api/v1/publish', {
        method: 'POST',
        headers: { authorization: `Bearer ${CLUSTER_PUBLISH_KEY}` },
        json: orderUpdate(userId, id),
      });
    const before = await publish('victim', 'v-1');
    assert.equal(before.status, 202, JSON.stringify(before.body));
    await until(() => seen.some((o) => o.payload.id === 'v-1'), 10_000, 'the admin sees the other user’s order');
    const refreshed = await request(refresher, 'authenticate', { userId: 'demoted', token: await cluster.sign('demoted', { roles: ['trader'] }) });
    assert.deepEqual(refreshed.roles, ['trader']);
    // the other node hears of it: the watcher's admin role is gone, and with it the room
    const deadline = Date.now() + 10_000;
    for (;;) {
      const again = await request(watcher, 'subscribe-orders', 'victim');
      if (!again.ok) {
        assert.equal(again.error.code, 'FORBIDDEN');
        break;
      }
      if (Date.now() > deadline) assert.fail('the watcher kept its admin role');
      await sleep(100);
    }
    assert.equal((await publish('victim', 'v-2')).status, 202);
    assert.equal((await publish('demoted', 'own-1')).status, 202);
    assert.equal((await request(watcher, 'subscribe-orders', 'demoted')).ok, true);
    assert.equal((await publish('demoted', 'own-2')).status, 202);
    await until(() => seen.some((o) => o.payload.id === 'own-2'), 10_000, 'its own orders still arrive');
    await sleep(300);
    assert.ok(!seen.some((o) => o.payload.id === 'v-2'), 'nothing of the other user after the narrowing');
  });

  await t.test('kill -9 of a gateway: its recovered sockets count once; its stale counts expire within the presence lease', async () => {
    const mine = [await mustConnect(cluster, g2.url, 'crashed'), await mustConnect(cluster, g2.url, 'crashed'), await mustConnect(cluster, g2.url, 'crashed')];
    const stuck = [await mustConnect(cluster, g2.url, 'stuck'), await mustConnect(cluster, g2.url, 'stuck'), await mustConnect(cluster, g2.url, 'stuck')];
    for (const s of mine) await sessionSaved(s);
    const recoveries = mine.map(recoveryOf);
    void stuck;
    g2.child.kill('SIGKILL');
    const killedAt = Date.now();
    await g2.exited;
    // the crashed user's clients come back on the other node with their sessions: all admitted, counted once
    const back = await Promise.all(recoveries.map((r) => connectAs(cluster, all.url, 'crashed', r)));
    for (const b of back) assert.ok(b.ok && b.recovered, 'recovered on the other gateway');
    const recoveredSockets = back.map((b) => (b.ok ? b.socket : null)!);
    await sleep(500);
    for (const s of recoveredSockets) assert.equal((await request(s, 'subscribe-orders', 'crashed')).ok, true, 'still authenticated');
    assert.deepEqual(await connectAs(cluster, all.url, 'crashed'), { ok: false, code: 'TOO_MANY_CONNECTIONS' }, 'the limit holds with the recovered sockets');
    // the other user's sockets are gone for good: their places free once the dead node's lease runs out (5 s)
    const admitted = await admittedWithin(cluster, all.url, 'stuck', 20_000);
    const sinceKill = Date.now() - killedAt;
    t.diagnostic(`locked-out user admitted ${sinceKill} ms after the kill (${admitted.refusals} refusals first)`);
    assert.ok(sinceKill < 20_000);
  });
});

async function waitSession(redis: Awaited<ReturnType<Cluster['redis']['client']>>, pid: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await redis.exists(`qx:session:${pid}`)) === 0) {
    if (Date.now() > deadline) throw new Error('session never saved');
    await sleep(50);
  }
}
