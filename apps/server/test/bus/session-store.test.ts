/**
 * RedisSessionStore against a redis-server of its own: saved on every change with the recovery
 * window as TTL, taken once (atomically) by whichever node the client comes back to, kept alive
 * while the socket is connected, and written again after Redis lost it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { RedisSessionStore, sessionKey, type StoredSession } from '../../src/backplane/redis/gateway/session-store.js';
import { redisServerOrSkip } from '../redis-test-server.js';
import { sleep } from '../helpers.js';

const logger = pino({ level: 'silent' });
const session = (pid: string, rooms: string[]): StoredSession => ({ sid: `sid-${pid}`, pid, rooms, data: { userId: 'u1', lastSeqs: { 'orders-u1': 7 } } });

test('save on every change, newest wins; take on another node returns it once', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const nodeA = await RedisSessionStore.open({ redis: redis.url, logger });
  const nodeB = await RedisSessionStore.open({ redis: redis.url, logger });
  t.after(() => nodeA.close());
  t.after(() => nodeB.close());

  // a burst of changes: coalesced, and the last one is what Redis holds
  const saves = [['authenticated'], ['authenticated', 'orders-u1'], ['authenticated', 'orders-u1', 'market-crude_oil']].map((rooms) => nodeA.save('p1', session('p1', rooms), 60_000));
  assert.deepEqual(await Promise.all(saves), [true, true, true]);
  const probe = await redis.client();
  const ttl = await probe.pTTL(sessionKey('p1'));
  assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);

  // node A is killed (nothing more from it); the client lands on node B
  const taken = await nodeB.take('p1');
  assert.deepEqual(taken, session('p1', ['authenticated', 'orders-u1', 'market-crude_oil']));
  assert.equal(await nodeB.take('p1'), null, 'a session is restored once');
  assert.equal(await nodeA.take('p1'), null);
});

test('two nodes taking the same session at once: exactly one gets it', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const stores = await Promise.all([1, 2, 3].map(() => RedisSessionStore.open({ redis: redis.url, logger })));
  for (const s of stores) t.after(() => s.close());
  for (let i = 0; i < 20; i++) {
    await stores[0]!.save(`race-${i}`, session(`race-${i}`, ['authenticated']), 60_000);
    const got = await Promise.all(stores.map((s) => s.take(`race-${i}`)));
    assert.equal(got.filter((g) => g !== null).length, 1);
  }
});

test('the TTL runs once the socket is gone; a connected socket keeps its session alive', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const store = await RedisSessionStore.open({ redis: redis.url, logger, refreshEveryMs: 100 });
  t.after(() => store.close());
  const other = await RedisSessionStore.open({ redis: redis.url, logger });
  t.after(() => other.close());
  await store.save('gone', session('gone', ['authenticated']), 2000, { connected: false });
  await store.save('here', session('here', ['authenticated']), 2000);
  await sleep(2500);
  assert.equal(await other.take('gone'), null, 'expired after the window');
  assert.deepEqual(await other.take('here'), session('here', ['authenticated']), 'kept alive while connected');
});

test('after a Redis restart, connected sockets’ sessions are written again', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const store = await RedisSessionStore.open({ redis: redis.url, logger, refreshEveryMs: 100 });
  t.after(() => store.close());
  await store.save('s1', session('s1', ['authenticated', 'trading-u1']), 60_000);
  await redis.restart();
  const probe = await redis.client();
  const deadline = Date.now() + 5000;
  while ((await probe.exists(sessionKey('s1'))) === 0) {
    assert.ok(Date.now() < deadline, 'session written again within 5 s');
    await sleep(50);
  }
  const other = await RedisSessionStore.open({ redis: redis.url, logger });
  t.after(() => other.close());
  assert.deepEqual(await other.take('s1'), session('s1', ['authenticated', 'trading-u1']));
});

test('malformed stored sessions and bad input are refused, not crashed on', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const store = await RedisSessionStore.open({ redis: redis.url, logger });
  t.after(() => store.close());
  const probe = await redis.client();
  await probe.set(sessionKey('bad1'), 'not json');
  await probe.set(sessionKey('bad2'), JSON.stringify({ sid: 's', pid: 'other', rooms: [] }));
  await probe.set(sessionKey('bad3'), JSON.stringify({ sid: 's', pid: 'bad3', rooms: [1] }));
  assert.equal(await store.take('bad1'), null);
  assert.equal(await store.take('bad2'), null);
  assert.equal(await store.take('bad3'), null);
  await assert.rejects(store.save('x', session('x', []), 0), /bad ttlMs/);
  await store.save('d', session('d', []), 60_000);
  await store.drop('d');
  assert.equal(await store.take('d'), null);
});

test('take while Redis is down answers null in bounded time (the client starts a new session)', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const store = await RedisSessionStore.open({ redis: redis.url, logger, timeoutMs: 300 });
  t.after(() => store.close());
  await redis.crash();
  const started = Date.now();
  assert.equal(await store.take('any'), null);
  assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
  assert.equal(await store.save('any', session('any', []), 1000), false, 'a save that cannot be written says so');
  await redis.startAgain();
});
