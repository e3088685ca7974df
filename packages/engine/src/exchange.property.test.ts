import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Exchange } from './exchange.js';
import type { OrderUpdatePayload } from '@qx/protocol';
import type { EngineEvent } from './events.js';
import type { JournalRecord } from './journal.js';
import { manualClock, payloadProblems } from './testing.js';
import type { OrderRequest, Side, TimeInForce } from './types.js';

type Op =
  | { kind: 'limit'; user: number; side: Side; offset: number; quantity: number; tif: TimeInForce; cid: string | null }
  | { kind: 'market'; user: number; side: Side; quantity: number; tif: 'ioc' | 'fok' }
  | { kind: 'cancel'; user: number; pick: number }
  | { kind: 'amend'; user: number; pick: number; offset: number | null; quantity: number | null }
  | { kind: 'expire' };

const USERS = ['u0', 'u1', 'u2', '~agent'];
const REAL_USERS = USERS.filter((u) => !u.startsWith('~'));

const side = fc.constantFrom<Side>('buy', 'sell');
const opArb = (users: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('limit' as const), user: fc.nat(users - 1), side, offset: fc.integer({ min: -8, max: 8 }), quantity: fc.integer({ min: 1, max: 60 }), tif: fc.constantFrom<TimeInForce>('gtc', 'gtc', 'day', 'ioc', 'fok'), cid: fc.option(fc.constantFrom('a', 'b', 'c'), { freq: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('market' as const), user: fc.nat(users - 1), side, quantity: fc.integer({ min: 1, max: 120 }), tif: fc.constantFrom<'ioc' | 'fok'>('ioc', 'fok') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), user: fc.nat(users - 1), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('amend' as const), user: fc.nat(users - 1), pick: fc.nat(), offset: fc.option(fc.integer({ min: -8, max: 8 }), { freq: 2 }), quantity: fc.option(fc.integer({ min: 1, max: 120 }), { freq: 2 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  );

function newExchange(clock: ReturnType<typeof manualClock>): Exchange {
  // small limits so pre-trade rejections and threshold alerts happen too
  const users = Object.fromEntries(REAL_USERS.map((u) => [u, { crude_oil: { positionLimit: 300, maxOrderSize: 100 } }]));
  return new Exchange({ clock: clock.now, compliance: { users } });
}

/** Mostly one of the user's open orders; sometimes any of theirs (finished too), or anyone's. */
function amendTarget(exchange: Exchange, userId: string, pick: number, knownIds: string[]): string {
  const open = exchange.openOrders(userId).map((o) => o.id);
  const mine = knownIds.filter((id) => exchange.getOrder(userId, id) !== null);
  const pool = pick % 5 < 3 && open.length > 0 ? open : pick % 5 === 3 && mine.length > 0 ? mine : knownIds;
  return pool.length === 0 ? 'ord-0' : (pool[pool.length - 1 - (Math.floor(pick / 5) % pool.length)] as string);
}

/** Applies one op; returns what came back, so runs can be compared. */
function apply(exchange: Exchange, op: Op, knownIds: string[]): { events: EngineEvent[]; journal: JournalRecord[]; answer: unknown } {
  if (op.kind === 'expire') {
    const r = exchange.expireDayOrders();
    return { ...r, answer: null };
  }
  const userId = USERS[op.user] as string;
  if (op.kind === 'cancel') {
    const id = knownIds.length === 0 ? 'ord-0' : (knownIds[op.pick % knownIds.length] as string);
    const r = exchange.cancel(userId, id);
    return { events: r.events, journal: r.journal, answer: r.ok ? r.order : r.error.code };
  }
  if (op.kind === 'amend') {
    const id = amendTarget(exchange, userId, op.pick, knownIds);
    const change: { price?: number; quantity?: number } = {};
    if (op.offset !== null) change.price = (7500 + op.offset) / 100;
    if (op.quantity !== null) change.quantity = op.quantity;
    const r = exchange.amend(userId, id, change);
    return { events: r.events, journal: r.journal, answer: r.ok ? r.order : r.error.code };
  }
  const request: OrderRequest =
    op.kind === 'limit'
      ? { commodity: 'crude_oil', side: op.side, type: 'limit', price: (7500 + op.offset) / 100, quantity: op.quantity, timeInForce: op.tif, clientOrderId: op.cid }
      : { commodity: 'crude_oil', side: op.side, type: 'market', quantity: op.quantity, timeInForce: op.tif };
  const r = exchange.submit(userId, request);
  if (r.order !== undefined && !knownIds.includes(r.order.id)) knownIds.push(r.order.id);
  return { events: r.events, journal: r.journal, answer: r.ok ? r.order : [r.error.code, r.order] };
}

/** Every resting order's id per level, best level first, in queue order (with its queue priority). */
function queues(exchange: Exchange): { price: number; orders: { id: string; queuePriority: number }[] }[] {
  const book = exchange.market('crude_oil')!.book;
  const out: { price: number; orders: { id: string; queuePriority: number }[] }[] = [];
  for (const side of [book.bids, book.asks]) {
    for (const level of side.fromBest()) {
      const orders: { id: string; queuePriority: number }[] = [];
      for (let o = level.head; o !== null; o = o.next) orders.push({ id: o.id, queuePriority: o.queuePriority });
      out.push({ price: level.priceTicks, orders });
    }
  }
  return out;
}

function snapshot(exchange: Exchange) {
  return {
    book: exchange.book('crude_oil', 1000),
    market: exchange.marketData('crude_oil'),
    users: REAL_USERS.map((u) => ({ open: exchange.openOrders(u), positions: exchange.positions(u) })),
  };
}

test('matching invariants hold over random order sequences', () => {
  fc.assert(
    fc.property(fc.array(opArb(USERS.length), { minLength: 1, maxLength: 60 }), (ops) => {
      const clock = manualClock();
      const exchange = newExchange(clock);
      const knownIds: string[] = [];
      const net = new Map<string, number>();
      for (const op of ops) {
        clock.advance(1000);
        const { events, journal } = apply(exchange, op, knownIds);
        assert.deepEqual(payloadProblems(events), []);

        // the book is never crossed after matching
        const book = exchange.market('crude_oil')!.book;
        const bid = book.bestBid();
        const ask = book.bestAsk();
        if (bid !== null && ask !== null) assert.ok(bid < ask, `crossed book ${bid} ≥ ${ask}`);

        // quantity is conserved in every journaled order
        for (const r of journal) {
          if (r.kind !== 'order') continue;
          const o = r.order;
          assert.equal(o.filledQuantity + o.remainingQuantity + o.cancelledQuantity, o.quantity);
          assert.ok(o.filledQuantity >= 0 && o.remainingQuantity >= 0 && o.cancelledQuantity >= 0);
          assert.equal(o.remainingQuantity > 0, o.status === 'new' || o.status === 'partially_filled');
        }

        for (const e of events) {
          if (e.event !== 'trade-update') continue;
          const t = e.payload;
          net.set(t.userId, (net.get(t.userId) ?? 0) + (t.side === 'buy' ? t.quantity : -t.quantity));
          // each trade price respects the limit of the order it belongs to
          const order = exchange.getOrder(t.userId, t.orderId);
          assert.ok(order !== null);
          if (order.price !== null && order.price !== undefined) {
            assert.ok(t.side === 'buy' ? t.price <= order.price : t.price >= order.price, `trade at ${t.price} breaks limit ${order.price}`);
          }
        }
        // agents never show up in events or journal
        assert.ok(events.every((e) => e.userId === undefined || !e.userId.startsWith('~')));
      }
      // positions equal the sum of fills, and book levels equal the open orders behind them
      let openBuy = 0;
      let openSell = 0;
      for (const u of REAL_USERS) {
        assert.equal(exchange.position(u, 'crude_oil')?.netQuantity ?? 0, net.get(u) ?? 0);
        for (const o of exchange.openOrders(u)) {
          assert.equal(o.filledQuantity + o.remainingQuantity <= (o.quantity ?? 0), true);
          if (o.side === 'buy') openBuy += o.remainingQuantity;
          else openSell += o.remainingQuantity;
        }
      }
      const view = exchange.book('crude_oil', 1000)!;
      const agentOpen = (s: 'bids' | 'asks') => view[s].reduce((n, l) => n + l.quantity, 0);
      // agents' orders rest too, so the book holds at least the real users' open quantity
      assert.ok(agentOpen('bids') >= openBuy && agentOpen('asks') >= openSell);
    }),
    { numRuns: 150 },
  );
});

test('amend invariants: decreases keep the queue, other changes go to its back, refusals change nothing', () => {
  const seen = { refused: 0, kept: 0, requeued: 0, crossed: 0 };
  const codes: Record<string, number> = {};
  fc.assert(
    fc.property(fc.array(opArb(USERS.length), { minLength: 20, maxLength: 80, size: 'max' }), (ops) => {
      const clock = manualClock();
      const exchange = newExchange(clock);
      const knownIds: string[] = [];
      // a resting book to amend: each real user bids below and offers above the reference
      for (const [n, u] of REAL_USERS.entries()) {
        for (const [side, ticks] of [['buy', 7490 - n], ['sell', 7510 + n], ['buy', 7493 - n], ['sell', 7507 + n]] as const) {
          const r = exchange.submit(u, { commodity: 'crude_oil', side, type: 'limit', price: ticks / 100, quantity: 10 });
          if (r.order !== undefined) knownIds.push(r.order.id);
        }
      }
      for (const op of ops) {
        clock.advance(1000);
        const userId = USERS['user' in op ? op.user : 0] as string;
        const id = op.kind === 'amend' ? amendTarget(exchange, userId, op.pick, knownIds) : 'ord-0';
        const before = op.kind === 'amend' ? { order: exchange.getOrder(userId, id), queues: queues(exchange), state: snapshot(exchange) } : null;
        const { events, journal, answer } = apply(exchange, op, knownIds);
        assert.deepEqual(payloadProblems(events), []);
        // every level's queue is in queue-priority order (restore rebuilds it by that number)
        for (const level of queues(exchange)) {
          for (let i = 1; i < level.orders.length; i++) assert.ok(level.orders[i - 1]!.queuePriority < level.orders[i]!.queuePriority);
        }
        if (op.kind !== 'amend' || before === null) continue;
        if (typeof answer === 'string') {
          // refused: coded, nothing emitted, nothing changed
          seen.refused++;
          codes[answer] = (codes[answer] ?? 0) + 1;
          assert.equal(events.length + journal.length, 0);
          assert.deepEqual(queues(exchange), before.queues);
          assert.deepEqual(snapshot(exchange), before.state);
          const o = before.order;
          if (o === null || o.userId !== userId) assert.equal(answer, 'ORDER_NOT_FOUND');
          else if (o.status !== 'new' && o.status !== 'partially_filled') assert.equal(answer, 'ORDER_NOT_OPEN');
          continue;
        }
        const old = before.order!;
        const now = answer as OrderUpdatePayload;
        const newPrice = op.offset === null ? old.price : (7500 + op.offset) / 100;
        const newQuantity = op.quantity ?? old.quantity;
        assert.equal(now.quantity, newQuantity);
        assert.equal(now.price, newPrice);
        assert.ok(newQuantity! > old.filledQuantity);
        assert.equal(now.filledQuantity + now.remainingQuantity, newQuantity);
        if (newPrice === old.price && newQuantity === old.quantity) {
          assert.equal(events.length + journal.length, 0);
          continue;
        }
        // the owner hears of the amend first
        assert.deepEqual([events[0]?.event, events[0]?.userId, (events[0]?.payload as OrderUpdatePayload).quantity], ['order-update', userId, newQuantity]);
        const trades = events.filter((e) => e.event === 'trade-update');
        if (newPrice === old.price && newQuantity! < old.quantity!) {
          // a decrease: the same queues (nothing traded, nobody moved)
          seen.kept++;
          assert.equal(trades.length, 0);
          assert.deepEqual(queues(exchange), before.queues);
        } else if (now.remainingQuantity > 0) {
          seen.requeued++;
          if (trades.length > 0) seen.crossed++;
          // lost priority: at the back of its level, behind every order queued before
          const level = queues(exchange).find((l) => l.orders.some((o) => o.id === id))!;
          assert.equal(level.orders.at(-1)?.id, id);
          const others = queues(exchange).flatMap((l) => l.orders).filter((o) => o.id !== id);
          const mine = level.orders.at(-1)!.queuePriority;
          assert.ok(others.every((o) => o.queuePriority < mine));
        } else {
          // filled in full by crossing
          seen.crossed++;
          assert.ok(trades.length > 0);
          assert.equal(now.status, 'filled');
        }
      }
    }),
    { numRuns: 150 },
  );
  // every branch above was exercised
  assert.ok(Object.values(seen).every((n) => n > 5), JSON.stringify([seen, codes]));
});

test('restore from the journal rebuilds the same state and continues matching identically', () => {
  const realUsers = REAL_USERS.length;
  fc.assert(
    fc.property(fc.array(opArb(realUsers), { minLength: 1, maxLength: 50 }), fc.array(opArb(realUsers), { maxLength: 30 }), (before, after) => {
      const clock = manualClock();
      const original = newExchange(clock);
      const journal: JournalRecord[] = [...original.startSession(clock.now()).journal];
      const knownIds: string[] = [];
      for (const op of before) {
        clock.advance(1000);
        journal.push(...apply(original, op, knownIds).journal);
      }
      // the journal must survive a JSON round trip (it goes to a database)
      const stored = JSON.parse(JSON.stringify(journal)) as JournalRecord[];
      const restored = newExchange(clock);
      const outcome = restored.restore(stored);
      assert.equal(outcome.ok, true);
      assert.deepEqual(snapshot(restored), snapshot(original));

      const idsA = [...knownIds];
      const idsB = [...knownIds];
      for (const op of after) {
        clock.advance(1000);
        assert.deepEqual(apply(restored, op, idsB), apply(original, op, idsA));
      }
      assert.deepEqual(snapshot(restored), snapshot(original));
    }),
    { numRuns: 150 },
  );
});

test('restore refuses a used exchange', () => {
  const clock = manualClock();
  const exchange = newExchange(clock);
  exchange.submit('u0', { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 75, quantity: 1 });
  assert.equal(exchange.restore([]).ok, false);
});
