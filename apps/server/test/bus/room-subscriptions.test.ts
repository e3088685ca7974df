/**
 * RoomSubscriptions against a redis-server of its own: the first local socket subscribes the
 * node, the last one out unsubscribes it, interleaved joins and leaves settle on the right state,
 * and a dropped subscriber connection comes back subscribed (and says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DataEvent } from '@qx/protocol';
import { RoomSubscriptions } from '../../src/backplane/redis/gateway/room-subscriptions.js';
import { RedisBus } from '../../src/backplane/redis/shared/redis-bus.js';
import { busKeys, type BusMessage } from '../../src/backplane/redis/shared/bus-message.js';
import { redisServerOrSkip, type RedisTestServer } from '../redis-test-server.js';
import { sleep, until } from '../helpers.js';

const logger = pino({ level: 'silent' });

async function numsub(redis: RedisTestServer, room: string): Promise<number> {
  const probe = await redis.client();
  const reply = await probe.pubSubShardNumSub(busKeys.roomChannel(room));
  return Number(reply[busKeys.roomChannel(room)] ?? 0);
}

const alert = (room: string, stream: string, seq: number) => ({
  room,
  stream,
  seq,
  event: DataEvent.ComplianceAlert,
  envelope: JSON.stringify({ type: 'SYSTEM_ALERT', seq }),
});

test('refcounted: subscribed while any local socket is in the room, and only then', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const seen: BusMessage[] = [];
  const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => seen.push(m) });
  t.after(() => subs.close());
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());

  await subs.join('compliance-a');
  await subs.join('compliance-a');
  assert.equal(subs.count('compliance-a'), 2);
  assert.equal(await numsub(redis, 'compliance-a'), 1, 'one SUBSCRIBE for two sockets');
  await bus.publish([alert('compliance-a', 'compliance-a', 1), alert('compliance-b', 'compliance-b', 1)]);
  await until(() => seen.length === 1, 3000, 'the joined room only');
  assert.equal(seen[0]!.room, 'compliance-a');

  subs.leave('compliance-a');
  await sleep(50);
  assert.equal(await numsub(redis, 'compliance-a'), 1, 'one socket left: still subscribed');
  subs.leave('compliance-a');
  await until(() => !subs.isSubscribed('compliance-a'), 3000, 'unsubscribed');
  assert.equal(await numsub(redis, 'compliance-a'), 0);
  subs.leave('compliance-a'); // one leave too many is harmless
  assert.equal(subs.count('compliance-a'), 0);
  await bus.publish([alert('compliance-a', 'compliance-a', 2)]);
  await sleep(100);
  assert.equal(seen.length, 1, 'nothing after the last socket left');
  assert.deepEqual(subs.joined(), []);
});

test('interleaved joins and leaves settle on the wanted state', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: () => {} });
  t.after(() => subs.close());
  const joins: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    joins.push(subs.join('orders-x'));
    if (i % 2 === 0) subs.leave('orders-x');
    joins.push(subs.join('orders-y'));
    subs.leave('orders-y');
  }
  await Promise.all(joins);
  await until(() => subs.isSubscribed('orders-x') && !subs.isSubscribed('orders-y'), 3000, 'settled');
  assert.equal(subs.count('orders-x'), 25);
  assert.equal(await numsub(redis, 'orders-x'), 1);
  assert.equal(await numsub(redis, 'orders-y'), 0);
});

test('a dropped subscriber connection resubscribes by itself and reports it', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const seen: BusMessage[] = [];
  let resubscribed = 0;
  const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => seen.push(m), onResubscribed: () => resubscribed++ });
  t.after(() => subs.close());
  const bus = await RedisBus.open({ redis: redis.url, logger, historyMaxLen: 100, historyTtlSeconds: 60 });
  t.after(() => bus.close());
  await subs.join('trading-z');

  const admin = await redis.client();
  await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  await until(() => resubscribed === 1, 5000, 'resubscribed');
  await bus.publish([alert('trading-z', 'trading-z', 1)]);
  await until(() => seen.length === 1, 3000, 'a message after the reconnect');

  // and after a Redis restart, too
  await redis.restart();
  await until(() => resubscribed === 2, 5000, 'resubscribed after a restart');
  await bus.publish([alert('trading-z', 'trading-z', 2)]);
  await until(() => seen.length === 2, 3000, 'a message after the restart');
  assert.equal(await numsub(redis, 'trading-z'), 1);
});

test('malformed messages on a room channel are dropped, not delivered', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const seen: BusMessage[] = [];
  const subs = await RoomSubscriptions.open({ redis: redis.url, logger, onMessage: (m) => seen.push(m) });
  t.after(() => subs.close());
  await subs.join('orders-m');
  const raw = await redis.client();
  const channel = busKeys.roomChannel('orders-m');
  await raw.sPublish(channel, 'junk');
  await raw.sPublish(channel, 'e1\n["orders-m","orders-m",0,"order-update"]\n{}');
  await raw.sPublish(channel, 'e1\n["orders-other","orders-m",1,"order-update"]\n{}');
  await raw.sPublish(channel, 'e1\n["orders-m","orders-m",1,"not-an-event"]\n{}');
  await raw.sPublish(channel, 'e1\n["orders-m","orders-m",1,"order-update"]\n{"ok":true}');
  await until(() => seen.length === 1, 3000, 'the good one');
  assert.equal(subs.malformed, 4);
  assert.equal(seen[0]!.envelope, '{"ok":true}');
});
