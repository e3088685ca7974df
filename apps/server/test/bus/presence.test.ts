/**
 * ClusterPresence against a redis-server of its own: a user's sockets on several nodes count
 * together (a socket listed by two nodes once), the limit holds across nodes, a node that stops heartbeating stops counting, and a
 * node's counts come back after Redis lost them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createClient, type RedisClientType } from 'redis';
import { ClusterPresence } from '../../src/backplane/redis/gateway/presence.js';
import { redisServerOrSkip } from '../redis-test-server.js';
import { until } from '../helpers.js';

const logger = pino({ level: 'silent' });
const timing = { heartbeatMs: 100, leaseMs: 500 };

test('counts add up across nodes and the limit holds across them; a socket counts once wherever it is listed', { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const a = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-a', ...timing });
  const b = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-b', ...timing });
  t.after(() => a.close());
  t.after(() => b.close());

  assert.deepEqual(await a.tryAdd('alice', 's1', 3), { ok: true, count: 1 });
  assert.deepEqual(await b.tryAdd('alice', 's2', 3), { ok: true, count: 2 });
  b.add('bob', 's9');
  assert.equal(await a.count('alice'), 2);
  assert.equal(await b.count('alice'), 2);
  assert.equal(await a.count('bob'), 1);
  assert.deepEqual(await a.tryAdd('alice', 's3', 3), { ok: true, count: 3 });
  assert.deepEqual(await b.tryAdd('alice', 's4', 3), { ok: false, count: 3 }, 'the limit counts both nodes');
  assert.equal(b.localCount('alice'), 1);
  // s1 recovered on b while a still lists it (a crashed, its lease not yet over): the same socket, admitted, counted once
  assert.deepEqual(await b.tryAdd('alice', 's1', 3), { ok: true, count: 3 });
  assert.equal(await b.count('alice'), 3);
  assert.deepEqual(await b.tryAdd('alice', 's2', 3), { ok: true, count: 2 }, 'a socket this node counts already');

  // many nodes racing for the last places: never more than the limit
  const racers = await Promise.all(['gw-c', 'gw-d', 'gw-e'].map((nodeId) => ClusterPresence.open({ redis: redis.url, logger, nodeId, ...timing })));
  for (const r of racers) t.after(() => r.close());
  const results = await Promise.all(racers.flatMap((r, i) => [1, 2, 3].map((k) => r.tryAdd('carol', `c${i}-${k}`, 4))));
  assert.equal(results.filter((r) => r.ok).length, 4);
  assert.equal(await a.count('carol'), 4);

  a.remove('alice', 's1');
  a.remove('alice', 's3');
  a.remove('alice', 's3'); // one too many is harmless
  await until(() => a.localCount('alice') === 0);
  assert.equal(await waitCount(b, 'alice', 2), 2, "b's two (s1 recovered there) once a's writes land");
  assert.deepEqual(await a.liveNodes(), ['gw-a', 'gw-b', 'gw-c', 'gw-d', 'gw-e']);
});

test("a node that stops heartbeating stops counting; a clean close removes a node's entries at once", { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const deadClient: RedisClientType = createClient({ url: redis.url });
  deadClient.on('error', () => {});
  await deadClient.connect();
  const dead = await ClusterPresence.open({ redis: deadClient, logger, nodeId: 'gw-dead', ...timing });
  const alive = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-alive', ...timing });
  t.after(() => alive.close());
  dead.add('dave', 'd1');
  dead.add('dave', 'd2');
  alive.add('dave', 'd3');
  assert.equal(await waitCount(alive, 'dave', 3), 3);

  // the node dies: its connection is gone, its heartbeat stops (nothing is cleaned up by it)
  deadClient.destroy();
  const started = Date.now();
  assert.equal(await waitCount(alive, 'dave', 1, 3000), 1);
  const after = Date.now() - started;
  assert.ok(after >= 300, `not before the lease ran out (${after} ms)`);
  assert.deepEqual(await alive.liveNodes(), ['gw-alive']);
  const probe = await redis.client();
  assert.equal(await probe.exists('qx:presence:users:gw-dead'), 0, 'the dead node’s hash was removed');

  const leaving = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-leaving', ...timing });
  leaving.add('dave', 'd4');
  assert.equal(await waitCount(alive, 'dave', 2), 2);
  await leaving.close();
  assert.equal(await alive.count('dave'), 1, 'gone at once, not after the lease');
});

test("after a Redis restart each node writes its counts again", { timeout: 60_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const a = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-a', ...timing });
  const b = await ClusterPresence.open({ redis: redis.url, logger, nodeId: 'gw-b', ...timing });
  t.after(() => a.close());
  t.after(() => b.close());
  a.add('erin', 'e1');
  b.add('erin', 'e2');
  b.add('erin', 'e3');
  assert.equal(await waitCount(a, 'erin', 3), 3);
  await redis.restart();
  assert.equal(await waitCount(a, 'erin', 3, 5000), 3);
  assert.equal(await waitCount(b, 'erin', 3, 5000), 3);
  // while Redis is down, a node decides on its own count and says so
  await redis.crash();
  const started = Date.now();
  assert.deepEqual(await a.tryAdd('frank', 'f1', 1), { ok: true, count: 1, degraded: true });
  assert.ok(Date.now() - started < 2000, 'within the presence timeout');
  assert.deepEqual(await a.tryAdd('frank', 'f2', 1), { ok: false, count: 1, degraded: true }, "this node's own count still holds");
  await redis.startAgain();
  assert.equal(await waitCount(b, 'frank', 1, 5000), 1, 'and writes it once Redis is back');
});

/** Polls `count` until it equals `want` (counts settle with the heartbeat). */
async function waitCount(p: ClusterPresence, userId: string, want: number, ms = 2000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    let n = -1;
    try {
      n = await p.count(userId);
    } catch {
      /* redis still coming back */
    }
    if (n === want || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 25));
  }
}
