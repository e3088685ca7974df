/**
 * The Store contract, run against both implementations: SqliteStore (a temporary data folder)
 * and PgStore (a fresh PostgreSQL database per test, dropped after; skipped with a message when
 * PostgreSQL is unreachable, required when CI=true).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Exchange, type EngineBatch, type JournalRecord, type OrderRecord } from '@qx/engine';
import { FencedError, type EventToLog, type MarketSnapshot, type Store } from '../src/store/store.js';
import type { TapeEntry } from '../src/store/tape.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { PgStore } from '../src/store/postgres/pg-store.js';
import { PG_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { testDatabaseOrSkip } from './pg-test-db.js';

interface Harness {
  store: Store;
  /** closes the store and opens it again on the same data */
  reopen(): Promise<Store>;
  /** another store on the same data, as a second node would open it (PostgreSQL only) */
  another?: () => Promise<Store>;
  /** sets the engine leader's term (PostgreSQL only) */
  setTerm?: (term: number) => Promise<void>;
  /** closes something before the database is dropped (PostgreSQL only) */
  cleanup?: (fn: () => unknown) => void;
}

type Open = (t: TestContext) => Promise<Harness | null>;

const silent = pino({ level: 'silent' });

const openSqlite: Open = (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qx-store-'));
  let store = new SqliteStore(dir, silent);
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return Promise.resolve({
    store,
    async reopen() {
      await store.close();
      store = new SqliteStore(dir, silent);
      return store;
    },
  });
};

const openPg: Open = async (t) => {
  const db = await testDatabaseOrSkip(t);
  if (!db) return null;
  const open = async () => {
    const s = await PgStore.open({ connectionString: db.url, max: 4 });
    db.cleanup(() => s.close());
    return s;
  };
  let store = await open();
  return {
    store,
    async reopen() {
      await store.close();
      store = await open();
      return store;
    },
    another: open,
    cleanup: (fn) => db.cleanup(fn),
    async setTerm(term) {
      await store.pool.query('UPDATE engine_leader SET term = $1 WHERE id = 1', [term]);
    },
  };
};

const event = (stream: string, createdAt: number, tag = ''): EventToLog => ({
  stream,
  event: 'order-update',
  createdAt,
  render: (seq) => JSON.stringify({ type: 'order-update', seq, tag }),
});

const snapshot = (commodity: string, seq: number, updatedAt: number, tag = ''): MarketSnapshot => ({ commodity, seq, envelope: JSON.stringify({ seq, tag }), updatedAt });

/** A print of the public tape, numbered as the trading core numbers it. */
const print = (commodity: string, tapeSeq: number, executedAt: number): TapeEntry => ({
  id: `trd-${tapeSeq}`,
  seq: tapeSeq,
  commodity,
  priceTicks: 7500 + tapeSeq,
  quantity: tapeSeq,
  aggressor: tapeSeq % 2 ? 'buy' : 'sell',
  executedAt,
  tapeSeq,
});

/** An engine that trades: a resting sell, a buy that fills part of it, an open buy on another commodity. */
function tradingDay(now: number): { exchange: Exchange; batches: EngineBatch[]; orders: Record<string, OrderRecord | undefined> } {
  const exchange = new Exchange({ clock: () => now, volatility: false });
  const batches: EngineBatch[] = [exchange.startSession(now)];
  const step = (userId: string, body: Parameters<Exchange['submit']>[1]) => {
    const r = exchange.submit(userId, body, { nowMs: now });
    assert.equal(r.ok, true, r.ok ? '' : r.error.message);
    batches.push(r);
    return r;
  };
  step('alice', { commodity: 'crude_oil', side: 'sell', type: 'limit', price: 75, quantity: 10, clientOrderId: 'a-1' });
  step('bob', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 75, quantity: 4 });
  step('bob', { commodity: 'brent', side: 'buy', type: 'limit', price: 78, quantity: 3 });
  const orders: Record<string, OrderRecord | undefined> = {};
  for (const b of batches) for (const r of b.journal) if (r.kind === 'order') orders[r.order.id] = r.order;
  return { exchange, batches, orders };
}

