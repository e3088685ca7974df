/**
 * RedisBus against a redis-server of its own: history + publish in one script, duplicates and
 * late publishes, MAXLEN and TTL, the market snapshot hash, and the epoch after a Redis restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DataEvent, ServerEvent } from '@qx/protocol';
import { RedisBus } from '../../src/backplane/redis/shared/redis-bus.js';
import { busKeys, parseChannelMessage, type BusEvent, type BusMessage } from '../../src/backplane/redis/shared/bus-message.js';
import { redisServerOrSkip, type RedisTestServer } from '../redis-test-server.js';
import { until } from '../helpers.js';

const logger = pino({ level: 'silent' });

const order = (userId: string, seq: number): BusEvent => ({
  room: `orders-${userId}`,
  stream: `orders-${userId}`,
  seq,
  event: DataEvent.OrderUpdate,
  envelope: JSON.stringify({ type: 'ORDER_UPDATE', payload: { id: `o-${seq}`, text: 'a\nb "quoted"' }, seq, userId }),
});

async function listen(redis: RedisTestServer, room: string): Promise<{ seen: BusMessage[] }> {
  const sub = await redis.client();
  const seen: BusMessage[] = [];
  await sub.sSubscribe(busKeys.roomChannel(room), (m) => {
    const msg = parseChannelMessage(m);
    if (msg) seen.push(msg);
  });
  return { seen };
}

test('publish: history and channel in one script; history reads back complete, envelopes intact', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  const l = await listen(redis, 'orders-u1');

  const events = [1, 2, 3, 4, 5].map((s) => order('u1', s));
  const r = await bus.publish(events);
  assert.deepEqual(r.statuses, ['added', 'added', 'added', 'added', 'added']);
  assert.match(r.epoch, /^[0-9a-f]{16}$/);
  await until(() => l.seen.length === 5, 3000, 'five channel messages');
  assert.deepEqual(l.seen.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.ok(l.seen.every((m) => m.epoch === r.epoch && m.room === 'orders-u1' && m.event === DataEvent.OrderUpdate));
  assert.equal(l.seen[2]!.envelope, events[2]!.envelope);

  const all = await bus.history('orders-u1', 0, 100);
  assert.equal(all.complete, true);
  assert.equal(all.epoch, r.epoch);
  assert.deepEqual(all.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.equal(all.events[4]!.envelope, events[4]!.envelope);
  assert.equal(all.events[0]!.room, 'orders-u1');

  const page = await bus.history('orders-u1', 1, 2);
  assert.deepEqual(page.events.map((e) => e.seq), [2, 3]);
  assert.equal(page.complete, true, 'a full page is complete');
  const atTop = await bus.history('orders-u1', 5, 10);
  assert.deepEqual(atTop, { epoch: r.epoch, events: [], complete: true });
  const beyondTop = await bus.history('orders-u1', 7, 10);
  assert.equal(beyondTop.complete, false, 'the caller knows of more than the history holds');
  const unknown = await bus.history('orders-nobody', 0, 10);
  assert.equal(unknown.complete, false, 'no history at all: cannot vouch');

  // the TTL is set on the history key
  const probe = await redis.client();
  const ttl = await probe.ttl(busKeys.history('orders-u1'));
  assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
});

test('publish: a duplicate is neither kept nor sent again; a late one is sent but not kept', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 1000, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  const l = await listen(redis, 'orders-u2');

  await bus.publish([order('u2', 1), order('u2', 2), order('u2', 4)]);
  const again = await bus.publish([order('u2', 2), order('u2', 3), order('u2', 5)]);
  assert.deepEqual(again.statuses, ['duplicate', 'late', 'added']);
  await until(() => l.seen.length === 5, 3000, 'five channel messages');
  assert.deepEqual(l.seen.map((m) => m.seq), [1, 2, 4, 3, 5], 'the duplicate 2 was not sent again');

  // seq 3 is not in the history (below its top when it came): the history stops before the hole
  const h = await bus.history('orders-u2', 0, 10);
  assert.deepEqual(h.events.map((e) => e.seq), [1, 2]);
  assert.equal(h.complete, false);
  const after3 = await bus.history('orders-u2', 3, 10);
  assert.deepEqual(after3.events.map((e) => e.seq), [4, 5]);
  assert.equal(after3.complete, true);
});

test('publish: MAXLEN trims old entries; a range older than the history is not complete', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 10, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  for (let s = 1; s <= 600; s += 50) await bus.publish(Array.from({ length: 50 }, (_, i) => order('u3', s + i)));
  const probe = await redis.client();
  const len = await probe.xLen(busKeys.history('orders-u3'));
  assert.ok(len >= 10 && len < 600, `trimmed to ${len}`);
  const old = await bus.history('orders-u3', 0, 10);
  assert.equal(old.complete, false);
  assert.deepEqual(old.events, []);
  const recent = await bus.history('orders-u3', 595, 10);
  assert.deepEqual(recent.events.map((e) => e.seq), [596, 597, 598, 599, 600]);
  assert.equal(recent.complete, true);
});

test('market updates: no history, the latest per stream in a hash, sent on the channel', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  const l = await listen(redis, 'market-crude_oil');
  const tick = (commodity: string, seq: number, price: number): BusEvent => ({
    room: `market-${commodity}`,
    stream: `market-${commodity}`,
    seq,
    event: DataEvent.MarketUpdate,
    envelope: JSON.stringify({ type: 'MARKET_UPDATE', payload: { commodity, price }, seq }),
  });
  const r = await bus.publish([tick('crude_oil', 1, 75), tick('crude_oil', 2, 76), tick('brent', 1, 80)]);
  assert.deepEqual(r.statuses, ['market', 'market', 'market']);
  await until(() => l.seen.length === 2, 3000, 'two ticks');
  const latest = await bus.marketLatest();
  assert.deepEqual([...latest.keys()].sort(), ['market-brent', 'market-crude_oil']);
  assert.equal(latest.get('market-crude_oil')!.seq, 2);
  assert.match(latest.get('market-crude_oil')!.envelope, /"price":76/);
  const some = await bus.marketLatest(['market-brent', 'market-gold']);
  assert.deepEqual([...some.keys()], ['market-brent']);
  const h = await bus.history('market-crude_oil', 0, 10);
  assert.deepEqual(h.events, []);
  assert.equal(h.complete, false);
});

test('market status is state like market data: the latest per stream kept, read back with the market streams a gateway asks for at start', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  const status = (seq: number, state: string): BusEvent => ({
    room: 'status-crude_oil',
    stream: 'status-crude_oil',
    seq,
    event: ServerEvent.MarketStatus,
    envelope: JSON.stringify({ type: 'MARKET_STATUS', payload: { commodity: 'crude_oil', status: state, seq }, seq }),
  });
  const r = await bus.publish([status(1, 'halted'), status(2, 'open'), status(3, 'halted')]);
  assert.deepEqual(r.statuses, ['market', 'market', 'market'], 'kept as the latest, not in a history');
  const latest = await bus.marketLatest(['market-crude_oil', 'status-crude_oil']);
  assert.deepEqual([...latest.keys()], ['status-crude_oil']);
  assert.equal(latest.get('status-crude_oil')!.seq, 3);
  assert.match(latest.get('status-crude_oil')!.envelope, /"status":"halted"/);
  assert.deepEqual([...(await bus.marketLatest()).keys()], ['status-crude_oil'], 'a scan finds status streams too');
  assert.deepEqual((await bus.history('status-crude_oil', 0, 10)).events, []);
});

test('a Redis restart is detected: the epoch changes and the old history is no longer vouched for', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  const first = await bus.publish([order('u4', 1), order('u4', 2)]);
  const changes: [string, string][] = [];
  bus.on('epoch-changed', (epoch, previous) => changes.push([epoch, previous]));

  await redis.restart();
  // the client reconnects by itself; nothing holds an epoch until the next publish
  assert.equal(await retry(() => bus.readEpoch()), '');
  const lost = await bus.history('orders-u4', 0, 10);
  assert.equal(lost.complete, false);
  const second = await bus.publish([order('u4', 3)]);
  assert.notEqual(second.epoch, first.epoch);
  assert.deepEqual(changes, [[second.epoch, first.epoch]]);
  const h = await bus.history('orders-u4', 0, 10);
  assert.equal(h.complete, false, 'seqs 1-2 are gone');
  assert.deepEqual(h.events, []);
  const tail = await bus.history('orders-u4', 2, 10);
  assert.deepEqual(tail.events.map((e) => e.seq), [3]);
  assert.equal(tail.complete, true);
});

test('publish rejects bad input with a clear error', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  await assert.rejects(bus.publish([{ ...order('u5', 1), seq: 0 }]), /bad seq 0/);
  await assert.rejects(bus.history('orders-u5', -1, 10), /bad afterSeq/);
  await assert.rejects(bus.history('orders-u5', 0, 0), /bad limit/);
  assert.deepEqual((await bus.publish([])).statuses, []);
});

/** Retries while the client is still reconnecting after a restart. */
async function retry<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
