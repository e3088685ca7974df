/**
 * The public tape in cluster mode: the engine leader stores every trade in PostgreSQL and sends it
 * on the bus; `subscribe-trades` on any gateway receives the same numbered `market-trade`s, and
 * `GET /api/v1/market/candles` on any gateway is built from the stored tape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { bookChecksum, type BookLevel } from '@qx/protocol';
import { collect, once, request, until } from '../helpers.js';
import { startCluster, type Cluster } from './cluster.js';

async function authed(cluster: Cluster, url: string, userId: string): Promise<Socket> {
  const s = cluster.client(url, { auth: { token: await cluster.sign(userId) } });
  await once(s, 'auth-success', 10_000);
  return s;
}

test('cluster: market-trade reaches subscribers on every gateway with one numbering; candles come from PostgreSQL on any gateway', { timeout: 300_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 1, env: { SIMULATOR: 'on', MARKET_UPDATES_PER_SECOND: '10' } });
  if (!cluster) return;
  const [g1, g2] = cluster.gateways as [Cluster['gateways'][number], Cluster['gateways'][number]];
  await cluster.leader(30_000);
  const a = await authed(cluster, g1.url, 'tape-a');
  const b = await authed(cluster, g2.url, 'tape-b');
  const seenA = collect(a, 'market-trade');
  const seenB = collect(b, 'market-trade');
  assert.equal((await request(a, 'subscribe-trades', ['crude_oil'])).ok, true);
  assert.equal((await request(b, 'subscribe-trades', ['crude_oil'])).ok, true);
  await until(() => seenA.length >= 20 && seenB.length >= 20, 60_000, 'simulated trades on both gateways');

  for (const seen of [seenA, seenB]) {
    for (const m of seen) {
      assert.equal(m.commodity, 'crude_oil');
      assert.deepEqual(Object.keys(m).sort(), ['commodity', 'price', 'quantity', 'seq', 'side', 'time', 'tradeId'], 'no user or order ids');
    }
    const seqs = seen.map((m) => m.seq as number);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i), 'consecutive, in order, each once');
  }
  // one tape: the same seq is the same trade on both gateways
  const bySeq = new Map(seenA.map((m) => [m.seq as number, m]));
  const common = seenB.filter((m) => bySeq.has(m.seq as number));
  assert.ok(common.length >= 10, `both gateways saw the same trades (${common.length})`);
  for (const m of common) assert.deepEqual(m, bySeq.get(m.seq as number));

  // candles on each gateway, up to the last trade seen: every trade up to it is stored
  const last = seenA.at(-1)!;
  const to = Date.parse(last.time as string) + 1;
  const token = await cluster.sign('tape-a');
  for (const g of [g1, g2]) {
    const res = await cluster.http(g.url, `/api/v1/market/candles?commodity=crude_oil&interval=1m&to=${to}&limit=100`, { token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const candles = res.body.candles as { open: number; high: number; low: number; close: number; volume: number; trades: number }[];
    assert.ok(candles.length >= 1);
    const trades = candles.reduce((n, c) => n + c.trades, 0);
    assert.ok(trades >= (last.seq as number), `candles count ${trades} trades, the tape had ${last.seq as number} by then`);
    const high = Math.max(...candles.map((c) => c.high));
    const low = Math.min(...candles.map((c) => c.low));
    for (const m of seenA) assert.ok(m.price <= high && m.price >= low, `trade ${m.seq as number} at ${m.price as number} within [${low}, ${high}]`);
    for (const c of candles) assert.ok(c.low <= c.open && c.open <= c.high && c.low <= c.close && c.close <= c.high && c.volume > 0);
  }
  // the books: a gateway streams the engine leader's (snapshot, then updates that keep its checksum)
  const snap = once(b, 'book-snapshot', 10_000);
  const updates = collect(b, 'book-update');
  assert.equal((await request(b, 'subscribe-book', { commodity: 'crude_oil', depth: 5 })).ok, true);
  const snapshot = await snap;
  let book = { bids: snapshot.bids as BookLevel[], asks: snapshot.asks as BookLevel[] };
  if (book.bids.length + book.asks.length === 0) await until(() => updates.length > 0, 10_000, 'the simulated market rests orders');
  await until(() => updates.length >= 3, 30_000, 'book updates');
  let seq = snapshot.seq as number;
  for (const u of updates) {
    assert.equal(u.seq, seq + 1, 'book-update seqs follow the snapshot');
    seq = u.seq as number;
    book = { bids: apply(book.bids, u.bids, 'bid'), asks: apply(book.asks, u.asks, 'ask') };
    assert.equal(bookChecksum(book.bids.slice(0, 5), book.asks.slice(0, 5), 2), u.checksum, 'the gateway streams a consistent book');
  }
  assert.ok(book.bids.length + book.asks.length > 0, 'the engine leader’s book is not empty');
  t.diagnostic(`book-update checked: ${updates.length}`);
  t.diagnostic(`market-trade checked: ${seenA.length} on gateway 1, ${seenB.length} on gateway 2, ${common.length} on both`);
});

/** A side after an update: changed levels replace, quantity 0 removes; best first. */
function apply(side: BookLevel[], changes: BookLevel[], kind: 'bid' | 'ask'): BookLevel[] {
  const m = new Map(side.map((l) => [l.price, l]));
  for (const c of changes) {
    if (c.quantity === 0) m.delete(c.price);
    else m.set(c.price, c);
  }
  return [...m.values()].sort((x, y) => (kind === 'bid' ? y.price - x.price : x.price - y.price));
}
