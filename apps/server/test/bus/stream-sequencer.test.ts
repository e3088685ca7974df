/**
 * StreamSequencer against a redis-server of its own and a real store (the SQLite event log, the
 * same reads PostgreSQL answers in a cluster): in-order exactly-once delivery, gaps filled from the
 * Redis history and, where it does not reach, from the store; duplicates dropped; and the failure
 * paths — a Redis restart mid-stream, a subscriber that misses messages while reconnecting, a
 * store read that fails — losing and duplicating nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DataEvent } from '@qx/protocol';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { EventLog } from '../../src/store/sqlite/event-log.js';
import { RedisBus } from '../../src/backplane/redis/shared/redis-bus.js';
import { RoomSubscriptions } from '../../src/backplane/redis/gateway/room-subscriptions.js';
import { StreamSequencer, type SequencedEvent, type StreamSequencerOptions } from '../../src/backplane/redis/gateway/stream-sequencer.js';
import { busKeys, parseChannelMessage, type BusEvent, type BusMessage } from '../../src/backplane/redis/shared/bus-message.js';
import { redisServerOrSkip, type RedisTestServer } from '../redis-test-server.js';
import { sleep, until } from '../helpers.js';

const logger = pino({ level: 'silent' });

/** The engine's side: commit to the store first, then publish (what the store's commit returns). */
function engine(log: EventLog) {
  return {
    commit(stream: string, count = 1): BusEvent[] {
      const out: BusEvent[] = [];
      for (let i = 0; i < count; i++) {
        const { seq, envelope } = log.append(stream, DataEvent.OrderUpdate, Date.now(), (seq) =>
          JSON.stringify({ type: 'ORDER_UPDATE', payload: { id: `${stream}-${seq}` }, seq }),
        );
        out.push({ room: stream, stream, seq, event: DataEvent.OrderUpdate, envelope });
      }
      return out;
    },
  };
}

interface Gateway {
  delivered: SequencedEvent[];
  seq: StreamSequencer;
  subs: RoomSubscriptions;
  storeReads: { n: number };
}

/** A gateway's half: room subscriptions feeding a sequencer that falls back to the store. */
async function gateway(t: TestContext, redis: RedisTestServer, bus: RedisBus, log: EventLog, extra: Partial<StreamSequencerOptions> = {}): Promise<Gateway> {
  const delivered: SequencedEvent[] = [];
  const storeReads = { n: 0 };
  const seq = new StreamSequencer({
    logger,
    history: (s, after, limit) => bus.history(s, after, limit),
    fallback: (s, after, limit) => {
      storeReads.n++;
      return Promise.resolve(log.read(s, after, limit));
    },
    lastSeq: (s) => Promise.resolve(log.lastSeq(s)),
    deliver: (e) => delivered.push(e),
    pageSize: 50,
    ...extra,
  });
  const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => seq.onMessage(m), onResubscribed: () => seq.recheck() });
  t.after(async () => {
    seq.close();
    await subs.close();
  });
  return { delivered, seq, subs, storeReads };
}

function assertExactlyOnce(delivered: readonly SequencedEvent[], stream: string, from: number, to: number): void {
  const seqs = delivered.filter((e) => e.stream === stream).map((e) => e.seq);
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  assert.deepEqual(seqs, expected, `${stream}: every seq ${from}..${to} once, in order`);
}

async function openBus(t: TestContext, redis: RedisTestServer, historyMaxLen = 1000): Promise<RedisBus> {
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  return bus;
}

/** Raw channel messages, to feed a sequencer by hand (dropping some, repeating others). */
async function tap(redis: RedisTestServer, room: string): Promise<BusMessage[]> {
  const sub = await redis.client();
  const seen: BusMessage[] = [];
  await sub.sSubscribe(busKeys.roomChannel(room), (m) => {
    const msg = parseChannelMessage(m);
    if (msg) seen.push(msg);
  });
  return seen;
}

test('follow + live: in order, once; duplicates dropped; a gap is filled from the Redis history', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const bus = await openBus(t, redis);
  await bus.publish(eng.commit('orders-a', 3)); // before anyone follows: the caller's to replay
  const seen = await tap(redis, 'orders-a');
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
  t.after(() => seq.close());
  assert.equal(await seq.follow('orders-a'), 3, 'starts after what the store holds');

  await bus.publish(eng.commit('orders-a', 6)); // 4..9
  await until(() => seen.length === 6, 3000, 'six messages');
  const [m4, m5, m6, m7, m8, m9] = seen as [BusMessage, BusMessage, BusMessage, BusMessage, BusMessage, BusMessage];
  seq.onMessage(m4);
  seq.onMessage(m4); // duplicate
  seq.onMessage(m8); // gap: 5..7 missing
  seq.onMessage(m6); // arrives while the gap is being filled
  seq.onMessage(m9);
  await seq.idle();
  seq.onMessage(m5); // late duplicate
  seq.onMessage(m7);
  assertExactlyOnce(delivered, 'orders-a', 4, 9);
  assert.equal(storeReads, 0, 'the history covered the gap');
  assert.ok(seq.stats.fromHistory >= 1);
  assert.equal(seq.stats.duplicates >= 3, true);
  assert.deepEqual([...new Set(delivered.map((e) => e.room))], ['orders-a']);
  assert.equal(delivered[0]!.envelope, m4.envelope);
  assert.equal(seq.lastSeq('orders-a'), 9);
  assert.equal(seq.stats.lost, 0);
});

