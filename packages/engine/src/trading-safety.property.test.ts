import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Exchange } from './exchange.js';
import type { EngineBatch } from './events.js';
import type { JournalRecord } from './journal.js';
import { manualClock, marketStatusProblems, payloadProblems } from './testing.js';
import type { Side, TimeInForce } from './types.js';

const USERS = ['u0', 'u1', 'u2'];
const COMMODITIES = [
  { symbol: 'crude_oil', base: 7500 },
  { symbol: 'brent', base: 7900 },
];

type Op =
  | { kind: 'limit'; user: number; c: number; side: Side; offset: number; quantity: number; tif: TimeInForce; cid: string | null }
  | { kind: 'market'; user: number; c: number; side: Side; quantity: number }
  | { kind: 'cancel'; user: number; pick: number }
  | { kind: 'amend'; user: number; pick: number; offset: number }
  | { kind: 'cancelAll'; user: number }
  | { kind: 'cancelOrders'; user: number; picks: number[] }
  | { kind: 'kill'; user: number; enabled: boolean }
  | { kind: 'arm'; user: number; timeoutMs: number }
  | { kind: 'fire' }
  | { kind: 'halt'; c: number; durationMs: number | null }
  | { kind: 'reopen'; c: number }
  | { kind: 'session'; open: boolean; c: number | null }
  | { kind: 'startSession' }
  | { kind: 'tick' }
  | { kind: 'advance'; ms: number };

