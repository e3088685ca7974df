/**
 * The EventSink and the bus, against both backplanes: what is committed reaches the gateway
 * (`GatewayPort.deliver`) in seq order per stream, each seq once, numbered per stream; market data
 * is numbered by the writer; a refused commit delivers nothing and uses no number; concurrent
 * commits (group commit) keep each caller's answer and the per-stream order of the calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streams } from '@qx/protocol';
import type { PublishItem } from '../../src/core/event-committer.js';
import { envelopeOf, followStreams, forEachBackplane, until, type Node } from './backplanes.js';

const orderUpdate = (userId: string, id: string): PublishItem => ({
  event: 'order-update',
  userId,
  payload: { id, userId, status: 'partially_filled', filledQuantity: 5, remainingQuantity: 5, averagePrice: 75.23 },
});
const tradeUpdate = (userId: string, id: string): PublishItem => ({
  event: 'trade-update',
  userId,
  payload: { id, orderId: 'o-1', userId, commodity: 'crude_oil', quantity: 10, price: 75.25, side: 'buy', status: 'executed', executionTime: '2024-07-29T22:00:00.000Z' },
});
const marketUpdate = (commodity: string, price: number): PublishItem => ({
  event: 'market-update',
  payload: { commodity, price, change: 0.5, changePercent: 0.6, volume: 1000, bid: price - 0.01, ask: price + 0.01 },
});
const systemAlert = (message: string): PublishItem => ({
  event: 'system-alert',
  payload: { alertType: 'maintenance', severity: 'info', message },
});

/** Waits until `node` has been handed `count` events of `stream`, then a moment more (a duplicate would show). */
async function delivered(node: Node, stream: string, count: number): Promise<number[]> {
  await until(() => node.port.of(stream).length >= count, 10_000, `${count} events of ${stream}`);
  await new Promise((r) => setTimeout(r, 100));
  return node.port.seqs(stream);
}

