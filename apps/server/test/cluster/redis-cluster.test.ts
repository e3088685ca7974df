/**
 * Cluster test on a Redis Cluster (3 masters, 3 replicas, started by the test): the engine with
 * REDIS_URL=redis+cluster://…, the gateways with REDIS_CLUSTER_NODES, nginx in front. Orders placed
 * on one gateway reach their owner on the other and market data reaches both; a Redis master is
 * killed (kill -9) and failed over to its replica while orders flow, and every follower gets every
 * seq of its stream once, in order; then a gateway is killed and its plain socket.io-clients are
 * recovered on the other gateway (their sessions in the Redis Cluster) with every seq.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connect, type Socket } from 'socket.io-client';
import { busKeys } from '../../src/backplane/redis/shared/bus-message.js';
import { COMMAND_LIST } from '../../src/backplane/redis/shared/command-queue.js';
import { collect, once, readMetric, sleep, until } from '../helpers.js';
import { CLUSTER_PUBLISH_KEY, startCluster, type Cluster, type ClusterNode } from './cluster.js';
import { nginxAvailable, startNginx } from './nginx.js';

async function authed(cluster: Cluster, url: string, userId: string): Promise<Socket> {
  const s = cluster.client(url);
  const ok = once(s, 'auth-success', 10_000);
  s.emit('authenticate', { userId, token: await cluster.sign(userId) });
  await ok;
  return s;
}

/** A socket following `userId`'s orders: every order-update's seq, as it came. */
async function follower(cluster: Cluster, url: string, userId: string): Promise<{ socket: Socket; seqs: number[]; at: Map<number, number> }> {
  const socket = await authed(cluster, url, userId);
  const seqs: number[] = [];
  const at = new Map<number, number>();
  socket.on('order-update', (e: { seq: number }) => {
    seqs.push(e.seq);
    if (!at.has(e.seq)) at.set(e.seq, Date.now());
  });
  const subscribed = once(socket, 'orders-subscribed', 10_000);
  socket.emit('subscribe-orders', userId);
  await subscribed;
  return { socket, seqs, at };
}