test('a gap older than the history (trimmed) is read from the store', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const bus = await openBus(t, redis, 10);
  const seen = await tap(redis, 'orders-b');
  const delivered: SequencedEvent[] = [];
  const seq = new StreamSequencer({
    logger,
    history: (s, after, limit) => bus.history(s, after, limit),
    fallback: (s, after, limit) => Promise.resolve(log.read(s, after, limit)),
    deliver: (e) => delivered.push(e),
    pageSize: 40,
  });
  t.after(() => seq.close());
  await seq.follow('orders-b', { lastSeq: 0 });
  for (let i = 0; i < 6; i++) await bus.publish(eng.commit('orders-b', 50)); // 1..300; MAXLEN ~10 keeps the tail
  await until(() => seen.length === 300, 5000, 'all messages');
  seq.onMessage(seen[299]!); // only the last one arrives
  await seq.idle();
  assertExactlyOnce(delivered, 'orders-b', 1, 300);
  assert.ok(seq.stats.fromStore >= 250, `from the store: ${seq.stats.fromStore}`);
  assert.equal(seq.stats.lost, 0);
});

test('Redis restart mid-stream: the sequencer falls back to the store; no event lost, none duplicated', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const bus = await openBus(t, redis);
  const gw = await gateway(t, redis, bus, log);
  const streams = ['orders-r1', 'orders-r2', 'trading-r1'];
  for (const s of streams) {
    await gw.subs.join(s);
    await gw.seq.follow(s);
  }
  const epochs = new Set<string>();
  let publishFailures = 0;
  const total = 300;
  const producer = (async () => {
    for (let i = 1; i <= total; i++) {
      const batch = streams.flatMap((s) => eng.commit(s));
      try {
        epochs.add((await bus.publish(batch)).epoch);
      } catch {
        publishFailures++; // committed, not published: the gateways must find it in the store
      }
      if (i % 10 === 0) await sleep(5);
    }
  })();
  await until(() => gw.delivered.length >= 150, 10_000, 'half the stream');
  await redis.restart({ downMs: 200 });
  await producer;
  await until(() => streams.every((s) => gw.seq.lastSeq(s) === total), 15_000, 'every stream caught up');
  await gw.seq.idle();
  for (const s of streams) assertExactlyOnce(gw.delivered, s, 1, total);
  assert.equal(epochs.size, 2, 'the restart gave Redis a new epoch');
  assert.ok(gw.seq.stats.fromStore > 0, 'the store filled what Redis lost');
  assert.equal(gw.seq.stats.lost, 0);
  t.diagnostic(`delivered ${gw.delivered.length} events; ${gw.seq.stats.fromStore} from the store, ${gw.seq.stats.fromHistory} from history; ${publishFailures} publishes failed`);
});

test('a subscriber that misses messages while reconnecting re-checks and fills the gap', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const bus = await openBus(t, redis);
  const gw = await gateway(t, redis, bus, log);
  await gw.subs.join('orders-k');
  await gw.seq.follow('orders-k');
  const admin = await redis.client();
  const total = 400;
  for (let i = 1; i <= total; i++) {
    await bus.publish(eng.commit('orders-k'));
    // drop the gateway's subscriber connection twice while the burst goes on
    if (i === 100 || i === 250) await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  }
  await until(() => gw.seq.lastSeq('orders-k') === total, 10_000, 'caught up');
  await gw.seq.idle();
  assertExactlyOnce(gw.delivered, 'orders-k', 1, total);
  const filled = gw.delivered.filter((e) => e.source !== 'bus').length;
  assert.ok(filled > 0, 'some were filled in rather than received');
  assert.equal(gw.seq.stats.lost, 0);
  t.diagnostic(`${filled} of ${total} events filled from history/store after two subscriber reconnects`);
});