const user = fc.nat(USERS.length - 1);
const c = fc.nat(COMMODITIES.length - 1);
const side = fc.constantFrom<Side>('buy', 'sell');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('limit' as const), user, c, side, offset: fc.integer({ min: -6, max: 6 }), quantity: fc.integer({ min: 1, max: 40 }), tif: fc.constantFrom<TimeInForce>('gtc', 'gtc', 'day', 'ioc'), cid: fc.option(fc.constantFrom('a', 'b'), { freq: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('market' as const), user, c, side, quantity: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), user, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), user, pick: fc.nat(), offset: fc.integer({ min: -6, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelAll' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelOrders' as const), user, picks: fc.array(fc.nat(), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('kill' as const), user, enabled: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('arm' as const), user, timeoutMs: fc.constantFrom(0, 1000, 4000, 20_000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fire' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('halt' as const), c, durationMs: fc.option(fc.constantFrom(1000, 5000), { freq: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), c }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('session' as const), open: fc.boolean(), c: fc.option(c, { freq: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'startSession' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6000 }) }) },
);

function newExchange(clock: { now: () => number }): Exchange {
  // a tight velocity limit, so trades halt markets now and then
  return new Exchange({ clock: clock.now, velocity: { movePercent: 0.05, windowMs: 3000, haltMs: 2000 } });
}

const price = (ci: number, offset: number) => ((COMMODITIES[ci]?.base ?? 7500) + offset) / 100;

function pickOrder(exchange: Exchange, userId: string, pick: number, known: string[]): string {
  const open = exchange.openOrders(userId).map((o) => o.id);
  const pool = pick % 3 < 2 && open.length > 0 ? open : known;
  return pool.length === 0 ? 'ord-0' : (pool[pick % pool.length] as string);
}

interface Applied {
  batch: EngineBatch;
  /** a new order or an amend was attempted by this user in this commodity */
  entry: { userId: string; commodity: string | null; ok: boolean } | null;
}

function apply(exchange: Exchange, clock: { now: () => number; advance: (ms: number) => void }, op: Op, known: string[]): Applied {
  const now = clock.now();
  switch (op.kind) {
    case 'limit': {
      const userId = USERS[op.user] as string;
      const commodity = COMMODITIES[op.c]?.symbol as string;
      const r = exchange.submit(userId, { commodity, side: op.side, type: 'limit', price: price(op.c, op.offset), quantity: op.quantity, timeInForce: op.tif, clientOrderId: op.cid });
      if (r.ok && !known.includes(r.order.id)) known.push(r.order.id);
      return { batch: r, entry: { userId, commodity, ok: r.ok && r.journal.length > 0 } };
    }
    case 'market': {
      const userId = USERS[op.user] as string;
      const commodity = COMMODITIES[op.c]?.symbol as string;
      const r = exchange.submit(userId, { commodity, side: op.side, type: 'market', quantity: op.quantity });
      return { batch: r, entry: { userId, commodity, ok: r.ok } };
    }
    case 'cancel':
      return { batch: exchange.cancel(USERS[op.user] as string, pickOrder(exchange, USERS[op.user] as string, op.pick, known)), entry: null };
    case 'amend': {
      const userId = USERS[op.user] as string;
      const id = pickOrder(exchange, userId, op.pick, known);
      const order = exchange.getOrder(userId, id);
      const base = order?.commodity === 'brent' ? 1 : 0;
      const r = exchange.amend(userId, id, { price: price(base, op.offset) });
      return { batch: r, entry: { userId, commodity: order?.commodity ?? null, ok: r.ok && r.journal.length > 0 } };
    }
    case 'cancelAll':
      return { batch: exchange.cancelAll(USERS[op.user] as string, undefined, { reason: 'cancel_on_disconnect' }), entry: null };
    case 'cancelOrders':
      return { batch: exchange.cancelOrders(USERS[op.user] as string, op.picks.map((p) => known[p % Math.max(1, known.length)] ?? 'ord-0'), 'cancel_on_disconnect'), entry: null };
    case 'kill':
      return { batch: exchange.setTradingEnabled(USERS[op.user] as string, op.enabled, { reason: 'property test', by: 'risk' }), entry: null };
    case 'arm':
      return { batch: exchange.armCancelAllAfter(USERS[op.user] as string, op.timeoutMs), entry: null };
    case 'fire':
      return { batch: exchange.fireDeadManSwitches(now), entry: null };
    case 'halt':
      return { batch: exchange.halt(COMMODITIES[op.c]?.symbol as string, { reason: 'operator', untilMs: op.durationMs === null ? null : now + op.durationMs }), entry: null };
    case 'reopen':
      return { batch: exchange.reopen(COMMODITIES[op.c]?.symbol as string), entry: null };
    case 'session': {
      const commodity = op.c === null ? undefined : COMMODITIES[op.c]?.symbol;
      return { batch: op.open ? exchange.openSession(commodity) : exchange.closeSession(commodity), entry: null };
    }
    case 'startSession':
      return { batch: exchange.startSession(now), entry: null };
    case 'tick':
      return { batch: exchange.tick(now), entry: null };
    case 'advance':
      clock.advance(op.ms);
      return { batch: { events: [], journal: [] }, entry: null };
  }
}

/** What restore must give back: statuses, switches, deadlines, books, open orders. */
function observable(exchange: Exchange): string {
  return JSON.stringify({
    status: exchange.marketStatuses(),
    nextStatusChange: exchange.nextStatusChange(),
    nextDeadline: exchange.nextDeadManDeadline(),
    users: USERS.map((u) => [exchange.tradingStatus(u), exchange.deadManDeadline(u), exchange.openOrders(u)]),
    books: COMMODITIES.map((x) => exchange.book(x.symbol, 50)),
  });
}

test('a halted or closed commodity never trades; a disabled user never gets a new order or an amend accepted; payloads are valid', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
      const clock = manualClock();
      const exchange = newExchange(clock);
      exchange.startSession();
      const known: string[] = [];
      for (const op of ops) {
        const notOpen = new Set(exchange.marketStatuses().filter((s) => s.status !== 'open').map((s) => s.commodity));
        const disabled = new Set(USERS.filter((u) => !exchange.tradingStatus(u).tradingEnabled));
        const { batch, entry } = apply(exchange, clock, op, known);
        for (const p of batch.prints ?? []) assert.ok(!notOpen.has(p.commodity), `${p.commodity} traded while ${exchange.marketStatus(p.commodity)?.status}`);
        for (const e of batch.events) {
          if (e.event === 'trade-update') {
            assert.ok(!notOpen.has(e.payload.commodity), `a fill in ${e.payload.commodity} while not open`);
            assert.ok(!disabled.has(e.payload.userId), `${e.payload.userId} traded while disabled`);
          }
        }
        if (entry !== null && entry.ok) {
          assert.ok(!disabled.has(entry.userId), `${entry.userId}'s ${op.kind} was accepted while disabled`);
          assert.ok(entry.commodity === null || !notOpen.has(entry.commodity), `${op.kind} accepted in ${entry.commodity} while not open`);
        }
        assert.deepEqual(payloadProblems(batch.events), []);
        assert.deepEqual(marketStatusProblems(batch.marketStatus ?? []), []);
        // a disabled user never holds open orders (disabling cancels them; nothing new rests)
        for (const u of USERS) if (!exchange.tradingStatus(u).tradingEnabled) assert.deepEqual(exchange.openOrders(u), [], u);
      }
    }),
    { numRuns: 150 },
  );
});