test('cluster on a Redis Cluster: cross-node delivery, a Redis master failed over with no private event lost, recovery across a gateway kill', { timeout: 300_000 }, async (t) => {
  if (!nginxAvailable()) {
    if (process.env['CI'] === 'true') throw new Error('nginx is required in CI (apt-get install nginx)');
    t.skip('nginx not installed');
    return;
  }
  const cluster = await startCluster(t, { gateways: 0, engines: 1, redisCluster: true, env: { SIMULATOR: 'on', MARKET_UPDATES_PER_SECOND: '4', MAX_EVENTS_PER_SECOND: '1000' } });
  if (!cluster) return;
  const redis = cluster.redisCluster!;
  // the gateways name the Redis Cluster by its seeds (the engine by its redis+cluster:// URL)
  const [g1, g2] = (await Promise.all([1, 2].map(() => cluster.startGateway(undefined, { REDIS_URL: '', REDIS_CLUSTER_NODES: redis.seeds })))) as [ClusterNode, ClusterNode];
  cluster.nginx = await startNginx([g1.port, g2.port]);
  await cluster.leader();

  // a buy that rests: well below the market, inside the price band (the market moves: read it first)
  let restingPrice = 0;

  await t.test('market data reaches both gateways; an order placed on gateway 1 reaches its owner on gateway 2', async () => {
    for (const g of [g1, g2]) {
      const s = await authed(cluster, g.url, `md-${g.name}`);
      const updates = collect(s, 'market-update');
      s.emit('subscribe-market', ['brent', 'power']);
      await until(() => updates.length >= 4, 10_000, `market updates on ${g.name}`);
      assert.deepEqual(new Set(updates.map((u) => u.payload.commodity)), new Set(['brent', 'power']));
      const brent = updates.filter((u) => u.payload.commodity === 'brent').at(-1);
      restingPrice = Math.round(brent.payload.price * 90) / 100;
      s.disconnect();
    }
    const alice = await authed(cluster, g2.url, 'alice');
    const orders = collect(alice, 'order-update');
    const subscribed = once(alice, 'orders-subscribed');
    alice.emit('subscribe-orders', 'alice');
    await subscribed;
    const placed = await cluster.http(g1.url, '/api/v1/trading/orders', {
      method: 'POST',
      token: await cluster.sign('alice'),
      json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1, price: restingPrice, timeInForce: 'gtc', clientOrderId: 'rc-1' },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    await until(() => orders.some((o) => o.payload.id === placed.body.order.id), 10_000, 'order-update on the other gateway');
    alice.disconnect();
  });

  await t.test('a Redis master killed (kill -9) and failed over while orders flow: every follower gets every seq once, in order', async (t) => {
    // the master killed is the one holding the engine's command list (orders stop until its replica
    // takes over); one user's order stream on each master, the first on that one
    const victimMaster = await redis.masterOf(COMMAND_LIST);
    const byMaster = new Map<number, string>();
    for (let n = 0; byMaster.size < 3 && n < 500; n++) {
      const master = await redis.masterOf(busKeys.history(`orders-trader-${n}`));
      if (!byMaster.has(master)) byMaster.set(master, `trader-${n}`);
    }
    const victimUser = byMaster.get(victimMaster)!;
    const users = [victimUser, ...[...byMaster.values()].filter((u) => u !== victimUser)];
    const followers = await Promise.all(users.flatMap((u) => [g1, g2].map(async (g) => ({ userId: u, gateway: g.name, ...(await follower(cluster, g.url, u)) }))));
    const tokens = new Map(await Promise.all(users.map(async (u) => [u, await cluster.sign(u)] as const)));

    const statuses = new Map<number, number>();
    let placedAfterKill = 0;
    let refused = '';
    let killedAt = 0;
    let stop = false;
    let n = 0;
    const traders = users.map(async (userId, i) => {
      while (!stop) {
        const k = n++;
        const g = [g1, g2][k % 2]!;
        const res = await cluster
          .http(g.url, '/api/v1/trading/orders', {
            method: 'POST',
            token: tokens.get(userId)!,
            json: { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1, price: Math.round(restingPrice * 100 - (k % 5)) / 100, timeInForce: 'gtc', clientOrderId: `fo-${i}-${k}` },
          })
          .catch(() => ({ status: 0, body: null }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 400 && !refused) refused = JSON.stringify(res.body).slice(0, 300);
        if (killedAt && res.status === 201) placedAfterKill++;
        await sleep(50);
      }
    });
    let seqAtKill: number;
    let newMaster: number;
    let failedOverAt: number;
    try {
      // orders flow to every follower before the kill
      await until(() => followers.every((f) => f.seqs.length >= 5), 20_000, 'order-updates at every follower');
      seqAtKill = followers.find((f) => f.userId === victimUser)!.seqs.at(-1) ?? 0;
      killedAt = Date.now();
      await redis.kill(victimMaster);
      newMaster = await redis.waitForFailover(victimMaster, busKeys.history(`orders-${victimUser}`), 30_000);
      failedOverAt = Date.now();
      // orders go on on the new master for a while: the failed shard's stream moves on at its followers
      await until(() => placedAfterKill >= 30, 20_000, 'orders accepted again after the failover');
      const victims = followers.filter((f) => f.userId === victimUser);
      const seqAtFailover = Math.max(...victims.map((f) => f.seqs.at(-1) ?? 0));
      await until(() => victims.every((f) => (f.seqs.at(-1) ?? 0) >= seqAtFailover + 10), 20_000, `${victimUser}'s order-updates after the failover`);
    } finally {
      stop = true;
      await Promise.all(traders);
      t.diagnostic(`order answers ${JSON.stringify(Object.fromEntries(statuses))} ${refused}`);
      if (process.env['QX_DUMP']) for (const node of [...cluster.engines, g1, g2]) for (const line of node.logs.filter((l) => /"level":[345]0/.test(l)).slice(-40)) t.diagnostic(`${node.name}: ${line.slice(0, 400)}`);
    }

    for (const userId of users) {
      const log = await cluster.http(g1.url, `/api/v1/events?stream=orders-${userId}&after=0&limit=1`, { token: tokens.get(userId)! });
      assert.equal(log.status, 200);
      const lastSeq = log.body.lastSeq as number;
      const expected = Array.from({ length: lastSeq }, (_, i) => i + 1);
      for (const f of followers.filter((x) => x.userId === userId)) {
        await until(() => f.seqs.length >= lastSeq, 20_000, `${userId} on ${f.gateway}: caught up to ${lastSeq}`).catch(() => undefined);
        assert.deepEqual(f.seqs, expected, `${userId} on ${f.gateway}: every seq once, in order`);
      }
    }
    // how long the failed shard's stream paused: the longest time between two of its events at a follower
    const times = [...followers.find((f) => f.userId === victimUser)!.at.values()].sort((a, b) => a - b);
    const paused = Math.max(...times.slice(1).map((at, i) => at - times[i]!));
    t.diagnostic(
      `master :${victimMaster} (the engine's command list, ${victimUser}'s orders) killed; replica :${newMaster} serving after ${failedOverAt - killedAt} ms; ` +
        `the failed shard's stream paused ${paused} ms (last event before the kill: seq ${seqAtKill}); order answers ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${followers.reduce((sum, f) => sum + f.seqs.length, 0)} order-updates to ${followers.length} followers, no gap, no duplicate`,
    );
    for (const f of followers) f.socket.disconnect();
  });

  await t.test('kill -9 of a gateway: its plain socket.io-clients are recovered on the other one (sessions in the Redis Cluster) with every seq', async (t) => {
    const users = Array.from({ length: 6 }, (_, i) => `rec-${i}`);
    const sockets: { userId: string; socket: Socket; seqs: number[]; dropped: boolean }[] = [];
    t.after(() => {
      for (const { socket } of sockets) socket.disconnect();
    });
    for (const userId of users) {
      for (let k = 0; k < 3; k++) {
        const token = await cluster.sign(userId);
        // the seed's client: reconnection and connection state recovery on, through the load balancer
        const socket = connect(cluster.nginx!.url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
        const entry = { userId, socket, seqs: [] as number[], dropped: false };
        socket.on('order-update', (e: { seq: number }) => entry.seqs.push(e.seq));
        socket.on('disconnect', () => (entry.dropped = true));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            if (process.env['QX_DUMP']) for (const node of [g1, g2]) for (const line of node.logs.slice(-150)) t.diagnostic(`${node.name}: ${line.slice(0, 400)}`);
            reject(new Error(`follower ${userId} did not subscribe (connected ${socket.connected})`));
          }, 20_000);
          socket.once('connect', () => socket.emit('authenticate', { userId, token }));
          socket.once('auth-success', () => socket.emit('subscribe-orders', userId));
          socket.once('orders-subscribed', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        sockets.push(entry);
      }
    }
    const counts = await Promise.all([g1, g2].map(async (g) => readMetric(await (await fetch(`${g.url}/metrics`)).text(), 'qx_connections')));
    const victim = counts[0]! >= counts[1]! ? g1 : g2;
    const survivor = victim === g1 ? g2 : g1;
    const publish = (round: number) =>
      cluster.http(survivor.url, '/api/v1/publish/batch', {
        method: 'POST',
        headers: { authorization: `Bearer ${CLUSTER_PUBLISH_KEY}` },
        json: { events: users.map((userId) => ({ event: 'order-update', userId, payload: { id: `r-${userId}-${round}`, userId, status: 'new', filledQuantity: 0, remainingQuantity: 1, averagePrice: 0 } })) },
      });
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      if (round === 4) victim.child.kill('SIGKILL');
      assert.equal((await publish(round)).status, 202);
      await sleep(100);
    }
    const expected = Array.from({ length: rounds }, (_, i) => i + 1);
    await until(() => sockets.every((s) => new Set(s.seqs).size === rounds), 30_000, 'every follower has every seq');
    let duplicates = 0;
    for (const s of sockets) {
      const unique = [...new Set(s.seqs)];
      duplicates += s.seqs.length - unique.length;
      assert.deepEqual(unique, expected, `${s.userId}: every seq, in order`);
      assert.ok(s.socket.connected);
    }
    const moved = sockets.filter((s) => s.dropped);
    assert.ok(moved.length > 0, 'the dead gateway had followers');
    for (const s of moved) assert.equal(s.socket.recovered, true, `${s.userId}: its session was recovered on ${survivor.name}`);
    t.diagnostic(`sockets per gateway ${counts.join('/')}; ${moved.length} recovered on ${survivor.name} from their sessions in the Redis Cluster; ${duplicates} duplicates`);
  });
});