test('a store read that fails is retried; nothing is skipped', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const bus = await openBus(t, redis);
  const seen = await tap(redis, 'orders-f');
  let failuresLeft = 3;
  const delivered: SequencedEvent[] = [];
  const seq = new StreamSequencer({
    logger,
    fallback: (s, after, limit) => {
      if (failuresLeft-- > 0) return Promise.reject(new Error('connection to the store refused'));
      return Promise.resolve(log.read(s, after, limit));
    },
    deliver: (e) => delivered.push(e),
  });
  t.after(() => seq.close());
  await seq.follow('orders-f', { lastSeq: 0 });
  await bus.publish(eng.commit('orders-f', 20));
  await until(() => seen.length === 20, 3000, 'messages');
  seq.onMessage(seen[19]!); // a gap of 19, and no history reader: the store must fill it
  for (const m of seen.slice(0, 19)) seq.onMessage(m); // arrive late, while the store is failing
  await seq.idle(10_000);
  assertExactlyOnce(delivered, 'orders-f', 1, 20);

  // a gap only the store can fill, while it fails
  const errorsBefore = seq.stats.readErrors;
  failuresLeft = 2;
  await bus.publish(eng.commit('orders-f', 5)); // 21..25
  await until(() => seen.length === 25, 3000, 'messages');
  seq.onMessage(seen[24]!);
  await seq.idle(10_000);
  assertExactlyOnce(delivered, 'orders-f', 1, 25);
  assert.equal(seq.stats.readErrors - errorsBefore, 2, 'two failed reads, retried');
});

test('seqs the store no longer has (pruned) are passed over and counted, not waited for', { timeout: 60_000 }, async (t) => {
  const db = openDatabase(':memory:');
  const log = new EventLog(db);
  const eng = engine(log);
  eng.commit('orders-p', 10);
  db.prepare('DELETE FROM events WHERE stream = ? AND seq BETWEEN 2 AND 4').run('orders-p');
  const delivered: SequencedEvent[] = [];
  const seq = new StreamSequencer({ logger, fallback: (s, a, l) => Promise.resolve(log.read(s, a, l)), deliver: (e) => delivered.push(e) });
  t.after(() => seq.close());
  await seq.follow('orders-p', { lastSeq: 0 });
  const [last] = log.read('orders-p', 9, 1);
  seq.onMessage({ ...last!, room: 'orders-p', epoch: 'e' });
  await seq.idle();
  assert.deepEqual(delivered.map((e) => e.seq), [1, 5, 6, 7, 8, 9, 10]);
  assert.equal(seq.stats.lost, 3);
});

test('messages that arrive while the starting seq is read are held, then delivered in order', { timeout: 60_000 }, async (t) => {
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const committed = eng.commit('orders-s', 5);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const delivered: SequencedEvent[] = [];
  const seq = new StreamSequencer({
    logger,
    fallback: (s, a, l) => Promise.resolve(log.read(s, a, l)),
    lastSeq: async (s) => {
      await gate;
      return log.lastSeq(s) - 2; // the store said 3 when it was read
    },
    deliver: (e) => delivered.push(e),
  });
  t.after(() => seq.close());
  const started = seq.follow('orders-s');
  for (const e of committed.slice(2).reverse()) seq.onMessage({ ...e, epoch: 'e' }); // 5, 4, 3
  assert.equal(delivered.length, 0);
  release();
  assert.equal(await started, 3);
  await seq.idle();
  assert.deepEqual(delivered.map((e) => e.seq), [4, 5]);
});

test('a lossy (market) stream drops stale and duplicate ticks and does not fill gaps', { timeout: 60_000 }, async (t) => {
  const seq = new StreamSequencer({ logger, fallback: () => Promise.reject(new Error('never read')), deliver: (e) => delivered.push(e) });
  const delivered: SequencedEvent[] = [];
  t.after(() => seq.close());
  await seq.follow('market-crude_oil', { lastSeq: 10, lossy: true });
  const tick = (s: number): BusMessage => ({ room: 'market-crude_oil', stream: 'market-crude_oil', seq: s, event: DataEvent.MarketUpdate, envelope: `{"seq":${s}}`, epoch: 'e' });
  for (const s of [11, 14, 14, 12, 15, 20]) seq.onMessage(tick(s));
  seq.recheck();
  await seq.idle();
  assert.deepEqual(delivered.map((e) => e.seq), [11, 14, 15, 20]);
  assert.equal(seq.stats.readErrors, 0);
});

test('a history read that fails (Redis away) falls back to the store at once', { timeout: 60_000 }, async (t) => {
  const log = new EventLog(openDatabase(':memory:'));
  const eng = engine(log);
  const committed = eng.commit('orders-h', 8);
  const delivered: SequencedEvent[] = [];
  const seq = new StreamSequencer({
    logger,
    history: () => Promise.reject(new Error('connection refused')),
    fallback: (s, a, l) => Promise.resolve(log.read(s, a, l)),
    deliver: (e) => delivered.push(e),
  });
  t.after(() => seq.close());
  await seq.follow('orders-h', { lastSeq: 0 });
  seq.onMessage({ ...committed[7]!, epoch: 'e' });
  await seq.idle();
  assertExactlyOnce(delivered, 'orders-h', 1, 8);
  assert.equal(seq.stats.readErrors, 0, 'not an error: the store answered');
  assert.equal(seq.stats.fromStore, 7);
});
