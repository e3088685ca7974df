/**
 * The market feeds (additions) against the real gateway: the streaming order book
 * (`subscribe-book` → `book-snapshot`, `book-update` with seq and CRC32 checksum; conflated into a
 * snapshot for a slow socket), the public tape (`subscribe-trades` → `market-trade`, no user
 * ids), candles from the stored tape (surviving a restart), authorization, limits and coded
 * errors; and the SDK repairing a book that fails its checksum. Seed clients see none of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { bookChecksum, type BookSnapshot, type BookUpdate, type MarketTrade, type OrderRequestBody } from '@qx/protocol';
import { LocalBook, QuantEnergxClient, type BookView } from '@qx/client';
import { collect, recordAll, request, startServer, until, type TestServer } from './helpers.js';
import { RawClient } from './raw-client.js';

/** a price on the 0.01 grid: sums like 74.9 - 0.05 are 74.85000000000001 in binary, which the engine refuses (PRICE_OFF_TICK) */
const px = (x: number) => Math.round(x * 100) / 100;
const lim = (side: 'buy' | 'sell', price: number, quantity: number, commodity = 'crude_oil'): OrderRequestBody => ({ commodity, side, type: 'limit', price, quantity, timeInForce: 'gtc' });

async function submit(server: TestServer, userId: string, body: OrderRequestBody) {
  const r = await server.app.trading!.submit(userId, body);
  assert.ok(r.ok, r.ok ? '' : `${r.error.code} ${r.error.message}`);
  return r.order;
}

/** Resting orders on both sides of crude oil around 75: seven levels a side. */
async function seedBook(server: TestServer): Promise<void> {
  for (let i = 0; i < 7; i++) {
    await submit(server, 'mm-bid', lim('buy', px(74.9 - i * 0.05), 100 + i));
    await submit(server, 'mm-ask', lim('sell', px(75.1 + i * 0.05), 200 + i));
  }
}

const restBook = async (server: TestServer, depth: number) => (await server.http(`/api/v1/market/crude_oil/book?depth=${depth}`, { token: await server.sign('reader') })).body;

test('subscribe-book and subscribe-trades: authenticated only, coded errors, limits', async () => {
  const server = await startServer({ MAX_SUBSCRIPTIONS_PER_SOCKET: '3', MAX_COMMODITIES_PER_REQUEST: '2' });
  try {
    const anonymous = server.client();
    await until(() => anonymous.connected, 3000, 'connect');
    for (const [event, payload] of [['subscribe-book', { commodity: 'crude_oil' }], ['subscribe-trades', ['crude_oil']]] as const) {
      const r = await request(anonymous, event, payload);
      assert.equal(r.error.code, 'NOT_AUTHENTICATED', event);
    }
    const socket = await server.authed('limits');
    const code = async (event: string, payload: unknown) => (await request<{ error?: { code: string; field?: string } }>(socket, event, payload)).error;
    assert.equal((await code('subscribe-book', { commodity: 'unobtainium' }))?.code, 'UNKNOWN_COMMODITY');
    for (const bad of [{ commodity: 'crude_oil', depth: 0 }, { commodity: 'crude_oil', depth: 21 }, { commodity: 'crude_oil', depth: 'x' }, { commodity: 'crude_oil', junk: 1 }, 42, null]) {
      assert.equal((await code('subscribe-book', bad))?.code, 'INVALID_PAYLOAD', JSON.stringify(bad));
    }
    assert.equal((await code('subscribe-book', { commodity: 'crude_oil', depth: 21 }))?.field, 'depth');
    assert.equal((await code('unsubscribe-book', { commodity: 'nope' }))?.code, 'UNKNOWN_COMMODITY');
    assert.equal((await code('subscribe-trades', ['crude_oil', 'nope']))?.code, 'UNKNOWN_COMMODITY');
    assert.equal((await code('subscribe-trades', ['crude_oil', 'brent', 'power']))?.code, 'TOO_MANY_COMMODITIES');
    // a bare symbol is a 10-level book; asking again (another depth) replaces it, and does not count twice
    assert.deepEqual(await request(socket, 'subscribe-book', 'brent'), { ok: true, commodity: 'brent', depth: 10, message: 'Subscribed to the brent order book, 10 levels' });
    assert.equal((await request(socket, 'subscribe-book', { commodity: 'brent', depth: 3 })).ok, true);
    assert.equal((await request(socket, 'subscribe-trades', ['crude_oil', 'brent'])).ok, true);
    assert.equal((await code('subscribe-book', { commodity: 'power' }))?.code, 'TOO_MANY_SUBSCRIPTIONS');
    const limits = [...server.app.io.of('/').sockets.values()].find((s) => s.data.auth?.userId === 'limits');
    // every socket is also in a room named by its id (which may itself contain a '-'): leave that out
    const rooms = [...(limits?.rooms ?? [])].filter((r) => r.includes('-') && r !== limits?.id).sort();
    assert.deepEqual(rooms, ['book-brent-3', 'trades-brent', 'trades-crude_oil']);
    assert.deepEqual(await request(socket, 'unsubscribe-book', { commodity: 'brent' }), { ok: true, commodity: 'brent', message: 'Unsubscribed from the brent order book' });
    assert.equal((await request(socket, 'subscribe-book', { commodity: 'power' })).ok, true);
  } finally {
    await server.close();
  }
});

