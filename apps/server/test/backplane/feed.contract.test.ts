/**
 * The StreamFeed, against both backplanes: `follow` gives the point from which the node receives
 * every event of a stream, once; `read` pages the durable log; `lastSeq` is the newest committed
 * seq (of the event log, or of the tape for a `trades-` stream); `book` is the book as the trading
 * core last published it, and its deltas rebuild it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streams, type BookLevel } from '@qx/protocol';
import type { PublishItem } from '../../src/core/event-committer.js';
import { applyLevels, type BookDelta, type BookState } from '../../src/core/book-ticker.js';
import { envelopeOf, followStreams, forEachBackplane, until } from './backplanes.js';

const orderUpdate = (userId: string, id: string): PublishItem => ({
  event: 'order-update',
  userId,
  payload: { id, userId, status: 'new', filledQuantity: 0, remainingQuantity: 5, averagePrice: 0 },
});

await forEachBackplane('StreamFeed', (deployment) => {
  const node = () => deployment().nodes[0]!;

  test('a follower starting at follow’s seq gets every later event once, while commits go on', async () => {
    const n = node();
    const stream = streams.orders('feed-follow');
    // some before anyone follows
    for (let i = 1; i <= 5; i++) await n.backplane.sink.commit([orderUpdate('feed-follow', `pre-${i}`)]);
    let committed = 0;
    const writer = (async () => {
      for (let i = 1; i <= 40; i++) {
        await n.backplane.sink.commit([orderUpdate('feed-follow', `live-${i}`)]);
        committed++;
      }
    })();
    // joined while the writer is half way
    await until(() => committed >= 10, 10_000, 'the writer to be under way');
    n.backplane.feed.listen(stream);
    const start = await n.backplane.feed.follow(stream);
    assert.ok(start >= 15 && start <= 45, `follow starts within what was committed (${start})`);
    await writer;
    await until(() => n.port.seqs(stream).includes(45), 10_000, 'the last event');
    await new Promise((r) => setTimeout(r, 100));
    const after = n.port.seqs(stream).filter((s) => s > start);
    assert.deepEqual(after, Array.from({ length: 45 - start }, (_, i) => start + i + 1), 'every event after the start, in order, once');
    // what came up to the start is the caller's to replay: the log has it
    const replay = await n.backplane.feed.read(stream, 0, 1000);
    assert.deepEqual(
      replay.map((e) => e.seq),
      Array.from({ length: 45 }, (_, i) => i + 1),
    );
  });

  test('read pages the durable log, oldest first; lastSeq is the newest committed', async () => {
    const n = node();
    const stream = streams.orders('feed-read');
    assert.equal(await n.backplane.feed.lastSeq(stream), 0);
    assert.deepEqual(await n.backplane.feed.read(stream, 0, 10), []);
    await followStreams(n, [stream]);
    for (let i = 1; i <= 5; i++) await n.backplane.sink.commit([orderUpdate('feed-read', `r-${i}`)]);
    assert.equal(await n.backplane.feed.lastSeq(stream), 5);
    const pages = [await n.backplane.feed.read(stream, 0, 2), await n.backplane.feed.read(stream, 2, 2), await n.backplane.feed.read(stream, 4, 2), await n.backplane.feed.read(stream, 5, 2)];
    assert.deepEqual(
      pages.map((p) => p.map((e) => e.seq)),
      [[1, 2], [3, 4], [5], []],
    );
    const all = pages.flat();
    assert.deepEqual(
      all.map((e) => [e.stream, e.event, envelopeOf(e).seq, envelopeOf(e).payload['id']]),
      [1, 2, 3, 4, 5].map((i) => [stream, 'order-update', i, `r-${i}`]),
    );
    // the log holds what the gateway was handed, byte for byte
    await until(() => n.port.of(stream).length === 5, 10_000, 'the five events');
    assert.deepEqual(
      n.port.of(stream).map((e) => e.envelope),
      all.map((e) => e.envelope),
    );
    // another stream is not mixed in
    assert.deepEqual(await n.backplane.feed.read(streams.trading('feed-read'), 0, 10), []);
  });

  test('the tape: each print delivered in its trades- stream; lastSeq and follow are the tape’s', async () => {
    const n = node();
    const tape = streams.tape('power');
    const before = await n.backplane.feed.lastSeq(tape);
    await followStreams(n, [tape]);
    const sell = await n.backplane.trading.submit('feed-maker', { commodity: 'power', side: 'sell', type: 'limit', quantity: 3, price: 50, timeInForce: 'gtc' });
    assert.equal(sell.ok, true, JSON.stringify(sell));
    const buy = await n.backplane.trading.submit('feed-taker', { commodity: 'power', side: 'buy', type: 'limit', quantity: 3, price: 50, timeInForce: 'gtc' });
    assert.equal(buy.ok && buy.order.status, 'filled', JSON.stringify(buy));
    await until(() => n.port.seqs(tape).includes(before + 1), 10_000, 'the print');
    const print = n.port.of(tape).find((e) => e.seq === before + 1)!;
    assert.equal(print.event, 'market-trade');
    const trade = JSON.parse(print.envelope) as { commodity: string; price: number; quantity: number; side: string; seq: number };
    assert.deepEqual([trade.commodity, trade.price, trade.quantity, trade.side, trade.seq], ['power', 50, 3, 'buy', before + 1]);
    assert.equal(await n.backplane.feed.lastSeq(tape), before + 1, 'the tape’s last seq');
    assert.equal(await n.backplane.feed.follow(tape), before + 1, 'followed from the tape’s last seq');
  });

  test('book: null before any order; the state the trading core last published; its deltas rebuild it', async () => {
    const n = node();
    const stream = streams.book('gasoline');
    assert.equal(await n.backplane.feed.book('gasoline'), null, 'a commodity whose book never changed');
    assert.equal(await n.backplane.feed.book('nope'), null, 'an unknown commodity');
    await followStreams(n, [stream]);
    const asks = [2.4, 2.41, 2.42];
    for (const price of asks) {
      const r = await n.backplane.trading.submit('feed-book', { commodity: 'gasoline', side: 'sell', type: 'limit', quantity: 10, price, timeInForce: 'gtc' });
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    const bid = await n.backplane.trading.submit('feed-book', { commodity: 'gasoline', side: 'buy', type: 'limit', quantity: 7, price: 2.3, timeInForce: 'gtc' });
    assert.equal(bid.ok, true);
    const want = (s: BookState | null) => s !== null && s.asks.length === 3 && s.bids.length === 1;
    let state: BookState | null = null;
    const deadline = Date.now() + 10_000;
    while (!want((state = await n.backplane.feed.book('gasoline')))) {
      assert.ok(Date.now() < deadline, `the book as published: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(state!.commodity, 'gasoline');
    assert.ok(state!.seq >= 1);
    const ticks = (levels: BookLevel[]) => levels.map((l) => [l.price, l.quantity, l.orders]);
    const view = await n.backplane.trading.book('gasoline', 10);
    assert.ok(view && !('unavailable' in view));
    assert.deepEqual(ticks(state!.asks), ticks(view.asks), 'the same levels as the engine’s book');
    assert.deepEqual(ticks(state!.bids), ticks(view.bids));
    // every delta up to the state's seq, in order: applied from an empty book they give the state
    await until(() => n.port.seqs(stream).includes(state!.seq), 10_000, 'the deltas up to the state');
    const deltas = n.port.of(stream).filter((e) => e.seq <= state!.seq);
    assert.deepEqual(
      deltas.map((e) => e.seq),
      Array.from({ length: state!.seq }, (_, i) => i + 1),
      'numbered from 1, in order, once each',
    );
    let bids: BookLevel[] = [];
    let sells: BookLevel[] = [];
    for (const e of deltas) {
      assert.equal(e.event, 'book-delta');
      const d = JSON.parse(e.envelope) as BookDelta;
      bids = applyLevels(bids, d.bids, true);
      sells = applyLevels(sells, d.asks, false);
    }
    assert.deepEqual([ticks(bids), ticks(sells)], [ticks(state!.bids), ticks(state!.asks)]);
  });
});
