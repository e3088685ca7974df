/**
 * CommandQueue against a redis-server of its own: gateway → engine leader and back, each reply to
 * the gateway that asked; 'timeout' when no leader answers, and that command is never executed
 * later (its deadline has passed when a leader finally pops it); a handler's failure comes back
 * coded; stop/serve hands the queue to a new leader; a Redis restart is survived.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { COMMAND_LIST, CommandQueue, EngineCommandError, type CommandMeta, type EngineCommand } from '../../src/backplane/redis/shared/command-queue.js';
import { redisServerOrSkip, type RedisTestServer } from '../redis-test-server.js';
import { until } from '../helpers.js';
import type { TestContext } from 'node:test';

const logger = pino({ level: 'silent' });

async function open(t: TestContext, redis: RedisTestServer, nodeId: string, extra: { clock?: { now(): number }; concurrency?: number; guardMs?: number } = {}): Promise<CommandQueue> {
  const q = await CommandQueue.open({ redis: redis.url, logger, nodeId, ...extra });
  t.after(() => q.close());
  return q;
}

const submit = (userId: string, n: number): EngineCommand => ({ type: 'submit-order', userId, body: { commodity: 'crude_oil', side: 'buy', quantity: n } });

test('gateway → engine leader → the same gateway; each gateway gets its own replies', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const engine = await open(t, redis, 'engine-1');
  // the gateways' clock, recorded: each deadline is the send time + timeout - guard (500 ms)
  const sendTimes: number[] = [];
  const clock = {
    now: () => {
      const n = Date.now();
      sendTimes.push(n);
      return n;
    },
  };
  const g1 = await open(t, redis, 'gw-1', { clock });
  const g2 = await open(t, redis, 'gw-2', { clock });
  const handled: [EngineCommand, CommandMeta][] = [];
  engine.serve((command, meta) => {
    handled.push([command, meta]);
    return Promise.resolve(command.type === 'submit-order' ? { orderId: `o-${(command.body as { quantity: number }).quantity}`, by: command.userId } : { cancelled: command.type === 'cancel-order' ? command.orderId : null });
  });
  const replies = await Promise.all([
    g1.send(submit('alice', 1), { timeoutMs: 3000 }),
    g2.send(submit('bob', 2), { timeoutMs: 3000 }),
    g1.send({ type: 'cancel-order', userId: 'alice', orderId: 'o-1' }, { timeoutMs: 3000 }),
  ]);
  assert.deepEqual(replies, [{ orderId: 'o-1', by: 'alice' }, { orderId: 'o-2', by: 'bob' }, { cancelled: 'o-1' }]);
  assert.equal(handled.length, 3);
  assert.deepEqual(handled.map(([, meta]) => meta.deadline).sort(), sendTimes.map((n) => n + 3000 - 500).sort());
  assert.equal(g1.stats.timeouts + g2.stats.timeouts, 0);
});

test('no leader: the gateway gets "timeout" in bounded time, and the command is never executed later', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const gw = await open(t, redis, 'gw-1');
  const started = Date.now();
  const results = await Promise.all([1, 2, 3].map((n) => gw.send(submit('carol', n), { timeoutMs: 400 })));
  const took = Date.now() - started;
  assert.deepEqual(results, ['timeout', 'timeout', 'timeout']);
  assert.ok(took >= 390 && took < 2500, `answered after ${took} ms`);

  // a leader is elected only now: it finds the three commands and drops them all
  const engine = await open(t, redis, 'engine-1');
  const executed: EngineCommand[] = [];
  engine.serve((c) => {
    executed.push(c);
    return Promise.resolve('done');
  });
  await until(() => engine.stats.expired === 3, 5000, 'the expired commands dropped');
  assert.deepEqual(executed, [], 'an order answered 503 never executes');
  // and the next command is served normally
  assert.equal(await gw.send(submit('carol', 4), { timeoutMs: 3000 }), 'done');
  assert.equal(executed.length, 1);
});

test("guardMs covers an engine clock running behind: a command the gateway gave up on is not run", { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const gw = await open(t, redis, 'gw-1', { guardMs: 400 });
  // the engine's clock is 300 ms behind: without the guard it would still run a command the gateway gave up on
  const engine = await open(t, redis, 'engine-1', { clock: { now: () => Date.now() - 300 } });
  const executed: number[] = [];
  let release!: () => void;
  const stuck = new Promise<void>((r) => (release = r));
  engine.serve(async (c) => {
    const n = (c.type === 'submit-order' ? (c.body as { quantity: number }).quantity : 0);
    if (n === 1) await stuck; // the first command holds the (single) engine slot
    executed.push(n);
    return n;
  });
  const first = gw.send(submit('dan', 1), { timeoutMs: 800 });
  const second = gw.send(submit('dan', 2), { timeoutMs: 800 });
  assert.equal(await second, 'timeout');
  assert.equal(await first, 'timeout');
  release();
  await until(() => engine.stats.expired === 1, 3000, 'the second command dropped');
  // a later command through the same queue runs: the dropped one had not run before it
  assert.equal(await gw.send(submit('dan', 3), { timeoutMs: 3000 }), 3);
  assert.deepEqual(executed, [1, 3], 'the one that waited past its deadline never ran');
});

test('a failing handler answers with its error; junk in the queue is dropped', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const engine = await open(t, redis, 'engine-1');
  const gw = await open(t, redis, 'gw-1');
  engine.serve((c) => {
    if (c.type === 'cancel-order') return Promise.reject(Object.assign(new Error('Order not found'), { code: 'ORDER_NOT_FOUND' }));
    return Promise.resolve(undefined);
  });
  const raw = await redis.client();
  await raw.rPush(COMMAND_LIST, ['not json', JSON.stringify({ id: 'x', deadline: Date.now() + 5000, replyTo: 'qx:engine:reply:gw-1', command: { type: 'rm -rf' } })]);
  await assert.rejects(
    gw.send({ type: 'cancel-order', userId: 'erin', orderId: 'nope' }, { timeoutMs: 3000 }),
    (err: unknown) => err instanceof EngineCommandError && err.code === 'ORDER_NOT_FOUND' && err.message === 'Order not found',
  );
  assert.equal(await gw.send(submit('erin', 1), { timeoutMs: 3000 }), null);
  assert.equal(engine.stats.malformed, 2);
  assert.throws(() => void gw.send({ type: 'submit-order', userId: 'not a user!', body: {} }, { timeoutMs: 1000 }));
});

test('stop hands the queue over: the next leader serves what comes after', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const gw = await open(t, redis, 'gw-1');
  const e1 = await open(t, redis, 'engine-1');
  const e2 = await open(t, redis, 'engine-2');
  e1.serve(() => Promise.resolve('e1'));
  assert.equal(await gw.send(submit('f', 1), { timeoutMs: 3000 }), 'e1');
  const stopping = Date.now();
  await e1.stop();
  assert.ok(Date.now() - stopping < 2500, 'stop wakes the blocked pop rather than waiting out its 5 s');
  assert.equal(e1.isServing, false);
  e2.serve(() => Promise.resolve('e2'));
  const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => gw.send(submit('f', n), { timeoutMs: 3000 })));
  assert.deepEqual(answers, ['e2', 'e2', 'e2', 'e2', 'e2']);
});

test('a Redis restart: the engine keeps popping and gateways get replies again', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const gw = await open(t, redis, 'gw-1');
  const engine = await open(t, redis, 'engine-1', { concurrency: 4 });
  engine.serve((c) => Promise.resolve('userId' in c ? c.userId : null));
  assert.equal(await gw.send(submit('g', 1), { timeoutMs: 3000 }), 'g');
  await redis.restart();
  const deadline = Date.now() + 10_000;
  let answer: unknown = 'timeout';
  while (answer === 'timeout') {
    assert.ok(Date.now() < deadline, 'served again within 10 s of the restart');
    answer = await gw.send(submit('h', 1), { timeoutMs: 500 });
  }
  assert.equal(answer, 'h');
  assert.equal(engine.isServing, true);
});

test('stop while Redis is down returns at once (leadership can be given up without Redis)', { timeout: 30_000 }, async (t) => {
  const redis = await redisServerOrSkip(t);
  if (!redis) return;
  const engine = await open(t, redis, 'engine-1');
  engine.serve(() => Promise.resolve('x'));
  // the engine waits in its BLPOP when Redis goes
  const probe = await redis.client();
  await until(async () => /^blocked_clients:[1-9]/m.test(await probe.info('clients')), 3000, "the engine's BLPOP");
  await redis.crash();
  const started = Date.now();
  await engine.stop();
  assert.ok(Date.now() - started < 2500, `stopped in ${Date.now() - started} ms`);
  assert.equal(engine.isServing, false);
  await redis.startAgain();
  // and it can lead again
  const gw = await open(t, redis, 'gw-1');
  engine.serve(() => Promise.resolve('again'));
  assert.equal(await gw.send(submit('i', 1), { timeoutMs: 3000 }), 'again');
});