test('book: a snapshot, then deltas numbered by seq whose checksums prove the rebuilt book; seed clients see nothing new', async () => {
  const server = await startServer();
  try {
    await seedBook(server);
    const seed = server.client();
    const seedEvents = recordAll(seed);
    seed.emit('authenticate', { userId: 'seed', token: await server.sign('seed') });
    await until(() => seedEvents.some(([e]) => e === 'auth-success'), 3000, 'seed auth');
    seed.emit('subscribe-market', ['crude_oil']);

    const socket = await server.authed('reader');
    const snapshots = collect<BookSnapshot>(socket, 'book-snapshot');
    const updates = collect<BookUpdate>(socket, 'book-update');
    assert.deepEqual(await request(socket, 'subscribe-book', { commodity: 'crude_oil', depth: 5 }), {
      ok: true,
      commodity: 'crude_oil',
      depth: 5,
      message: 'Subscribed to the crude_oil order book, 5 levels',
    });
    await until(() => snapshots.length === 1, 3000, 'snapshot');
    const snap = snapshots[0]!;
    const rest = await restBook(server, 5);
    assert.deepEqual({ bids: snap.bids, asks: snap.asks }, { bids: rest.bids, asks: rest.asks });
    assert.equal(snap.bids.length, 5, 'truncated to the depth');
    assert.equal(snap.decimals, 2);
    assert.equal(snap.checksum, bookChecksum(rest.bids, rest.asks, 2));
    const book = new LocalBook(snap);

    // a new best bid, a changed level, a level traded away, a cancel: each tick one update
    const changes: (() => Promise<unknown>)[] = [
      () => submit(server, 'mm-bid', lim('buy', 74.95, 10)),
      () => submit(server, 'mm-ask', lim('sell', 75.1, 5)),
      () => submit(server, 'taker', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 205 }),
      async () => {
        const open = server.app.exchange.openOrders('mm-bid').find((o) => o.price === 74.95);
        assert.ok(open);
        assert.equal((await server.app.trading!.cancel('mm-bid', open.id)).ok, true);
      },
    ];
    for (const change of changes) {
      await change();
      const before = updates.length;
      server.app.bookFeed.tick();
      await until(() => updates.length > before, 3000, 'book-update');
    }
    for (const u of updates) assert.equal(book.apply(u), 'applied', `update ${u.seq}`);
    assert.deepEqual(updates.map((u) => u.seq), updates.map((_, i) => snap.seq + i + 1), 'seq +1 per update');
    // only changed levels travel; removed ones as quantity 0
    assert.ok(updates.every((u) => u.bids.length + u.asks.length <= 4), JSON.stringify(updates.map((u) => [u.bids.length, u.asks.length])));
    assert.ok(updates[2]!.asks.some((l) => l.price === 75.1 && l.quantity === 0), 'the ask level traded away is removed');
    const after = await restBook(server, 5);
    assert.deepEqual({ bids: book.bids, asks: book.asks }, { bids: after.bids, asks: after.asks });

    // nothing changed: no update
    const count = updates.length;
    server.app.bookFeed.tick();
    assert.equal((await request(socket, 'ping')).ok, true); // what the tick sent came before the answer
    assert.equal(updates.length, count);

    // the seed client got only what the seed protocol has (its ping's answer, pong, too)
    assert.equal((await request(seed, 'ping')).ok, true);
    assert.deepEqual([...new Set(seedEvents.map(([e]) => e))].sort(), ['auth-success', 'market-subscribed', 'market-update', 'session', 'pong'].filter((e) => seedEvents.some(([x]) => x === e)).sort());
    assert.ok(!seedEvents.some(([e]) => e.startsWith('book') || e === 'market-trade'));
  } finally {
    await server.close();
  }
});