await forEachBackplane('EventSink and bus', (deployment) => {
  const node = () => deployment().nodes[0]!;

  test('committed events reach the gateway in seq order per stream, each once, numbered per stream from 1', async () => {
    const n = node();
    const [orders, trading] = [streams.orders('sink-a'), streams.trading('sink-a')];
    assert.deepEqual(await followStreams(n, [orders, trading]), [0, 0]);
    const first = await n.backplane.sink.commit([orderUpdate('sink-a', 'o-1'), tradeUpdate('sink-a', 't-1'), orderUpdate('sink-a', 'o-1')]);
    assert.deepEqual(first, [
      { event: 'order-update', stream: orders, seq: 1 },
      { event: 'trade-update', stream: trading, seq: 1 },
      { event: 'order-update', stream: orders, seq: 2 },
    ]);
    const second = await n.backplane.sink.commit([orderUpdate('sink-a', 'o-2')]);
    assert.deepEqual(second, [{ event: 'order-update', stream: orders, seq: 3 }]);
    assert.deepEqual(await delivered(n, orders, 3), [1, 2, 3]);
    assert.deepEqual(await delivered(n, trading, 1), [1]);
    // rendered once, by the writer: the seed's envelope with its seq, to the owner's room
    const e = n.port.of(orders)[2]!;
    assert.equal(e.room, orders);
    assert.equal(e.event, 'order-update');
    assert.deepEqual([envelopeOf(e).type, envelopeOf(e).seq, envelopeOf(e).userId, envelopeOf(e).payload['id']], ['ORDER_UPDATE', 3, 'sink-a', 'o-2']);
    assert.equal(await n.backplane.feed.lastSeq(orders), 3);
  });

  test('a market-only publish is numbered per commodity by the writer and delivered; its envelope has its timestamp', async () => {
    const n = node();
    const brent = streams.market('brent');
    const before = await n.backplane.feed.follow(brent);
    const published = await n.backplane.sink.commit([marketUpdate('brent', 79.1), marketUpdate('carbon', 70.2), marketUpdate('brent', 79.2)]);
    assert.deepEqual(
      published.map((p) => [p.stream, p.seq]),
      [
        [brent, before + 1],
        [streams.market('carbon'), published[1]!.seq],
        [brent, before + 2],
      ],
    );
    const seqs = await delivered(n, brent, 2);
    assert.deepEqual(seqs.filter((s) => s > before), [before + 1, before + 2]);
    const last = envelopeOf(n.port.of(brent).at(-1)!);
    assert.equal(last.type, 'MARKET_UPDATE');
    assert.equal(last.payload['price'], 79.2);
    assert.equal(typeof last.payload['timestamp'], 'string', 'the writer fills the timestamp');
    // market data is state: it is not in the event log
    assert.deepEqual(await n.backplane.feed.read(brent, 0, 10), []);
  });

  test('a mixed batch: each event numbered in its own stream, in batch order; the system alert goes to every authenticated socket', async () => {
    const n = node();
    const orders = streams.orders('sink-mixed');
    const crude = streams.market('crude_oil');
    const [, crudeBefore, systemBefore] = await followStreams(n, [orders, crude, streams.system]);
    const published = await n.backplane.sink.commit([orderUpdate('sink-mixed', 'm-1'), marketUpdate('crude_oil', 75.4), systemAlert('mixed'), orderUpdate('sink-mixed', 'm-2')]);
    assert.deepEqual(
      published.map((p) => [p.event, p.stream, p.seq]),
      [
        ['order-update', orders, 1],
        ['market-update', crude, crudeBefore! + 1],
        ['system-alert', streams.system, systemBefore! + 1],
        ['order-update', orders, 2],
      ],
    );
    assert.deepEqual(await delivered(n, orders, 2), [1, 2]);
    await until(() => n.port.seqs(crude).includes(crudeBefore! + 1), 10_000, 'the market update');
    await until(() => n.port.seqs(streams.system).includes(systemBefore! + 1), 10_000, 'the system alert');
    const alert = n.port.of(streams.system).find((e) => e.seq === systemBefore! + 1)!;
    assert.equal(alert.room, 'authenticated');
    assert.equal(envelopeOf(alert).payload['message'], 'mixed');
    assert.equal(n.port.of(crude).filter((e) => e.seq === crudeBefore! + 1).length, 1, 'once');
  });

  test('a refused commit delivers nothing and uses no number, in any stream of the batch', async () => {
    const n = node();
    const [ok, bad, gas] = [streams.orders('sink-ok'), streams.orders('sink-refused'), streams.market('natural_gas')];
    await followStreams(n, [ok, bad, gas]);
    await n.backplane.sink.commit([orderUpdate('sink-ok', 'ok-1')]);
    const gasBefore = (await n.backplane.sink.commit([marketUpdate('natural_gas', 3.1)]))[0]!.seq;
    await delivered(n, ok, 1);
    const undo = await deployment().refuse(bad);
    try {
      // durable events alone (committed where the gateway is), and with market data (numbered by the trading core)
      await assert.rejects(n.backplane.sink.commit([orderUpdate('sink-ok', 'ok-2'), orderUpdate('sink-refused', 'bad-1')]));
      await assert.rejects(n.backplane.sink.commit([marketUpdate('natural_gas', 3.2), orderUpdate('sink-refused', 'bad-2'), orderUpdate('sink-ok', 'ok-3')]));
    } finally {
      await undo();
    }
    assert.deepEqual(await n.backplane.feed.read(ok, 0, 10).then((l) => l.map((e) => e.seq)), [1], 'nor stored');
    // no number was used: the next events take the next ones
    const next = await n.backplane.sink.commit([orderUpdate('sink-ok', 'ok-4'), orderUpdate('sink-refused', 'bad-3'), marketUpdate('natural_gas', 3.3)]);
    assert.deepEqual(
      next.map((p) => [p.stream, p.seq]),
      [
        [ok, 2],
        [bad, 1],
        [gas, gasBefore + 1],
      ],
    );
    assert.deepEqual(await delivered(n, ok, 2), [1, 2]);
    assert.deepEqual(await delivered(n, bad, 1), [1]);
    await until(() => n.port.of(gas).some((e) => envelopeOf(e).payload['price'] === 3.3), 10_000, 'the next market data');
    // the next events are delivered, per stream in order: nothing of the refused batches came before them
    const ids = (stream: string) => n.port.of(stream).map((e) => envelopeOf(e).payload['id']);
    assert.deepEqual(ids(ok), ['ok-1', 'ok-4'], 'nothing of a refused batch is delivered');
    assert.deepEqual(ids(bad), ['bad-3']);
    assert.ok(!n.port.of(gas).some((e) => envelopeOf(e).payload['price'] === 3.2), 'its market data neither');
  });

  test('concurrent commits (group commit): each caller is answered with its own numbers; per stream they follow the calls', async () => {
    const n = node();
    const users = ['gc-a', 'gc-b', 'gc-c'];
    const orderStreams = users.map((u) => streams.orders(u));
    await followStreams(n, orderStreams);
    const calls = Array.from({ length: 60 }, (_, i) => {
      const user = users[i % users.length]!;
      // some calls carry two events of the stream
      const items = i % 4 === 0 ? [orderUpdate(user, `c-${i}`), orderUpdate(user, `c-${i}-b`)] : [orderUpdate(user, `c-${i}`)];
      return { user, items, answer: n.backplane.sink.commit(items) };
    });
    const answers = await Promise.all(calls.map((c) => c.answer));
    const next = new Map(orderStreams.map((s) => [s, 1]));
    calls.forEach((call, i) => {
      const stream = streams.orders(call.user);
      const expected = call.items.map(() => {
        const seq = next.get(stream)!;
        next.set(stream, seq + 1);
        return { event: 'order-update', stream, seq };
      });
      assert.deepEqual(answers[i], expected, `call ${i}: its own events, numbered after the calls before it`);
    });
    for (const stream of orderStreams) {
      const last = next.get(stream)! - 1;
      const seqs = await delivered(n, stream, last);
      assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), `${stream}: in order, once each`);
      // each delivered event is the one its caller was told of
      for (const e of n.port.of(stream)) {
        const callIndex = answers.findIndex((a) => a.some((p) => p.stream === stream && p.seq === e.seq));
        const item = calls[callIndex]!.items[answers[callIndex]!.findIndex((p) => p.stream === stream && p.seq === e.seq)]!;
        assert.equal(envelopeOf(e).payload['id'], (item.payload as { id: string }).id);
      }
    }
  });
});