test('restore after any sequence gives the same statuses, kill switches, deadlines, books, and the same next status changes and firings', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 100 }), fc.integer({ min: 0, max: 30_000 }), (ops, later) => {
      const clock = manualClock();
      const exchange = newExchange(clock);
      const log: JournalRecord[] = [...exchange.startSession().journal];
      const known: string[] = [];
      for (const op of ops) log.push(...apply(exchange, clock, op, known).batch.journal);
      const restored = newExchange(clock);
      const r = restored.restore(JSON.parse(JSON.stringify(log)) as JournalRecord[]);
      assert.equal(r.ok, true);
      assert.equal(observable(restored), observable(exchange));
      // the same continuation: halts end and switches fire identically
      const t = clock.now() + later;
      assert.deepEqual(restored.tick(t), exchange.tick(t));
      assert.deepEqual(restored.fireDeadManSwitches(t), exchange.fireDeadManSwitches(t));
      assert.equal(observable(restored), observable(exchange));
    }),
    { numRuns: 150 },
  );
});

test('whatever stops trading (halt, closed session, kill switch), every new order and amend is refused with its code and changes nothing; cancels go through', () => {
  const attempt = fc.oneof(
    fc.record({ kind: fc.constant('limit' as const), user, side, offset: fc.integer({ min: -20, max: 20 }), quantity: fc.integer({ min: 1, max: 50 }) }),
    fc.record({ kind: fc.constant('market' as const), user, side, quantity: fc.integer({ min: 1, max: 50 }) }),
    fc.record({ kind: fc.constant('amend' as const), user, pick: fc.nat(), offset: fc.option(fc.integer({ min: -20, max: 20 })), quantity: fc.option(fc.integer({ min: 1, max: 80 })) }),
  );
  const resting = fc.array(fc.record({ user, side, offset: fc.integer({ min: -10, max: 10 }), quantity: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 20 });
  const blocker = fc.constantFrom('halt', 'close', 'kill-u0', 'kill-all');
  fc.assert(
    fc.property(resting, blocker, fc.array(attempt, { minLength: 1, maxLength: 30 }), (orders, block, attempts) => {
      const clock = manualClock();
      const exchange = new Exchange({ clock: clock.now, velocity: false });
      // the resting orders (crossing ones trade first), on one commodity
      for (const o of orders) exchange.submit(USERS[o.user] as string, { commodity: 'crude_oil', side: o.side, type: 'limit', price: (7500 + o.offset) / 100, quantity: o.quantity });
      const blocked = new Set<string>();
      if (block === 'halt') exchange.halt('crude_oil', { reason: 'p', untilMs: null });
      if (block === 'close') exchange.closeSession('crude_oil');
      for (const u of block === 'kill-all' ? USERS : block === 'kill-u0' ? ['u0'] : []) {
        exchange.setTradingEnabled(u, false, { reason: 'p', by: 'risk' });
        blocked.add(u);
      }
      const expected = (userId: string) =>
        blocked.has(userId) ? 'TRADING_DISABLED' : block === 'halt' ? 'MARKET_HALTED' : block === 'close' ? 'MARKET_CLOSED' : null;
      const state = () => JSON.stringify([exchange.book('crude_oil', 50), USERS.map((u) => [exchange.openOrders(u), exchange.positions(u)])]);
      const before = state();
      for (const a of attempts) {
        const userId = USERS[a.user] as string;
        let r;
        if (a.kind === 'amend') {
          const open = exchange.openOrders(userId);
          if (open.length === 0) continue;
          const change: { price?: number; quantity?: number } = {};
          if (a.offset !== null) change.price = (7500 + a.offset) / 100;
          if (a.quantity !== null) change.quantity = a.quantity;
          r = exchange.amend(userId, (open[a.pick % open.length] as { id: string }).id, change);
        } else {
          r = exchange.submit(userId, a.kind === 'limit'
            ? { commodity: 'crude_oil', side: a.side, type: 'limit', price: (7500 + a.offset) / 100, quantity: a.quantity }
            : { commodity: 'crude_oil', side: a.side, type: 'market', quantity: a.quantity });
        }
        const want = expected(userId);
        if (want === null) continue; // this user and market may trade (kill-u0: the others)
        assert.equal(r.ok ? 'ok' : r.error.code, want, `${a.kind} by ${userId}`);
        assert.equal(r.events.length + r.journal.length + (r.prints?.length ?? 0), 0);
        if (block !== 'kill-u0') assert.equal(state(), before);
      }
      // cancels still work for everyone
      for (const u of USERS) {
        const all = exchange.cancelAll(u);
        assert.equal(all.ok, true);
        assert.deepEqual(exchange.openOrders(u), []);
      }
    }),
    { numRuns: 200 },
  );
});