test('trades: market-trade per fill without user ids, numbered per commodity; candles from the stored tape survive a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-tape-'));
  let server = await startServer({}, { dataDir, keepData: true });
  try {
    const socket = await server.authed('tape');
    const other = await server.authed('tape-brent');
    const trades = collect<MarketTrade>(socket, 'market-trade');
    const brentOnly = collect<MarketTrade>(other, 'market-trade');
    assert.deepEqual(await request(socket, 'subscribe-trades', 'crude_oil'), { ok: true, commodities: ['crude_oil'], message: 'Subscribed to trades for: crude_oil' });
    assert.equal((await request(other, 'subscribe-trades', ['brent'])).ok, true);

    await submit(server, 'alice', lim('sell', 75, 100));
    await submit(server, 'alice', lim('sell', 75.5, 100));
    const taker = await submit(server, 'bob', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 130 });
    await until(() => trades.length === 2, 3000, 'two market trades');
    assert.deepEqual(trades.map(({ time: _time, ...t }) => t), [
      { commodity: 'crude_oil', tradeId: trades[0]!.tradeId, price: 75, quantity: 100, side: 'buy', seq: 1 },
      { commodity: 'crude_oil', tradeId: trades[1]!.tradeId, price: 75.5, quantity: 30, side: 'buy', seq: 2 },
    ]);
    assert.ok(trades.every((t) => !/alice|bob|ord-/.test(JSON.stringify(t))), 'no user or order ids on the tape');
    assert.ok(Date.parse(trades[0]!.time) > 0);
    assert.equal(taker.filledQuantity, 130);
    await submit(server, 'carol', { commodity: 'crude_oil', side: 'sell', type: 'limit', price: 74.5, quantity: 10, timeInForce: 'ioc' }); // no bid: nothing trades
    for (const s of [socket, other]) assert.equal((await request(s, 'ping')).ok, true); // what was sent to them came before the answer
    assert.equal(trades.length, 2);
    assert.equal(brentOnly.length, 0, 'only the commodities subscribed to');

    const token = await server.sign('tape');
    const day = (await server.http('/api/v1/market/candles?commodity=crude_oil&interval=1d', { token })).body;
    assert.equal(day.candles.length, 1);
    assert.deepEqual({ ...day.candles[0], time: undefined }, { time: undefined, open: 75, high: 75.5, low: 75, close: 75.5, volume: 130, trades: 2 });
    assert.equal(Date.parse(day.candles[0].time) % 86_400_000, 0, 'UTC-aligned');
    const minutes = (await server.http('/api/v1/market/candles?commodity=crude_oil&interval=1m&limit=10', { token })).body;
    assert.equal(minutes.candles.reduce((n: number, c: { volume: number }) => n + c.volume, 0), 130);
    const none = (await server.http('/api/v1/market/candles?commodity=brent&interval=1h', { token })).body;
    assert.deepEqual(none.candles, []);

    // bad queries: coded errors
    const bad = async (q: string) => (await server.http(`/api/v1/market/candles?${q}`, { token })).body.error;
    assert.equal((await bad('commodity=crude_oil&interval=2m')).field, 'interval');
    assert.equal((await bad('commodity=unobtainium')).code, 'UNKNOWN_COMMODITY');
    assert.equal((await bad('commodity=crude_oil&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).field, 'from');
    assert.equal((await bad('commodity=crude_oil&from=yesterday')).field, 'from');
    assert.equal((await bad('commodity=crude_oil&limit=5000')).field, 'limit');
    assert.equal((await bad('commodity=crude_oil&extra=1')).code, 'INVALID_PAYLOAD');
    assert.equal((await server.http('/api/v1/market/candles?commodity=crude_oil')).status, 401);
    const openapi = (await server.http('/api/v1/openapi.json')).body;
    assert.ok(openapi.paths['/api/v1/market/candles']?.get, 'candles in the OpenAPI document');

    // a restart keeps the tape: the candles, and the numbering goes on
    await server.close();
    server = await startServer({}, { dataDir, keepData: true });
    const again = (await server.http('/api/v1/market/candles?commodity=crude_oil&interval=1d', { token: await server.sign('tape') })).body;
    assert.deepEqual(again.candles, day.candles);
    const s2 = await server.authed('tape');
    const later = collect<MarketTrade>(s2, 'market-trade');
    assert.equal((await request(s2, 'subscribe-trades', ['crude_oil'])).ok, true);
    await submit(server, 'bob', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 10 });
    await until(() => later.length === 1, 3000, 'market trade after restart');
    assert.equal(later[0]!.seq, 3);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('book: a slow socket gets its queued deltas replaced by a snapshot, and still ends up with the exact book', async () => {
  const server = await startServer({ SLOW_CONSUMER_BUFFER_BYTES: '1024', SLOW_CONSUMER_MAX_PENDING: '5000' });
  const raw = new RawClient(server);
  try {
    await seedBook(server);
    await raw.connect(await server.sign('slow-book'));
    assert.equal(((await raw.request('subscribe-book', { commodity: 'crude_oil', depth: 20 })) as { ok: boolean }).ok, true);
    await until(() => raw.events('book-snapshot').length === 1, 3000, 'snapshot');
    raw.tcp.pause();

    // the book keeps changing until the slow socket's writes back up and its deltas are conflated;
    // a simulated agent (~) churns twenty levels a side straight on the engine (no journal), so
    // each update is large and the kernel's buffers fill in seconds
    const conflatedBefore = await server.metric('qx_market_updates_conflated_total');
    const deadline = Date.now() + 20_000;
    const resting: string[] = [];
    let step = 0;
    while ((await server.metric('qx_market_updates_conflated_total')) === conflatedBefore) {
      assert.ok(Date.now() < deadline, 'book updates were never conflated');
      for (let t = 0; t < 100; t++, step++) {
        for (let i = 0; i < 20; i++) {
          for (const [side, price] of [['buy', px(70 + i * 0.05)], ['sell', px(80 + i * 0.05)]] as const) {
            const r = server.app.exchange.submit('~churn', lim(side, Math.round(price * 100) / 100, 1 + ((step * 3 + i) % 11)));
            if (r.ok) resting.push(r.order.id);
          }
        }
        while (resting.length > 180) server.app.exchange.cancel('~churn', resting.shift()!);
        server.app.bookFeed.tick();
      }
      await turn();
    }
    raw.tcp.resume();
    // quiet now: the last frames arrive, until the book the socket rebuilt is the server's
    const expected = server.app.exchange.book('crude_oil', 20)!;
    let snapshots = 0;
    await until(() => {
      let book: LocalBook | null = null;
      snapshots = 0;
      for (const p of raw.packets) {
        if (p.startsWith('42["book-snapshot",')) {
          book = new LocalBook((JSON.parse(p.slice(2)) as [string, BookSnapshot])[1]);
          snapshots++;
        } else if (p.startsWith('42["book-update",') && book) {
          const r = book.apply((JSON.parse(p.slice(2)) as [string, BookUpdate])[1]);
          assert.ok(r === 'applied' || r === 'stale', `update applied cleanly: ${r}`);
        }
      }
      const b: LocalBook | null = book;
      return b !== null && JSON.stringify({ bids: b.bids, asks: b.asks }) === JSON.stringify({ bids: expected.bids, asks: expected.asks });
    }, 10_000, 'the slow socket\'s book to match');
    assert.ok(snapshots >= 2, `a conflated snapshot replaced deltas (snapshots: ${snapshots})`);
    assert.ok(server.app.io.of('/').sockets.size > 0, 'conflation alone does not disconnect');
  } finally {
    raw.ws.terminate();
    await server.close();
  }
});

test('SDK: subscribeBook keeps a checked copy; a copy that fails its checksum is resubscribed and repaired; subscribeTrades', async () => {
  const server = await startServer();
  const client = new QuantEnergxClient({ url: server.url, userId: 'sdk-book', getToken: () => server.sign('sdk-book'), requestTimeoutMs: 3000 });
  try {
    await seedBook(server);
    const views: BookView[] = [];
    const resyncs: { commodity: string; reason: string }[] = [];
    const tape: MarketTrade[] = [];
    client.on('book', (v) => views.push(v));
    client.on('book-resync', (r) => resyncs.push(r));
    client.on('market-trade', (t) => tape.push(t));
    await client.connect();
    assert.deepEqual(await client.subscribeBook('crude_oil', { depth: 5 }), { commodity: 'crude_oil', depth: 5, message: 'Subscribed to the crude_oil order book, 5 levels' });
    await client.subscribeTrades(['crude_oil']);
    await until(() => views.length === 1, 3000, 'first book');
    const rest = await restBook(server, 5);
    assert.deepEqual({ bids: client.book('crude_oil')?.bids, asks: client.book('crude_oil')?.asks }, { bids: rest.bids, asks: rest.asks });

    // the client's copy goes wrong (as if an update had been lost): the next update's checksum says so
    const copies = (client as unknown as { marketData: { books: Map<string, LocalBook> } }).marketData.books;
    const copy = copies.get('crude_oil')!;
    copy.bids = copy.bids.map((l, i) => (i === 2 ? { ...l, quantity: l.quantity + 1 } : l));
    await submit(server, 'mm-ask', lim('sell', 75.05, 7));
    server.app.bookFeed.tick();
    await until(() => resyncs.length === 1, 3000, 'book-resync');
    assert.deepEqual(resyncs[0], { commodity: 'crude_oil', reason: 'checksum-mismatch' });
    const repaired = await restBook(server, 5);
    await until(() => JSON.stringify(client.book('crude_oil')?.bids) === JSON.stringify(repaired.bids), 3000, 'repaired book');
    assert.deepEqual(client.book('crude_oil')?.asks, repaired.asks);
    assert.equal(client.stats.bookResyncs, 1);

    // and it stays right: the next update applies
    const before = views.length;
    await submit(server, 'mm-bid', lim('buy', 74.95, 3));
    server.app.bookFeed.tick();
    await until(() => views.length > before, 3000, 'next update');
    assert.equal(client.stats.bookResyncs, 1);
    assert.equal(client.book('crude_oil')?.checksum, bookChecksum((await restBook(server, 5)).bids, (await restBook(server, 5)).asks, 2));

    await submit(server, 'bob', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 10 });
    await until(() => tape.length === 2, 3000, 'market-trades through the SDK');
    assert.deepEqual(tape.map((t) => [t.price, t.quantity, t.side]), [[75.05, 7, 'buy'], [75.1, 3, 'buy']]);
  } finally {
    client.close();
    await server.close();
  }
});