const journalOf = (batches: EngineBatch[]): JournalRecord[] => batches.flatMap((b) => b.journal);

/** A connection of its own to the store's database, as the engine leader's (closed after the test). */
async function writerConnection(h: { store: Store; cleanup?: (fn: () => Promise<void>) => void }): Promise<pg.Client> {
  const url = ((h.store as PgStore).pool.options as { connectionString: string }).connectionString;
  const client = new pg.Client(PgStore.clientConfig(url));
  await client.connect();
  h.cleanup!(() => client.end());
  return client;
}

function contract(kind: 'sqlite' | 'postgres', open: Open): void {
  // each test has a store of its own (a folder, a database): PostgreSQL's, slow to create and drop,
  // run three at a time (a few pooled connections each, well under max_connections)
  describe(`Store contract: ${kind}`, { concurrency: kind === 'postgres' ? 3 : 1 }, () => {
    test('numbering: per stream from 1, in commit order; envelopes rendered with their seq; times as numbers', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const first = await h.store.commit({ events: [event('orders-u1', now), event('trading-u1', now), event('orders-u1', now)] });
      assert.deepEqual(first.map((e) => [e.stream, e.seq]), [['orders-u1', 1], ['trading-u1', 1], ['orders-u1', 2]]);
      assert.equal(first[2]?.envelope, JSON.stringify({ type: 'order-update', seq: 2, tag: '' }));
      const second = await h.store.commit({ events: [event('orders-u1', now + 1)] });
      assert.deepEqual(second.map((e) => e.seq), [3]);
      assert.equal(await h.store.lastSeq('orders-u1'), 3);
      assert.equal(await h.store.lastSeq('trading-u1'), 1);
      assert.equal(await h.store.lastSeq('orders-nobody'), 0);
      // asked together (a connect storm), each gets its own stream's seq
      const together = ['orders-u1', 'trading-u1', 'orders-nobody', 'orders-u1', ...Array.from({ length: 2500 }, (_, i) => `orders-x${i}`)];
      assert.deepEqual((await Promise.all(together.map((s) => h.store.lastSeq(s)))).slice(0, 6), [3, 1, 0, 3, 0, 0]);
      const read = await h.store.readEvents('orders-u1', 0, 10);
      assert.deepEqual(read, [...first.filter((e) => e.stream === 'orders-u1'), ...second]);
      assert.equal(typeof read[0]?.seq, 'number');
      assert.equal(read[0]?.createdAt, now);
      // numbering survives a restart
      const store = await h.reopen();
      assert.equal(await store.lastSeq('orders-u1'), 3);
      assert.deepEqual((await store.commit({ events: [event('orders-u1', now)] })).map((e) => e.seq), [4]);
    });

    test('atomicity: a commit that fails writes and numbers nothing', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const { batches } = tradingDay(now);
      await h.store.commit({ events: [event('orders-u2', now)] });
      const failing: EventToLog = { ...event('orders-u2', now), render: () => { throw new Error('render failed'); } };
      await assert.rejects(
        h.store.commit({
          journal: journalOf(batches),
          events: [event('orders-u2', now), event('system', now), failing],
          tape: [print('crude_oil', 1, now)],
        }),
        /render failed/,
      );
      assert.equal(await h.store.lastSeq('orders-u2'), 1);
      assert.equal(await h.store.lastSeq('system'), 0);
      assert.deepEqual((await h.store.readEvents('orders-u2', 0, 10)).map((e) => e.seq), [1]);
      assert.deepEqual(await h.store.loadForRestore(), []);
      assert.deepEqual(await h.store.tape.lastSeqs(), new Map(), 'no print of the failed step is stored');
      // the next commit takes the next number, as if the failed one had never been
      const next = await h.store.commit({ events: [event('orders-u2', now), event('system', now)] });
      assert.deepEqual(next.map((e) => e.seq), [2, 1]);
    });

    test('concurrent commits to one stream never duplicate or skip a seq', async (t) => {
      const h = await open(t);
      if (!h) return;
      // two nodes where the store is shared (PostgreSQL); one store committing concurrently otherwise
      const other = h.another ? await h.another() : h.store;
      const now = Date.now();
      const writer = (store: Store, tag: string) =>
        Array.from({ length: 40 }, (_, i) => store.commit({ events: [event('system', now, `${tag}${i}`), event('system', now, `${tag}${i}`), event(`orders-${tag}`, now)] }));
      const results = await Promise.all([...writer(h.store, 'a'), ...writer(other, 'b')]);
      const seqs = results.flatMap((r) => r.filter((e) => e.stream === 'system').map((e) => e.seq)).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 160 }, (_, i) => i + 1));
      // the two events of one commit are consecutive
      for (const r of results) assert.equal((r[1]?.seq ?? 0) - (r[0]?.seq ?? 0), 1);
      const stored = await h.store.readEvents('system', 0, 1000);
      assert.deepEqual(stored.map((e) => e.seq), seqs);
      assert.equal(await other.lastSeq('system'), 160);
    });

    test('read paging: after a seq, at most limit, oldest first', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      for (let i = 0; i < 5; i++) await h.store.commit({ events: Array.from({ length: 5 }, () => event('compliance-u3', now)) });
      const pages: number[][] = [];
      for (let after = 0; ; ) {
        const page = await h.store.readEvents('compliance-u3', after, 10);
        if (page.length === 0) break;
        pages.push(page.map((e) => e.seq));
        after = page.at(-1)!.seq;
      }
      assert.deepEqual(pages, [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [21, 22, 23, 24, 25]]);
      assert.deepEqual((await h.store.readEvents('compliance-u3', 23, 100)).map((e) => e.seq), [24, 25]);
      assert.deepEqual(await h.store.readEvents('compliance-other', 0, 100), []);
    });

    test('prune deletes old events but keeps the newest of each stream, and numbering goes on', async (t) => {
      const h = await open(t);
      if (!h) return;
      const old = Date.now() - 10 * 86_400_000;
      const recent = Date.now();
      await h.store.commit({ events: [event('orders-p1', old), event('orders-p1', old), event('orders-p1', old)] });
      await h.store.commit({ events: [event('orders-p2', old), event('orders-p2', recent)] });
      await h.store.commit({ events: [event('orders-p3', old)] });
      const deleted = await h.store.pruneEvents(recent - 86_400_000);
      assert.equal(deleted, 3);
      assert.deepEqual((await h.store.readEvents('orders-p1', 0, 10)).map((e) => e.seq), [3]);
      assert.deepEqual((await h.store.readEvents('orders-p2', 0, 10)).map((e) => e.seq), [2]);
      assert.deepEqual((await h.store.readEvents('orders-p3', 0, 10)).map((e) => e.seq), [1]);
      const store = await h.reopen();
      assert.deepEqual((await store.commit({ events: [event('orders-p1', recent)] })).map((e) => e.seq), [4]);
      assert.equal(await store.pruneEvents(recent - 86_400_000), 1);
    });

    test('restore round trip: the engine rebuilt from the store matches the one that wrote it', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const { exchange, batches } = tradingDay(now);
      for (const b of batches) await h.store.commit({ journal: b.journal, events: [] });
      const store = await h.reopen();
      const restored = new Exchange({ clock: () => now, volatility: false });
      const result = restored.restore(await store.loadForRestore());
      assert.equal(result.ok, true, result.ok ? '' : result.error);
      for (const user of ['alice', 'bob']) assert.deepEqual(restored.positions(user), exchange.positions(user));
      for (const c of ['crude_oil', 'brent']) assert.deepEqual(restored.book(c), exchange.book(c));
      assert.deepEqual(restored.market('crude_oil')?.sessionStartedAt, exchange.market('crude_oil')?.sessionStartedAt);
      // priority and ids continue: the next order gets the same id on both
      const a = exchange.submit('carol', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74, quantity: 1 }, { nowMs: now });
      const b = restored.submit('carol', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74, quantity: 1 }, { nowMs: now });
      assert.equal(a.ok && b.ok && a.order.id === b.order.id, true);
      // a clientOrderId retry is recognised after the restore
      const retry = restored.submit('alice', { commodity: 'crude_oil', side: 'sell', type: 'limit', price: 75, quantity: 10, clientOrderId: 'a-1' }, { nowMs: now });
      assert.equal(retry.ok && retry.journal.length === 0, true);
    });

    test('trading controls round trip: kill switches, dead-man deadlines and market statuses come back through restore', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const { exchange, batches } = tradingDay(now);
      const at = { nowMs: now };
      batches.push(exchange.setTradingEnabled('alice', false, { reason: 'limit breach', by: 'risk-1' }, at));
      batches.push(exchange.setTradingEnabled('carol', false, { reason: 'review', by: 'risk-1' }, at));
      batches.push(exchange.setTradingEnabled('carol', true, { reason: 'review done', by: 'risk-2' }, at));
      batches.push(exchange.armCancelAllAfter('dave', 60_000, at));
      batches.push(exchange.armCancelAllAfter('erin', 5_000, at), exchange.armCancelAllAfter('erin', 0, at));
      batches.push(exchange.halt('crude_oil', { reason: 'velocity', untilMs: now + 120_000 }, at));
      batches.push(exchange.halt('power', { reason: 'operator', untilMs: null }, at));
      batches.push(exchange.closeSession('brent', at));
      // bob re-arms twice in one step: the last record of a key wins
      const twice = [exchange.armCancelAllAfter('bob', 10_000, at), exchange.armCancelAllAfter('bob', 20_000, at)];
      for (const b of batches) await h.store.commit({ journal: b.journal, events: [] });
      await h.store.commit({ journal: twice.flatMap((b) => b.journal), events: [] });
      const store = await h.reopen();
      const restored = new Exchange({ clock: () => now, volatility: false });
      const result = restored.restore(await store.loadForRestore());
      assert.equal(result.ok, true, result.ok ? '' : result.error);
      assert.deepEqual(result.ok && [result.summary.tradingDisabled, result.summary.deadManSwitches, result.summary.marketsNotOpen], [1, 2, 3]);
      for (const user of ['alice', 'bob', 'carol', 'dave', 'erin']) {
        assert.deepEqual(restored.tradingStatus(user), exchange.tradingStatus(user), user);
        assert.equal(restored.deadManDeadline(user), exchange.deadManDeadline(user), user);
      }
      assert.equal(restored.deadManDeadline('bob'), now + 20_000);
      assert.deepEqual(restored.marketStatuses(), exchange.marketStatuses());
      assert.equal(restored.nextStatusChange(), now + 120_000);
      assert.equal(restored.nextDeadManDeadline(), now + 20_000);
      // the restored engine acts on them: alice stays disabled, crude_oil halted, bob's switch fires
      const refused = restored.submit('alice', { commodity: 'brent', side: 'buy', type: 'limit', price: 78, quantity: 1 }, at);
      assert.equal(refused.ok ? 'ok' : refused.error.code, 'TRADING_DISABLED');
      const halted = restored.submit('carol', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 74, quantity: 1 }, at);
      assert.equal(halted.ok ? 'ok' : halted.error.code, 'MARKET_HALTED');
      const fired = restored.fireDeadManSwitches(now + 20_000);
      assert.deepEqual(fired.fired, ['bob']);
      assert.deepEqual(fired.events.map((e) => e.event === 'order-update' && [e.payload.userId, e.payload.reason]), [['bob', 'dead_man_switch']]);
      // and a later change replaces the stored row
      await store.commit({ journal: [...fired.journal, ...restored.reopen('crude_oil', at).journal], events: [] });
      const again = new Exchange({ clock: () => now, volatility: false });
      assert.equal(again.restore(await store.loadForRestore()).ok, true);
      assert.equal(again.deadManDeadline('bob'), null);
      assert.equal(again.marketStatus('crude_oil')?.status, 'open');
    });

    test('order and trade queries: by user, status, commodity, newest first, paged', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const { batches, orders } = tradingDay(now);
      for (const b of batches) await h.store.commit({ journal: b.journal, events: [] });
      const ids = Object.keys(orders);
      const byPriority = (userId: string) => Object.values(orders).filter((o) => o?.userId === userId).sort((a, b) => b!.priority - a!.priority);
      assert.deepEqual(await h.store.order(ids[0]!), orders[ids[0]!]);
      assert.equal(await h.store.order('no-such-order'), null);
      const bob = await h.store.orders({ userId: 'bob', limit: 10 });
      assert.deepEqual(bob, byPriority('bob'));
      assert.deepEqual(await h.store.orders({ userId: 'bob', limit: 1 }), byPriority('bob').slice(0, 1));
      assert.deepEqual(await h.store.orders({ userId: 'bob', limit: 10, before: bob[0]!.priority }), bob.slice(1));
      assert.deepEqual((await h.store.orders({ userId: 'bob', commodity: 'brent', limit: 10 })).map((o) => o.commodity), ['brent']);
      assert.deepEqual((await h.store.orders({ userId: 'bob', status: 'filled', limit: 10 })).map((o) => o.commodity), ['crude_oil']);
      assert.deepEqual((await h.store.orders({ userId: 'alice', status: 'open', limit: 10 })).map((o) => o.status), ['partially_filled']);
      assert.deepEqual(await h.store.orders({ userId: 'nobody', limit: 10 }), []);
      const aliceTrades = await h.store.trades({ userId: 'alice', limit: 10 });
      assert.equal(aliceTrades.length, 1);
      assert.deepEqual([aliceTrades[0]?.quantity, aliceTrades[0]?.side, aliceTrades[0]?.commodity], [4, 'sell', 'crude_oil']);
      assert.deepEqual((await h.store.trades({ userId: 'bob', limit: 10 })).map((x) => x.id), aliceTrades.map((x) => x.id));
      assert.deepEqual(await h.store.trades({ userId: 'bob', limit: 10, before: aliceTrades[0]!.seq }), []);
      assert.deepEqual(await h.store.trades({ userId: 'bob', commodity: 'brent', limit: 10 }), []);
    });

    test('market snapshots: the latest of each commodity kept across a restart; an older one never replaces a newer', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      await h.store.saveMarketSnapshots([snapshot('power', 1, now, 'p1')]);
      await h.store.saveMarketSnapshots([snapshot('power', 3, now + 1, 'p3'), snapshot('brent', 1, now + 1, 'b1')]);
      // a late write of an older state (an old leader's, a retry) changes nothing
      await h.store.saveMarketSnapshots([snapshot('power', 2, now + 2, 'p2')]);
      assert.deepEqual(await h.store.readEvents('market-power', 0, 10), [], 'market data is not logged for replay');
      const store = await h.reopen();
      const snaps = (await store.loadMarketSnapshots()).sort((a, b) => a.commodity.localeCompare(b.commodity));
      assert.deepEqual(snaps, [snapshot('brent', 1, now + 1, 'b1'), snapshot('power', 3, now + 1, 'p3')]);
    });

    test('concurrent snapshot writers (two nodes): the newest seq is what stays', async (t) => {
      const h = await open(t);
      if (!h) return;
      const other = h.another ? await h.another() : h.store;
      const now = Date.now();
      const order = Array.from({ length: 30 }, (_, i) => ((i * 7) % 30) + 1);
      await Promise.all(order.map((seq, i) => (i % 2 ? other : h.store).saveMarketSnapshots([snapshot('gold', seq, now + seq)])));
      const snap = (await h.store.loadMarketSnapshots()).find((m) => m.commodity === 'gold');
      assert.equal(snap?.seq, 30);
    });

    test('the tape: prints stored with their step, read back by seq, numbering known after a restart', async (t) => {
      const h = await open(t);
      if (!h) return;
      const now = Date.now();
      const { batches } = tradingDay(now);
      await h.store.commit({ journal: journalOf(batches), events: [event('orders-t', now)], tape: [print('crude_oil', 1, now), print('crude_oil', 2, now), print('brent', 1, now)] });
      await h.store.commit({ events: [], tape: [print('crude_oil', 3, now + 1)] });
      assert.deepEqual((await h.store.tape.read('crude_oil', 1, 10)).map((e) => [e.tapeSeq, e.id, e.priceTicks, e.quantity, e.aggressor, e.executedAt]), [
        [2, 'trd-2', 7502, 2, 'sell', now],
        [3, 'trd-3', 7503, 3, 'buy', now + 1],
      ]);
      assert.deepEqual((await h.store.tape.read('crude_oil', 0, 1)).map((e) => e.tapeSeq), [1], 'at most limit');
      const store = await h.reopen();
      assert.deepEqual([...(await store.tape.lastSeqs())].sort(), [['brent', 1], ['crude_oil', 3]]);
      assert.equal(await store.tape.lastSeq('crude_oil'), 3);
      assert.equal(await store.tape.lastSeq('power'), 0);
      const candles = await store.tape.candles('crude_oil', 60_000, now - 60_000, now + 60_000, 10);
      assert.equal(candles.reduce((n, c) => n + c.trades, 0), 3);
    });

    if (kind === 'postgres') {
      test('fencing: a commit with a stale term throws FencedError and writes nothing', async (t) => {
        const h = await open(t);
        if (!h) return;
        const now = Date.now();
        await h.setTerm!(5);
        assert.deepEqual((await h.store.commit({ events: [event('orders-f', now)] }, { term: 5 })).map((e) => e.seq), [1]);
        const { batches } = tradingDay(now);
        const stale = h.store.commit({ journal: journalOf(batches), events: [event('orders-f', now)] }, { term: 4 });
        await assert.rejects(stale, (err: unknown) => err instanceof FencedError && err.term === 4 && err.currentTerm === 5);
        assert.equal(await h.store.lastSeq('orders-f'), 1);
        assert.deepEqual(await h.store.loadForRestore(), []);
        // unfenced writers (the publish API) are not affected
        assert.deepEqual((await h.store.commit({ events: [event('orders-f', now)] })).map((e) => e.seq), [2]);
      });

      test("fencing covers the tape: a stale leader's prints are not stored", async (t) => {
        const h = await open(t);
        if (!h) return;
        const now = Date.now();
        await h.setTerm!(7);
        await h.store.commit({ events: [], tape: [print('brent', 1, now)] }, { term: 7 });
        await assert.rejects(h.store.commit({ events: [], tape: [print('brent', 2, now)] }, { term: 6 }), FencedError);
        assert.equal(await h.store.tape.lastSeq('brent'), 1);
      });

      test('eventsSince: every stream, from a time on, by stream and seq', async (t) => {
        const h = await open(t);
        if (!h) return;
        const now = Date.now();
        await h.store.commit({ events: [event('orders-e2', now - 5000), event('orders-e1', now - 5000)] });
        await h.store.commit({ events: [event('orders-e2', now), event('system', now), event('orders-e1', now), event('orders-e2', now + 1)] });
        const since = await (h.store as PgStore).eventsSince(now, 100);
        assert.deepEqual(since.map((e) => [e.stream, e.seq]), [['orders-e1', 2], ['orders-e2', 2], ['orders-e2', 3], ['system', 1]]);
        assert.equal((await (h.store as PgStore).eventsSince(now, 2)).length, 2);
      });

      test('a writer on its own connection commits, fenced, one transaction at a time', async (t) => {
        const h = await open(t);
        if (!h) return;
        const store = h.store as PgStore;
        const client = await writerConnection(h);
        await h.setTerm!(2);
        const writer = store.withWriter(client);
        const now = Date.now();
        const results = await Promise.all(Array.from({ length: 20 }, () => writer.commit({ events: [event('orders-w', now), event('orders-w', now)] }, { term: 2 })));
        assert.deepEqual(results.flat().map((e) => e.seq), Array.from({ length: 40 }, (_, i) => i + 1));
        await h.setTerm!(3);
        await assert.rejects(writer.commit({ events: [event('orders-w', now)] }, { term: 2 }), FencedError);
        // the connection is still usable after a refused commit
        assert.deepEqual((await writer.commit({ events: [event('orders-w', now)] }, { term: 3 })).map((e) => e.seq), [41]);
      });

      test('a step to streams the writer knows is one statement; another writer numbering in them meanwhile is caught, and both go through', async (t) => {
        const h = await open(t);
        if (!h) return;
        const store = h.store as PgStore;
        const client = await writerConnection(h);
        const statements: string[] = [];
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          statements.push(String(args[0]).trim().split(/\s+/).slice(0, 2).join(' '));
          return query(...args);
        };
        await h.setTerm!(4);
        const writer = store.withWriter(client);
        const now = Date.now();
        const { batches } = tradingDay(now);
        // first write to these streams: their seqs are read once, then the step goes as one statement
        await writer.commit({ journal: journalOf(batches), events: [event('orders-k', now), event('system', now)], tape: [print('crude_oil', 1, now)] }, { term: 4 });
        assert.deepEqual(statements, ['SELECT stream,', 'SELECT qx_commit_step($1::bigint,']);
        statements.length = 0;
        await writer.commit({ events: [event('orders-k', now), event('system', now)], tape: [print('crude_oil', 2, now)] }, { term: 4 });
        assert.deepEqual(statements, ['SELECT qx_commit_step($1::bigint,']);
        // another node numbers in 'system': the writer's next step is caught, numbered again under the rows' locks
        assert.deepEqual((await (h.another ? await h.another() : store).commit({ events: [event('system', now, 'other')] })).map((e) => e.seq), [3]);
        statements.length = 0;
        const next = await writer.commit({ events: [event('system', now, 'mine'), event('orders-k', now)] }, { term: 4 });
        assert.deepEqual(next.map((e) => [e.stream, e.seq]), [['system', 4], ['orders-k', 3]]);
        assert.deepEqual(statements, ['SELECT qx_commit_step($1::bigint,', 'BEGIN', 'SELECT term', 'INSERT INTO', 'SELECT qx_commit_step($1::bigint,', 'COMMIT']);
        const stored = await store.readEvents('system', 0, 10);
        assert.deepEqual(stored.map((e) => e.seq), [1, 2, 3, 4]);
        assert.equal(stored[3]?.envelope, JSON.stringify({ type: 'order-update', seq: 4, tag: 'mine' }));
        // and the writer is back to one statement
        statements.length = 0;
        assert.deepEqual((await writer.commit({ events: [event('system', now)] }, { term: 4 })).map((e) => e.seq), [5]);
        assert.deepEqual(statements, ['SELECT qx_commit_step($1::bigint,']);
      });

      test('migrations: applied once, under a lock, by nodes starting together', async (t) => {
        const db = await testDatabaseOrSkip(t);
        if (!db) return;
        const stores = await Promise.all(Array.from({ length: 3 }, () => PgStore.open({ connectionString: db.url, max: 2 })));
        for (const s of stores) db.cleanup(() => s.close());
        const { rows } = await stores[0]!.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((_, i) => i + 1));
        const leader = await stores[1]!.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM engine_leader');
        assert.equal(leader.rows[0]?.n, 1);
      });
    }
  });
}

contract('sqlite', openSqlite);
contract('postgres', openPg);
