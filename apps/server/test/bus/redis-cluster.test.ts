/**
 * The Redis parts on a Redis Cluster of the test's own (3 masters, 3 replicas): a stream's keys and
 * channel share one slot and streams spread over the shards; publish/history/duplicates, the
 * latest market update and book per stream, sharded subscriptions on the master that owns each
 * channel, gap filling from the history; presence, sessions, the command queue and control
 * messages across shards; and a master killed (kill -9) and failed over to its replica while
 * events flow, with every event delivered once, in order. One cluster for the file (it takes
 * seconds to start); the failover goes last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DataEvent } from '@qx/protocol';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { EventLog } from '../../src/store/sqlite/event-log.js';
import { RedisBus } from '../../src/backplane/redis/shared/redis-bus.js';
import { BusOutbox } from '../../src/backplane/redis/shared/bus-outbox.js';
import { CommandQueue } from '../../src/backplane/redis/shared/command-queue.js';
import { RoomSubscriptions } from '../../src/backplane/redis/gateway/room-subscriptions.js';
import { StreamSequencer, type SequencedEvent } from '../../src/backplane/redis/gateway/stream-sequencer.js';
import { ClusterPresence, presenceKeys } from '../../src/backplane/redis/gateway/presence.js';
import { RedisSessionStore } from '../../src/backplane/redis/gateway/session-store.js';
import { ControlChannel, type ControlMessage } from '../../src/backplane/redis/gateway/control-channel.js';
import { busKeys, parseChannelMessage, type BusEvent, type BusMessage } from '../../src/backplane/redis/shared/bus-message.js';
import { redisClusterOrSkip, type RedisClusterTestServer } from '../redis-cluster-test-server.js';
import { sleep, until } from '../helpers.js';

const logger = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

const order = (stream: string, seq: number): BusEvent => ({
  room: stream,
  stream,
  seq,
  event: DataEvent.OrderUpdate,
  envelope: JSON.stringify({ type: 'ORDER_UPDATE', payload: { id: `${stream}-${seq}` }, seq }),
});

const tick = (commodity: string, seq: number, price: number): BusEvent => ({
  room: `market-${commodity}`,
  stream: `market-${commodity}`,
  seq,
  event: DataEvent.MarketUpdate,
  envelope: JSON.stringify({ type: 'MARKET_UPDATE', payload: { commodity, price }, seq }),
});

/** The engine's side: commit to the store first, then publish (what the store's commit returns). */
function committer(log: EventLog) {
  return (stream: string): BusEvent => {
    const { seq, envelope } = log.append(stream, DataEvent.OrderUpdate, Date.now(), (s) => JSON.stringify({ type: 'ORDER_UPDATE', payload: { id: `${stream}-${s}` }, seq: s }));
    return { room: stream, stream, seq, event: DataEvent.OrderUpdate, envelope };
  };
}

/** Streams named `<prefix>-<n>` until `count` of them are on distinct masters, one per master. */
async function streamsOnDistinctMasters(redis: RedisClusterTestServer, prefix: string, count: number): Promise<{ stream: string; master: number }[]> {
  const found = new Map<number, string>();
  for (let n = 0; found.size < count && n < 1000; n++) {
    const stream = `${prefix}-${n}`;
    const master = await redis.masterOf(busKeys.history(stream));
    if (!found.has(master)) found.set(master, stream);
  }
  return [...found].map(([master, stream]) => ({ stream, master }));
}

function assertExactlyOnce(delivered: readonly SequencedEvent[], stream: string, to: number): void {
  const seqs = delivered.filter((e) => e.stream === stream).map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: to }, (_, i) => i + 1), `${stream}: every seq 1..${to} once, in order`);
}

