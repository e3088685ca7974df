/**
 * ControlChannel against a redis-server of its own: a message reaches every node once (the
 * sender's included, at once), junk is dropped, the sender still acts locally while Redis is down,
 * and a node whose subscriber was cut acts on what it missed once it is back (never twice, never
 * on the log's ancient past).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { CONTROL_CHANNEL, CONTROL_LOG, ControlChannel, type ControlMessage } from '../../src/backplane/redis/gateway/control-channel.js';
import { startTcpProxy } from '../cluster/tcp-proxy.js';
import { redisServerOrSkip } from '../redis-test-server.js';
import { sleep, until } from '../helpers.js';

const logger = pino({ level: 'silent' });

test('a control message reaches every node once, the sender at once', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const seen: Record<string, [ControlMessage, string][]> = { a: [], b: [], c: [] };
  const nodes = await Promise.all(
    (['a', 'b', 'c'] as const).map((id) => ControlChannel.open({ redis: redis.url, logger, nodeId: id, onMessage: (m, from) => seen[id]!.push([m, from]) })),
  );
  for (const n of nodes) t.after(() => n.close());
  const [a, b] = nodes as [ControlChannel, ControlChannel, ControlChannel];

  const sent = a.send({ type: 'disconnect-user', userId: 'mallory', code: 'TOKEN_REVOKED' });
  assert.equal(seen['a']!.length, 1, 'the sender acts at once, before Redis answers');
  assert.equal(await sent, true);
  assert.equal(await b.send({ type: 'roles-changed', userId: 'mallory', roles: ['trader'] }), true);
  await until(() => Object.values(seen).every((s) => s.length === 2), 3000, 'both messages everywhere');
  await sleep(100);
  for (const id of ['a', 'b', 'c']) {
    // once each; the order between two senders is not defined (each acts on its own at once)
    assert.deepEqual(
      seen[id]!.map(([m, from]) => [m.type, from]).sort(),
      [
        ['disconnect-user', 'a'],
        ['roles-changed', 'b'],
      ],
      `node ${id}: once each`,
    );
  }
  assert.deepEqual(seen['c']![0]![0], { type: 'disconnect-user', userId: 'mallory', code: 'TOKEN_REVOKED' });
});

test('malformed control messages are dropped; bad input to send is refused', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const seen: ControlMessage[] = [];
  const node = await ControlChannel.open({ redis: redis.url, logger, nodeId: 'n1', onMessage: (m) => seen.push(m) });
  t.after(() => node.close());
  const raw = await redis.client();
  const good = JSON.stringify({ from: 'x', message: { type: 'roles-changed', userId: 'u1', roles: [] } });
  const id = `${Date.now()}-0`;
  for (const junk of [
    'nope',
    '{}',
    good, // no log entry id
    `${id}\nnope`,
    `${id}\n${JSON.stringify({ from: 'x', message: { type: 'disconnect-user', userId: 'bad user!', code: 'X' } })}`,
    `${id}\n${JSON.stringify({ from: 'x', message: { type: 'format-disk' } })}`,
  ]) {
    await raw.sPublish(CONTROL_CHANNEL, junk);
  }
  await raw.sPublish(CONTROL_CHANNEL, `${id}\n${good}`);
  await until(() => seen.length === 1, 3000, 'the good one');
  assert.equal(node.rejected, 6);
  await assert.rejects(node.send({ type: 'disconnect-user', userId: '', code: 'X' }));
});

test('while Redis is down the sender still acts on its own sockets at once; the channel works again after the restart', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const here: ControlMessage[] = [];
  const there: ControlMessage[] = [];
  const a = await ControlChannel.open({ redis: redis.url, logger, nodeId: 'a', onMessage: (m) => here.push(m) });
  const b = await ControlChannel.open({ redis: redis.url, logger, nodeId: 'b', onMessage: (m) => there.push(m) });
  t.after(() => a.close());
  t.after(() => b.close());
  await redis.crash();
  const sending = a.send({ type: 'disconnect-user', userId: 'u2', code: 'MAX_CONNECTIONS' });
  assert.equal(here.length, 1);
  await redis.startAgain();
  // node-redis queues the PUBLISH until it reconnects; the message may or may not reach b, but never twice
  assert.equal(typeof (await sending), 'boolean', 'send never throws on a Redis outage');
  // once both subscribers are back, b's messages reach a again
  const deadline = Date.now() + 5000;
  while (!here.some((m) => m.type === 'roles-changed')) {
    assert.ok(Date.now() < deadline, 'b’s message reaches a after the restart');
    await b.send({ type: 'roles-changed', userId: 'u2', roles: [] });
    await sleep(100);
  }
  assert.ok(there.filter((m) => m.type === 'disconnect-user').length <= 1);
});

test('a node whose subscriber was cut acts on what was sent meanwhile, once, when it is back', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const proxy = await startTcpProxy(redis.port);
  t.after(() => proxy.close());
  const atA: ControlMessage[] = [];
  const atB: ControlMessage[] = [];
  const a = await ControlChannel.open({ redis: redis.url, logger, nodeId: 'a', onMessage: (m, from) => from !== 'a' && atA.push(m) });
  const b = await ControlChannel.open({ redis: `redis://127.0.0.1:${proxy.port}`, logger, nodeId: 'b', onMessage: (m, from) => from !== 'b' && atB.push(m) });
  t.after(() => a.close());
  t.after(() => b.close());
  const kick = (userId: string): ControlMessage => ({ type: 'disconnect-user', userId, code: 'USER_DISCONNECTED' });
  assert.equal(await a.send(kick('before')), true);
  await until(() => atB.length === 1, 3000, 'a live message');

  proxy.down();
  assert.equal(await a.send(kick('during-1')), true);
  assert.equal(await a.send({ type: 'roles-changed', userId: 'during-2', roles: [] }), true);
  await sleep(300);
  assert.deepEqual(atB.map((m) => m.userId), ['before'], 'pub/sub drops what is sent while the subscriber is away');

  proxy.up();
  await until(() => atB.length === 3, 10_000, 'the missed messages after the reconnect');
  assert.deepEqual(atB.map((m) => [m.type, m.userId]), [
    ['disconnect-user', 'before'],
    ['disconnect-user', 'during-1'],
    ['roles-changed', 'during-2'],
  ]);
  assert.equal(b.caughtUp, 2);
  assert.equal(await a.send(kick('after')), true);
  await until(() => atB.length === 4, 3000, 'live again');
  await sleep(200);
  assert.deepEqual(atB.map((m) => m.userId), ['before', 'during-1', 'during-2', 'after'], 'each once');
  assert.deepEqual(atA, [], 'a never hears its own');
});

test('a new node does not act on the log’s past; a log that went back in time is read from its start, without its ancient messages', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const raw = await redis.client();
  const wire = (userId: string) => JSON.stringify({ from: 'x', message: { type: 'disconnect-user', userId, code: 'USER_DISCONNECTED' } });
  await raw.xAdd(CONTROL_LOG, '*', { w: wire('before-start') });
  const proxy = await startTcpProxy(redis.port);
  t.after(() => proxy.close());
  const seen: string[] = [];
  const c = await ControlChannel.open({ redis: `redis://127.0.0.1:${proxy.port}`, logger, nodeId: 'c', onMessage: (m) => seen.push(m.userId) });
  t.after(() => c.close());
  const d = await ControlChannel.open({ redis: redis.url, logger, nodeId: 'd', onMessage: () => undefined });
  t.after(() => d.close());
  await sleep(200);
  assert.deepEqual(seen, [], 'sent before the node started');

  // while c is cut, Redis comes back with an older log (an old snapshot): one ancient entry, one of a minute ago
  proxy.down();
  const now = Date.now();
  await raw.del(CONTROL_LOG);
  await raw.xAdd(CONTROL_LOG, '1000-0', { w: wire('ancient') });
  await raw.xAdd(CONTROL_LOG, `${now - 60_000}-0`, { w: wire('recent') });
  proxy.up();
  await until(() => seen.length === 1, 10_000, 'the recent message');
  assert.deepEqual(seen, ['recent']);
  // and the node is not stuck behind the old log's ids
  assert.equal(await d.send({ type: 'disconnect-user', userId: 'live', code: 'USER_DISCONNECTED' }), true);
  await until(() => seen.length === 2, 5000, 'a live message');
  await sleep(100);
  assert.deepEqual(seen, ['recent', 'live']);
});
