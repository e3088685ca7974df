import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Exchange } from './exchange.js';
import type { EngineEvent } from './events.js';
import type { JournalRecord } from './journal.js';
import { manualClock, payloadProblems } from './testing.js';
import type { OrderRequest, Side, TimeInForce } from './types.js';

type Op =
  | { kind: 'limit'; user: number; side: Side; offset: number; quantity: number; tif: TimeInForce; cid: string | null }
  | { kind: 'market'; user: number; side: Side; quantity: number; tif: 'ioc' | 'fok' }
  | { kind: 'cancel'; user: number; pick: number }
  | { kind: 'expire' };

const USERS = ['u0', 'u1', 'u2', '~agent'];
const REAL_USERS = USERS.filter((u) => !u.startsWith('~'));

const side = fc.constantFrom<Side>('buy', 'sell');
const opArb = (users: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('limit' as const), user: fc.nat(users - 1), side, offset: fc.integer({ min: -8, max: 8 }), quantity: fc.integer({ min: 1, max: 60 }), tif: fc.constantFrom<TimeInForce>('gtc', 'gtc', 'day', 'ioc', 'fok'), cid: fc.option(fc.constantFrom('a', 'b', 'c'), { freq: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('market' as const), user: fc.nat(users - 1), side, quantity: fc.integer({ min: 1, max: 120 }), tif: fc.constantFrom<'ioc' | 'fok'>('ioc', 'fok') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), user: fc.nat(users - 1), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  );

function newExchange(clock: ReturnType<typeof manualClock>): Exchange {
  // small limits so pre-trade rejections and threshold alerts happen too
  const users = Object.fromEntries(REAL_USERS.map((u) => [u, { crude_oil: { positionLimit: 300, maxOrderSize: 100 } }]));
  return new Exchange({ clock: clock.now, compliance: { users } });
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
  const request: OrderRequest =
    op.kind === 'limit'
      ? { commodity: 'crude_oil', side: op.side, type: 'limit', price: (7500 + op.offset) / 100, quantity: op.quantity, timeInForce: op.tif, clientOrderId: op.cid }
      : { commodity: 'crude_oil', side: op.side, type: 'market', quantity: op.quantity, timeInForce: op.tif };
  const r = exchange.submit(userId, request);
  if (r.order !== undefined && !knownIds.includes(r.order.id)) knownIds.push(r.order.id);
  return { events: r.events, journal: r.journal, answer: r.ok ? r.order : [r.error.code, r.order] };
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
