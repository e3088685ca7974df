/**
 * ControlChannel against a redis-server of its own: a message reaches every node once (the
 * sender's included, at once), junk is dropped, and the sender still acts locally while Redis is down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { CONTROL_CHANNEL, ControlChannel, type ControlMessage } from '../../src/backplane/redis/gateway/control-channel.js';
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
  for (const junk of ['nope', '{}', JSON.stringify({ from: 'x', message: { type: 'disconnect-user', userId: 'bad user!', code: 'X' } }), JSON.stringify({ from: 'x', message: { type: 'format-disk' } })]) {
    await raw.sPublish(CONTROL_CHANNEL, junk);
  }
  await raw.sPublish(CONTROL_CHANNEL, JSON.stringify({ from: 'x', message: { type: 'roles-changed', userId: 'u1', roles: [] } }));
  await until(() => seen.length === 1, 3000, 'the good one');
  assert.equal(node.rejected, 4);
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