test('the Redis parts on a Redis Cluster', { timeout: 180_000 }, async (t) => {
  const redis = await redisClusterOrSkip(t);
  if (!redis) return;
  const probe = await redis.client();
  const [a, b, c] = (await streamsOnDistinctMasters(redis, 'orders-u', 3)) as [{ stream: string; master: number }, { stream: string; master: number }, { stream: string; master: number }];

  await t.test("a stream's keys and channel share one slot; streams spread over the masters", async () => {
    for (const stream of [a.stream, 'market-crude_oil', 'book-brent', 'system']) {
      const slots = await Promise.all(
        [busKeys.epoch(stream), busKeys.history(stream), busKeys.latest(stream), busKeys.channel(stream)].map(async (k) => Number(await probe.sendCommand(k, true, ['CLUSTER', 'KEYSLOT', k]))),
      );
      assert.equal(new Set(slots).size, 1, `${stream}: ${slots.join(',')}`);
    }
    assert.equal(busKeys.roomChannel('authenticated'), busKeys.channel('system'), 'system alerts: the system stream’s channel');
    assert.equal(new Set([a.master, b.master, c.master]).size, 3);
    assert.deepEqual([a.master, b.master, c.master].sort((x, y) => x - y), await redis.masters());
  });

  await t.test('publish: each stream on its shard, history complete, duplicates not sent again, SSUBSCRIBE delivery', async (t) => {
    const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
    t.after(() => bus.close());
    const seen: BusMessage[] = [];
    for (const { stream } of [a, b, c]) await probe.sSubscribe(busKeys.channel(stream), (m) => seen.push(parseChannelMessage(m)!));
    const batch = [1, 2, 3].flatMap((seq) => [a, b, c].map(({ stream }) => order(stream, seq)));
    const r = await bus.publish(batch);
    assert.deepEqual(r.statuses, Array(9).fill('added'));
    await until(() => seen.length === 9, 3000, 'nine messages');
    for (const { stream } of [a, b, c]) {
      assert.deepEqual(seen.filter((m) => m.stream === stream).map((m) => m.seq), [1, 2, 3], `${stream} in order`);
      const h = await bus.history(stream, 0, 10);
      assert.equal(h.complete, true);
      assert.deepEqual(h.events.map((e) => e.seq), [1, 2, 3]);
      assert.equal(h.epoch, bus.epochOf(stream));
      // the history lives on the stream's master
      const node = await redis.nodeClient(await redis.masterOf(busKeys.history(stream)));
      assert.equal(await node.xLen(busKeys.history(stream)), 3);
    }
    const again = await bus.publish([order(a.stream, 2), order(b.stream, 5), order(b.stream, 4)]);
    assert.deepEqual(again.statuses, ['duplicate', 'added', 'late']);
    await until(() => seen.length === 11, 3000, 'the new ones only');
    assert.deepEqual(seen.slice(9).map((m) => [m.stream, m.seq]), [
      [b.stream, 5],
      [b.stream, 4],
    ]);
    for (const sub of [a, b, c]) await probe.sUnsubscribe(busKeys.channel(sub.stream));
  });

  await t.test('the latest market update and book, per stream, on their shards; all of them by a scan of every master', async (t) => {
    const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
    t.after(() => bus.close());
    const commodities = ['crude_oil', 'brent', 'natural_gas', 'power', 'carbon'];
    await bus.publish(commodities.flatMap((commodity, i) => [tick(commodity, 1, 70 + i), tick(commodity, 2, 80 + i)]));
    const masters = new Set(await Promise.all(commodities.map((commodity) => redis.masterOf(busKeys.latest(`market-${commodity}`)))));
    assert.ok(masters.size >= 2, 'the commodities are spread over the shards');
    const all = await bus.marketLatest();
    assert.deepEqual([...all.keys()].sort(), commodities.map((c) => `market-${c}`).sort());
    assert.match(all.get('market-power')!.envelope, /"price":83/);
    const some = await bus.marketLatest(['market-brent', 'market-gold']);
    assert.deepEqual([...some.keys()], ['market-brent']);
    assert.equal(some.get('market-brent')!.seq, 2);

    const delta = (commodity: string, seq: number): BusEvent => ({
      room: `book-${commodity}`,
      stream: `book-${commodity}`,
      seq,
      event: 'book-delta',
      envelope: JSON.stringify({ commodity, seq }),
      state: JSON.stringify({ commodity, seq, bids: [], asks: [] }),
    });
    assert.deepEqual((await bus.publish([delta('crude_oil', 7), delta('carbon', 3)])).statuses, ['book', 'book']);
    assert.deepEqual(await bus.bookLatest(['book-carbon']), new Map([['book-carbon', JSON.stringify({ commodity: 'carbon', seq: 3, bids: [], asks: [] })]]));
    assert.deepEqual([...(await bus.bookLatest()).keys()].sort(), ['book-carbon', 'book-crude_oil']);
  });

  await t.test('sharded subscriptions on the master that owns each channel; a gap is filled from the history on its shard', async (t) => {
    const log = new EventLog(openDatabase(':memory:'));
    const commit = committer(log);
    const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
    t.after(() => bus.close());
    const delivered: SequencedEvent[] = [];
    let storeReads = 0;
    const seq = new StreamSequencer({
      logger,
      history: (s, after, limit) => bus.history(s, after, limit),
      fallback: (s, after, limit) => {
        storeReads++;
        return Promise.resolve(log.read(s, after, limit));
      },
      lastSeq: (s) => Promise.resolve(log.lastSeq(s)),
      deliver: (e) => delivered.push(e),
    });
    let received = 0;
    // every fifth message up to seq 35 is lost on its way (a pub/sub cut): the next one shows the gap, the sequencer fills it
    const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => (++received % 5 !== 0 || m.seq > 35) && seq.onMessage(m) });
    t.after(async () => {
      seq.close();
      await subs.close();
    });
    const streams = ['trading-s', 'compliance-s', 'orders-s'];
    for (const s of streams) {
      await subs.join(s);
      await subs.join(s);
      await seq.follow(s);
    }
    for (const s of streams) {
      const owner = await redis.nodeClient(await redis.masterOf(busKeys.channel(s)));
      const counts = (await owner.pubSubShardNumSub(busKeys.channel(s))) as Record<string, number>;
      assert.equal(Number(counts[busKeys.channel(s)]), 1, `${s}: one SSUBSCRIBE on its master for two sockets`);
    }
    for (let i = 0; i < 40; i++) await bus.publish(streams.map(commit));
    await until(() => streams.every((s) => seq.lastSeq(s) === 40), 5000, 'every stream caught up');
    for (const s of streams) assertExactlyOnce(delivered, s, 40);
    assert.ok(seq.stats.fromHistory > 0, 'gaps filled from the history');
    assert.equal(storeReads, 0, 'the history on each shard covered every gap');
    subs.leave(streams[0]!);
    subs.leave(streams[0]!);
    await until(() => !subs.isSubscribed(streams[0]!), 3000, 'unsubscribed');
  });

  await t.test('presence across shards: the limit holds over nodes, a dead node stops counting and its entries are cleared', async (t) => {
    // a lease long enough that a loaded machine's pauses do not count a live node dead
    const timing = { heartbeatMs: 100, leaseMs: 1000 };
    const x = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-x', ...timing });
    const yClient = await redis.client();
    const y = await ClusterPresence.open({ redis: yClient, logger, nodeId: 'gw-y', ...timing });
    t.after(() => x.close());
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    assert.ok(new Set(await Promise.all(users.map((u) => redis.masterOf(presenceKeys.user(u))))).size >= 2, 'the users are spread over the shards');
    for (const u of users) {
      assert.deepEqual(await x.tryAdd(u, `${u}-1`, 3), { ok: true, count: 1 });
      assert.deepEqual(await y.tryAdd(u, `${u}-2`, 3), { ok: true, count: 2 });
      assert.deepEqual(await x.tryAdd(u, `${u}-3`, 3), { ok: true, count: 3 });
      assert.deepEqual(await y.tryAdd(u, `${u}-4`, 3), { ok: false, count: 3 }, `${u}: the limit counts both nodes`);
    }
    const racers = await Promise.all(['gw-r1', 'gw-r2', 'gw-r3'].map((nodeId) => ClusterPresence.open({ redis: redis.url, logger, nodeId, ...timing })));
    for (const r of racers) t.after(() => r.close());
    const results = await Promise.all(racers.flatMap((r, i) => [1, 2, 3].map((k) => r.tryAdd('frank', `f${i}-${k}`, 4))));
    assert.equal(results.filter((r) => r.ok).length, 4, 'never more than the limit, whoever races');

    // y dies: its connections are gone, its heartbeat stops (nothing cleaned up by it)
    yClient.destroy();
    const killedAt = Date.now();
    for (const u of users) {
      const deadline = Date.now() + 3000;
      while ((await x.count(u)) !== 2) {
        assert.ok(Date.now() < deadline, `${u}: y's socket stops counting`);
        await sleep(25);
      }
    }
    assert.ok(Date.now() - killedAt >= 800, 'not before the lease ran out');
    const cleared = async () => {
      for (const u of users) if ((await probe.hGetAll(presenceKeys.user(u)))[`${u}-2`] !== undefined) return false;
      return (await probe.exists(presenceKeys.users('gw-y'))) === 0;
    };
    const deadline = Date.now() + 3000;
    while (!(await cleared())) {
      assert.ok(Date.now() < deadline, "y's entries cleared from every user's hash");
      await sleep(50);
    }
    assert.deepEqual(await x.liveNodes(), ['gw-r1', 'gw-r2', 'gw-r3', 'gw-x']);
    await y.close();
  });

  await t.test('sessions, the command queue and control messages across shards', async (t) => {
    const nodeA = await RedisSessionStore.open({ redis: redis.url, logger, refreshEveryMs: 200 });
    const nodeB = await RedisSessionStore.open({ redis: redis.url, logger });
    t.after(() => nodeA.close());
    t.after(() => nodeB.close());
    const pids = Array.from({ length: 6 }, (_, i) => `pid-${i}`);
    assert.deepEqual(await Promise.all(pids.map((pid) => nodeA.save(pid, { sid: `s-${pid}`, pid, rooms: ['authenticated'], data: {} }, 1000))), Array(6).fill(true));
    await sleep(1300); // longer than the TTL: the refresh (one command per key, each on its shard) kept them
    for (const pid of pids) assert.deepEqual(await nodeB.take(pid), { sid: `s-${pid}`, pid, rooms: ['authenticated'], data: {} });

    const engine = await CommandQueue.open({ redis: redis.url, logger, nodeId: 'engine-1' });
    const gateways = await Promise.all(['gw-1', 'gw-2', 'gw-3'].map((nodeId) => CommandQueue.open({ redis: redis.url, logger, nodeId })));
    t.after(() => engine.close());
    for (const g of gateways) t.after(() => g.close());
    engine.serve((command) => Promise.resolve('userId' in command ? `for ${command.userId}` : null));
    const replies = await Promise.all(gateways.map((g, i) => g.send({ type: 'positions', userId: `user-${i}` }, { timeoutMs: 3000 })));
    assert.deepEqual(replies, ['for user-0', 'for user-1', 'for user-2'], 'each reply on its gateway’s own sharded channel');
    const stopping = Date.now();
    await engine.stop();
    assert.ok(Date.now() - stopping < 2500, 'stop wakes the blocked pop on the list’s master');

    const seen: Record<string, ControlMessage[]> = { n1: [], n2: [] };
    const nodes = await Promise.all(['n1', 'n2'].map((nodeId) => ControlChannel.open({ redis: redis.url, logger, nodeId, onMessage: (m) => seen[nodeId]!.push(m) })));
    for (const n of nodes) t.after(() => n.close());
    assert.equal(await nodes[0]!.send({ type: 'disconnect-user', userId: 'mallory', code: 'TOKEN_REVOKED' }), true);
    await until(() => seen['n2']!.length === 1, 3000, 'the other node hears it');
    assert.equal(seen['n1']!.length, 1);
  });

  await t.test('a master killed (kill -9) and failed over to its replica while events flow: every event once, in order', async (t) => {
    const log = new EventLog(openDatabase(':memory:'));
    const commit = committer(log);
    const engineBus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
    const gatewayBus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
    const outbox = new BusOutbox({ publish: (events) => engineBus.publish(events), logger });
    t.after(async () => {
      outbox.close();
      await engineBus.close();
      await gatewayBus.close();
    });
    const followed = (await streamsOnDistinctMasters(redis, 'orders-f', 3)).map((s) => s.stream);
    const victim = followed[0]!;
    const victimMaster = await redis.masterOf(busKeys.history(victim));
    const delivered: (SequencedEvent & { at: number })[] = [];
    const seq = new StreamSequencer({
      logger,
      history: (s, after, limit) => gatewayBus.history(s, after, limit),
      fallback: (s, after, limit) => Promise.resolve(log.read(s, after, limit)),
      lastSeq: (s) => Promise.resolve(log.lastSeq(s)),
      deliver: (e) => delivered.push({ ...e, at: Date.now() }),
    });
    const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => seq.onMessage(m), onResubscribed: (rooms) => (rooms ? rooms.forEach((r) => seq.recheck(r)) : seq.recheck()) });
    t.after(async () => {
      seq.close();
      await subs.close();
    });
    for (const s of followed) {
      await subs.join(s);
      await seq.follow(s);
    }
    let stop = false;
    let rounds = 0;
    const producer = (async () => {
      while (!stop) {
        outbox.publish(followed.map(commit));
        rounds++;
        await sleep(10);
      }
    })();
    await until(() => rounds >= 100, 10_000, 'a hundred rounds before the kill');
    const seqAtKill = log.lastSeq(victim);
    const killedAt = Date.now();
    await redis.kill(victimMaster);
    const newMaster = await redis.waitForFailover(victimMaster, busKeys.history(victim));
    const failedOverAt = Date.now();
    // events flow on the new master for a while: 50 of the failed shard's stream committed since, delivered
    const seqAtFailover = log.lastSeq(victim);
    await until(() => delivered.filter((e) => e.stream === victim && e.seq > seqAtFailover).length >= 50, 20_000, "the failed shard's stream flowing on its new master");
    stop = true;
    await producer;
    const total = log.lastSeq(victim);
    await until(() => followed.every((s) => seq.lastSeq(s) === total), 20_000, 'every stream caught up');
    await seq.idle();
    for (const s of followed) assertExactlyOnce(delivered, s, total);
    assert.equal(seq.stats.lost, 0);
    await outbox.idle(10_000);
    assert.equal(outbox.size, 0, 'the outbox published everything once the replica took over');
    // the other shards' streams kept flowing while the failed one's was being taken over
    for (const s of followed.slice(1)) {
      const during = delivered.filter((e) => e.stream === s && e.seq > seqAtKill && e.at < failedOverAt);
      assert.ok(during.length > 0, `${s} (another shard): events delivered during the failover`);
    }
    // how long the failed shard's stream paused at the follower: the longest time between two of its events
    const times = delivered.filter((e) => e.stream === victim).map((e) => e.at);
    const paused = Math.max(...times.slice(1).map((at, i) => at - times[i]!));
    const otherGaps = followed.slice(1).map((s) => {
      const at = delivered.filter((e) => e.stream === s).map((e) => e.at);
      return Math.max(...at.slice(1).map((x, i) => x - at[i]!));
    });
    // the history on the new master goes on where the replica's copy ended
    const h = await gatewayBus.history(victim, total - 3, 10);
    assert.deepEqual(h.events.map((e) => e.seq), [total - 2, total - 1, total]);
    assert.equal(h.complete, true);
    t.diagnostic(
      `master :${victimMaster} killed, replica :${newMaster} serving after ${failedOverAt - killedAt} ms; ` +
        `the failed shard's stream paused ${paused} ms, the others at most ${Math.max(...otherGaps)} ms; ` +
        `${total} events per stream; ${seq.stats.fromHistory} from history, ${seq.stats.fromStore} from the store, ${seq.stats.duplicates} copies dropped by the sequencer`,
    );
  });
});
