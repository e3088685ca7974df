/**
 * EngineLeadership against a real PostgreSQL (a fresh database per test): one leader at a time,
 * take-over when the leader's connection goes, and when it stops heartbeating while keeping its
 * connection (a SIGSTOPped process, simulated here by suspending its timers) — then its writes
 * are refused and it learns it has lost. Skipped without PostgreSQL, required when CI=true.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { EngineLeadership } from '../src/backplane/redis/engine/leadership.js';
import { PgStore } from '../src/store/postgres/pg-store.js';
import { FencedError, type EventToLog } from '../src/store/store.js';
import { testDatabaseOrSkip, type TestDatabase } from './pg-test-db.js';
import { until } from './helpers.js';

const LEASE_MS = 800;
const HEARTBEAT_MS = 100;

async function setup(t: TestContext): Promise<{ db: TestDatabase; store: PgStore; node: (id: string) => EngineLeadership } | null> {
  const db = await testDatabaseOrSkip(t);
  if (!db) return null;
  const store = await PgStore.open({ connectionString: db.url, max: 2 });
  db.cleanup(() => store.close());
  const node = (id: string) => {
    const l = new EngineLeadership({ connectionString: db.url, nodeId: id, heartbeatMs: HEARTBEAT_MS, pollMs: 50, leaseMs: LEASE_MS });
    db.cleanup(() => l.stop());
    return l;
  };
  return { db, store, node };
}

/** Records what a node was told. */
function watch(l: EngineLeadership) {
  const seen = { elected: [] as number[], lost: [] as string[] };
  l.on('elected', (term) => seen.elected.push(term));
  l.on('lost', (reason) => seen.lost.push(reason));
  return seen;
}

const event = (stream: string): EventToLog => ({ stream, event: 'order-update', createdAt: Date.now(), render: (seq) => JSON.stringify({ seq }) });

test('two nodes: exactly one leads, the term is recorded with its node and backend', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const a = s.node('a');
  const b = s.node('b');
  const seenA = watch(a);
  const seenB = watch(b);
  a.start();
  b.start();
  await until(() => a.isLeader || b.isLeader, 5000, 'a leader');
  // several heartbeats and polls later, still exactly one
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(Number(a.isLeader) + Number(b.isLeader), 1);
  const leader = a.isLeader ? a : b;
  assert.deepEqual([...seenA.elected, ...seenB.elected], [1]);
  assert.deepEqual([...seenA.lost, ...seenB.lost], []);
  const { rows } = await s.store.pool.query<{ term: number; node_id: string; backend_pid: number; age: number }>(
    'SELECT term, node_id, backend_pid, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age FROM engine_leader',
  );
  assert.equal(rows[0]?.term, 1);
  assert.equal(rows[0]?.node_id, leader === a ? 'a' : 'b');
  assert.ok((rows[0]?.age ?? Infinity) < LEASE_MS, 'the leader heartbeats');
  const held = await s.store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1", [rows[0]?.backend_pid]);
  assert.equal(held.rows[0]?.n, 1, 'the recorded backend holds the lock');
  // the leader writes on its own connection, fenced by its term
  const logged = await leader.writer(s.store).commit({ events: [event('orders-x')] }, leader.fence());
  assert.deepEqual(logged.map((e) => e.seq), [1]);
});

test('the leader stops or its connection dies: the standby leads within the lease, with a new term', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const a = s.node('a');
  const seenA = watch(a);
  a.start();
  await until(() => a.isLeader, 5000, 'a leads');
  const b = s.node('b');
  const seenB = watch(b);
  b.start();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(b.state, 'standby');

  // a graceful stop releases the lock at once
  let since = Date.now();
  await a.stop();
  await until(() => b.isLeader, LEASE_MS, 'b leads after a stopped');
  const afterStop = Date.now() - since;
  assert.deepEqual(seenA.lost, ['stopped']);
  assert.deepEqual(seenB.elected, [2]);

  // a crash-like end: the server ends b's session (as when its process dies); a fresh node takes over
  const c = s.node('c');
  const seenC = watch(c);
  c.start();
  await new Promise((r) => setTimeout(r, 200));
  const admin = new pg.Client({ connectionString: s.db.url });
  await admin.connect();
  s.db.cleanup(() => admin.end());
  since = Date.now();
  await admin.query("SELECT pg_terminate_backend(backend_pid) FROM engine_leader WHERE node_id = 'b'");
  await until(() => c.isLeader, LEASE_MS, 'c leads after b died');
  const afterDeath = Date.now() - since;
  assert.equal(seenB.lost.length, 1);
  assert.match(seenB.lost[0] ?? '', /connection|heartbeat/);
  assert.deepEqual(seenC.elected, [3]);
  // b rejoined as a standby: it does not lead again while c does
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b.state, 'standby');
  t.diagnostic(`take-over after a stop: ${afterStop} ms; after the leader's session died: ${afterDeath} ms`);
});

test('a leader that stops heartbeating but keeps its connection (SIGSTOP) is ended by the standby; its writes are refused', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const a = s.node('a');
  const seenA = watch(a);
  a.start();
  await until(() => a.isLeader, 5000, 'a leads');
  const oldWriter = a.writer(s.store);
  const oldFence = a.fence()!;
  assert.deepEqual((await oldWriter.commit({ events: [event('orders-s')] }, oldFence)).map((e) => e.seq), [1]);
  const b = s.node('b');
  const seenB = watch(b);
  b.start();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(b.state, 'standby', 'a live leader is left alone');

  const since = Date.now();
  a.suspend();
  await until(() => b.isLeader, LEASE_MS * 4, 'b takes over from the stopped leader');
  const takeOver = Date.now() - since;
  // the lease runs from the last heartbeat, at most one period before the suspension
  assert.ok(takeOver >= LEASE_MS - HEARTBEAT_MS, `not before the lease ran out (${takeOver} ms)`);
  assert.deepEqual(seenB.elected, [2]);

  // the old leader wakes up: its connection was ended, its term is stale
  a.resume();
  await assert.rejects(oldWriter.commit({ events: [event('orders-s')] }, oldFence));
  await assert.rejects(s.store.commit({ events: [event('orders-s')] }, oldFence), FencedError);
  await until(() => seenA.lost.length === 1, 2000, 'the old leader learns it lost');
  assert.equal(a.isLeader, false);
  assert.equal(await s.store.lastSeq('orders-s'), 1, 'nothing of the old leader was written after the take-over');
  // the new leader writes on
  assert.deepEqual((await b.writer(s.store).commit({ events: [event('orders-s')] }, b.fence())).map((e) => e.seq), [2]);
  // a leader that resigns (its fenced commit was refused) loses at once, and the standby takes over
  b.resign('fenced commit refused');
  assert.equal(b.isLeader, false);
  assert.deepEqual(seenB.lost, ['fenced commit refused']);
  // the lock went with b's connection: a new term at once (either node may win it: both stand by)
  await until(() => a.isLeader || b.isLeader, LEASE_MS, 'a new leader after b resigned');
  assert.equal((a.isLeader ? a : b).term, 3);
  t.diagnostic(`take-over from a stopped leader: ${takeOver} ms (lease ${LEASE_MS} ms)`);
});
