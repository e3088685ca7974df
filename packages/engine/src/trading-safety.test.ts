import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrderUpdatePayload } from '@qx/protocol';
import { Exchange, type ExchangeOptions } from './exchange.js';
import type { EngineBatch, EngineEvent, OrderResult } from './events.js';
import type { JournalRecord } from './journal.js';
import { MarketSimulator } from './market-simulator.js';
import { mulberry32 } from './prng.js';
import { manualClock, marketStatusProblems, payloadProblems } from './testing.js';
import type { OrderRequest } from './types.js';

function setup(options: Partial<ExchangeOptions> = {}) {
  const clock = manualClock();
  const exchange = new Exchange({ clock: clock.now, volatility: false, ...options });
  return { clock, exchange };
}

const limit = (side: 'buy' | 'sell', price: number, quantity: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  commodity: 'crude_oil',
  side,
  type: 'limit',
  price,
  quantity,
  ...extra,
});

function ok(result: OrderResult): OrderUpdatePayload {
  assert.equal(result.ok, true, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  assert.deepEqual(payloadProblems(result.events), []);
  return (result as { order: OrderUpdatePayload }).order;
}

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : (r.error?.code ?? '?'));
const nothing = (b: EngineBatch) => b.events.length + b.journal.length + (b.marketStatus?.length ?? 0) + (b.prints?.length ?? 0);
const orderUpdates = (events: EngineEvent[]) =>
  events.filter((e): e is Extract<EngineEvent, { event: 'order-update' }> => e.event === 'order-update').map((e) => e.payload);

/** Everything an observer can read of the engine's state, to prove a refused request changed nothing. */
const snapshot = (ex: Exchange, users: string[]) =>
  JSON.stringify([
    ex.book('crude_oil', 20),
    ex.book('brent', 20),
    users.map((u) => [ex.openOrders(u), ex.positions(u), ex.tradingStatus(u), ex.deadManDeadline(u)]),
    ex.marketStatuses(),
    ex.nextStatusChange(),
    ex.nextDeadManDeadline(),
  ]);

function restoredFrom(log: readonly JournalRecord[], clock: { now: () => number }, options: Partial<ExchangeOptions> = {}): Exchange {
  const restored = new Exchange({ clock: clock.now, volatility: false, ...options });
  const r = restored.restore(JSON.parse(JSON.stringify(log)) as JournalRecord[]);
  assert.equal(r.ok, true, r.ok ? '' : r.error);
  return restored;
}

// ---- cancel with a reason ---------------------------------------------------------------------

test('cancel all with a reason: each cancelled order shows it; without one, the old reason', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const b = ok(exchange.submit('alice', limit('sell', 76, 10)));
  const r = exchange.cancelAll('alice', undefined, { reason: 'cancel_on_disconnect' });
  assert.equal(r.ok, true);
  assert.deepEqual(orderUpdates(r.events).map((o) => [o.id, o.status, o.reason]), [
    [a.id, 'cancelled', 'cancel_on_disconnect'],
    [b.id, 'cancelled', 'cancel_on_disconnect'],
  ]);
  assert.deepEqual(r.ok ? r.cancelled.map((o) => o.reason) : null, ['cancel_on_disconnect', 'cancel_on_disconnect']);
  assert.deepEqual(r.journal.map((j) => (j.kind === 'order' ? j.order.reason : j.kind)), ['cancel_on_disconnect', 'cancel_on_disconnect']);
  ok(exchange.submit('alice', limit('buy', 75, 10)));
  const plain = exchange.cancelAll('alice');
  assert.deepEqual(orderUpdates(plain.events).map((o) => o.reason), ['Cancelled by user (cancel all)']);
});

test('cancel all refuses an empty or oversize reason and changes nothing', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('buy', 75, 10)));
  const before = snapshot(exchange, ['alice']);
  for (const reason of ['', '   ', 'x'.repeat(257)]) {
    const r = exchange.cancelAll('alice', undefined, { reason });
    assert.equal(code(r), 'INVALID_PAYLOAD');
    assert.equal(nothing(r), 0);
  }
  assert.equal(snapshot(exchange, ['alice']), before);
});

test('cancelOrders cancels exactly the open orders of the user among the ids, once each, in one batch', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const b = ok(exchange.submit('alice', limit('buy', 74.9, 10)));
  const c = ok(exchange.submit('alice', limit('buy', 74.8, 10)));
  const bobs = ok(exchange.submit('bob', limit('buy', 75, 10)));
  const done = ok(exchange.submit('alice', limit('buy', 74.7, 10)));
  ok(exchange.cancel('alice', done.id));
  const r = exchange.cancelOrders('alice', [c.id, bobs.id, 'ord-999', done.id, a.id, c.id], 'cancel_on_disconnect');
  assert.equal(r.ok, true);
  assert.deepEqual(r.ok ? r.cancelled.map((o) => o.id) : null, [c.id, a.id]);
  assert.deepEqual(orderUpdates(r.events).map((o) => [o.id, o.userId, o.status, o.reason]), [
    [c.id, 'alice', 'cancelled', 'cancel_on_disconnect'],
    [a.id, 'alice', 'cancelled', 'cancel_on_disconnect'],
  ]);
  assert.deepEqual(exchange.openOrders('alice').map((o) => o.id), [b.id]);
  assert.deepEqual(exchange.openOrders('bob').map((o) => o.id), [bobs.id]);
  assert.equal(exchange.position('alice', 'crude_oil')?.openBuyQuantity, 10);
  const none = exchange.cancelOrders('alice', [], 'cancel_on_disconnect');
  assert.deepEqual([none.ok, nothing(none)], [true, 0]);
});

test('cancelOrders refuses junk without changing anything', () => {
  const { exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const before = snapshot(exchange, ['alice']);
  const cases: [unknown, unknown][] = [
    ['not-an-array', 'x'],
    [[a.id, 7], 'x'],
    [Array.from({ length: 10_001 }, () => a.id), 'x'],
    [[a.id], ''],
    [[a.id], 42],
  ];
  for (const [ids, reason] of cases) {
    const r = exchange.cancelOrders('alice', ids as string[], reason as string);
    assert.equal(code(r), 'INVALID_PAYLOAD', JSON.stringify([typeof ids, reason]));
    assert.equal(nothing(r), 0);
  }
  assert.equal(snapshot(exchange, ['alice']), before);
});

// ---- kill switch --------------------------------------------------------------------------------

test('kill switch: disabling cancels all open orders, alerts the user, and refuses new orders and amends; enabling lifts it', () => {
  const { clock, exchange } = setup();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10, { clientOrderId: 'a-1' })));
  const g = ok(exchange.submit('alice', { commodity: 'brent', side: 'sell', type: 'limit', price: 80, quantity: 5 }));
  const bobs = ok(exchange.submit('bob', limit('sell', 76, 10)));
  clock.advance(1000);
  const off = exchange.setTradingEnabled('alice', false, { reason: 'limit breach under review', by: 'risk-1' });
  assert.equal(off.ok, true);
  if (!off.ok) return;
  assert.deepEqual(off.status, { userId: 'alice', tradingEnabled: false, reason: 'limit breach under review', by: 'risk-1', updatedAt: clock.now() });
  assert.deepEqual(off.cancelled.map((o) => [o.id, o.status, o.reason]), [
    [a.id, 'cancelled', 'kill_switch: limit breach under review'],
    [g.id, 'cancelled', 'kill_switch: limit breach under review'],
  ]);
  assert.deepEqual(off.events.map((e) => [e.event, e.userId]), [['order-update', 'alice'], ['order-update', 'alice'], ['compliance-alert', 'alice']]);
  assert.deepEqual(payloadProblems(off.events), []);
  const alert = off.events[2]?.payload as { checkType: string; severity: string; message: string; details: Record<string, unknown> };
  assert.deepEqual([alert.checkType, alert.severity], ['kill_switch', 'critical']);
  assert.match(alert.message, /disabled by risk-1: limit breach under review/);
  assert.deepEqual(alert.details, { tradingEnabled: false, reason: 'limit breach under review', by: 'risk-1', cancelledOrders: 2 });
  assert.deepEqual(off.journal.map((j) => j.kind), ['order', 'order', 'user-control']);
  assert.deepEqual(exchange.openOrders('alice'), []);
  assert.deepEqual(exchange.tradingStatus('alice').tradingEnabled, false);

  // new orders, amends and flatten are refused: no order, no events, no journal
  const before = snapshot(exchange, ['alice', 'bob']);
  for (const r of [
    exchange.submit('alice', limit('buy', 75, 1)),
    exchange.submit('alice', { commodity: 'crude_oil', side: 'buy', type: 'market', quantity: 1 }),
    exchange.submit('alice', limit('buy', 75, 1, { clientOrderId: 'a-2' })),
  ]) {
    assert.equal(code(r), 'TRADING_DISABLED');
    assert.equal(r.ok ? '' : r.error.message, 'Trading is disabled for this account: limit breach under review');
    assert.equal(nothing(r), 0);
  }
  assert.equal(snapshot(exchange, ['alice', 'bob']), before);
  // a retry of an order placed before is still answered with that order (nothing new happens)
  const retry = exchange.submit('alice', limit('buy', 75, 10, { clientOrderId: 'a-1' }));
  assert.deepEqual([ok(retry).id, nothing(retry)], [a.id, 0]);
  // cancels are not refused by the switch
  assert.equal(code(exchange.cancel('alice', a.id)), 'ORDER_NOT_CANCELLABLE');
  assert.equal(code(exchange.cancelAll('alice')), 'ok');
  // other users trade on
  ok(exchange.submit('bob', limit('buy', 74, 10)));
  assert.equal(code(exchange.amend('bob', bobs.id, { price: 76.5 })), 'ok');

  clock.advance(1000);
  const on = exchange.setTradingEnabled('alice', true, { reason: 'review done', by: 'risk-1' });
  assert.equal(on.ok, true);
  assert.deepEqual(on.events.map((e) => [e.event, (e.payload as { severity?: string }).severity]), [['compliance-alert', 'low']]);
  assert.deepEqual(payloadProblems(on.events), []);
  assert.deepEqual(exchange.tradingStatus('alice'), { userId: 'alice', tradingEnabled: true, reason: 'review done', by: 'risk-1', updatedAt: clock.now() });
  const again = ok(exchange.submit('alice', limit('buy', 75, 1, { clientOrderId: 'a-2' })));
  assert.equal(again.status, 'new');
});

test('kill switch: an open order of a disabled user (an older journal restored) cannot be amended, only cancelled', () => {
  const { clock, exchange } = setup();
  const log: JournalRecord[] = [...exchange.submit('alice', limit('buy', 74, 10)).journal];
  log.push({ kind: 'user-control', control: { userId: 'alice', tradingEnabled: false, reason: 'frozen', by: 'ops', updatedAt: clock.now() } });
  const restored = restoredFrom(log, clock);
  const open = restored.openOrders('alice');
  assert.equal(open.length, 1);
  const r = restored.amend('alice', open[0]!.id, { quantity: 5 });
  assert.equal(code(r), 'TRADING_DISABLED');
  assert.equal(nothing(r), 0);
  assert.equal(code(restored.cancel('alice', open[0]!.id)), 'ok');
});

test('kill switch refuses junk and changes nothing', () => {
  const { exchange } = setup();
  ok(exchange.submit('alice', limit('buy', 75, 10)));
  const before = snapshot(exchange, ['alice']);
  const cases: [string, unknown, { reason?: unknown; by?: unknown }][] = [
    ['alice', false, { by: 'risk-1' }], // no reason to disable
    ['alice', false, { reason: '', by: 'risk-1' }],
    ['alice', false, { reason: 'x'.repeat(257), by: 'risk-1' }],
    ['alice', false, { reason: 'why', by: '' }],
    ['alice', false, { reason: 'why' }],
    ['alice', 'no', { reason: 'why', by: 'risk-1' }],
    ['~mm-crude_oil', false, { reason: 'why', by: 'risk-1' }],
    ['', false, { reason: 'why', by: 'risk-1' }],
  ];
  for (const [userId, enabled, who] of cases) {
    const r = exchange.setTradingEnabled(userId, enabled as boolean, who as { reason: string; by: string });
    assert.equal(code(r), 'INVALID_PAYLOAD', JSON.stringify([userId, enabled, who]));
    assert.equal(nothing(r), 0);
  }
  assert.equal(snapshot(exchange, ['alice']), before);
});

test('kill switch survives a restore', () => {
  const { clock, exchange } = setup();
  const log: JournalRecord[] = [];
  log.push(...exchange.submit('alice', limit('buy', 75, 10)).journal);
  log.push(...exchange.setTradingEnabled('alice', false, { reason: 'frozen', by: 'ops' }).journal);
  log.push(...exchange.setTradingEnabled('bob', false, { reason: 'frozen', by: 'ops' }).journal);
  log.push(...exchange.setTradingEnabled('bob', true, { reason: 'thawed', by: 'ops' }).journal);
  const restored = restoredFrom(log, clock);
  assert.deepEqual(restored.tradingStatus('alice'), exchange.tradingStatus('alice'));
  assert.deepEqual(restored.tradingStatus('bob'), exchange.tradingStatus('bob'));
  assert.equal(code(restored.submit('alice', limit('buy', 75, 1))), 'TRADING_DISABLED');
  assert.equal(code(restored.submit('bob', limit('buy', 75, 1))), 'ok');
  assert.deepEqual(restored.openOrders('alice'), []);
});

// ---- dead-man's switch --------------------------------------------------------------------------

test('dead-man switch: armed, re-armed, fired at its deadline for that user only, then cleared', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const g = ok(exchange.submit('alice', { commodity: 'brent', side: 'sell', type: 'limit', price: 80, quantity: 5 }));
  const bobs = ok(exchange.submit('bob', limit('sell', 76, 10)));
  const armed = exchange.armCancelAllAfter('alice', 10_000);
  assert.deepEqual([armed.ok, armed.ok && armed.firesAt], [true, t0 + 10_000]);
  assert.deepEqual(armed.journal, [{ kind: 'dead-man', deadMan: { userId: 'alice', firesAt: t0 + 10_000, updatedAt: t0 } }]);
  assert.equal(exchange.nextDeadManDeadline(), t0 + 10_000);
  clock.advance(8000);
  const rearmed = exchange.armCancelAllAfter('alice', 10_000);
  assert.equal(rearmed.ok && rearmed.firesAt, t0 + 18_000);
  assert.equal(exchange.deadManDeadline('alice'), t0 + 18_000);
  ok(exchange.submit('bob', limit('buy', 74, 1)));
  assert.equal(exchange.armCancelAllAfter('bob', 60_000).ok, true);
  assert.equal(exchange.nextDeadManDeadline(), t0 + 18_000);

  // the old deadline passes: nothing fires
  const early = exchange.fireDeadManSwitches(t0 + 17_999);
  assert.deepEqual([early.fired, nothing(early)], [[], 0]);
  const fired = exchange.fireDeadManSwitches(t0 + 18_000);
  assert.deepEqual(fired.fired, ['alice']);
  assert.deepEqual(orderUpdates(fired.events).map((o) => [o.id, o.status, o.reason]), [
    [a.id, 'cancelled', 'dead_man_switch'],
    [g.id, 'cancelled', 'dead_man_switch'],
  ]);
  assert.deepEqual(payloadProblems(fired.events), []);
  assert.deepEqual(fired.journal.at(-1), { kind: 'dead-man', deadMan: { userId: 'alice', firesAt: null, updatedAt: t0 + 18_000 } });
  assert.deepEqual(exchange.openOrders('alice'), []);
  assert.equal(exchange.openOrders('bob').length, 2);
  assert.equal(exchange.deadManDeadline('alice'), null);
  assert.equal(exchange.nextDeadManDeadline(), t0 + 8000 + 60_000);
  // fired once: not again
  assert.equal(nothing(exchange.fireDeadManSwitches(t0 + 19_000)), 0);
  // trading goes on after it fired
  assert.equal(code(exchange.submit('alice', limit('buy', 75, 1))), 'ok');
  assert.ok(bobs.id);
});

test('dead-man switch: 0 disarms; bounds are 1 s to 24 h; bad input changes nothing', () => {
  const { clock, exchange } = setup();
  assert.equal(exchange.armCancelAllAfter('alice', 1000).ok, true);
  const off = exchange.armCancelAllAfter('alice', 0);
  assert.deepEqual([off.ok, off.ok && off.firesAt], [true, null]);
  assert.deepEqual(off.journal, [{ kind: 'dead-man', deadMan: { userId: 'alice', firesAt: null, updatedAt: clock.now() } }]);
  assert.equal(exchange.nextDeadManDeadline(), null);
  // disarming what is not armed: nothing to journal
  assert.equal(nothing(exchange.armCancelAllAfter('alice', 0)), 0);
  assert.equal(exchange.armCancelAllAfter('alice', 86_400_000).ok, true);
  const before = snapshot(exchange, ['alice']);
  for (const bad of [999, 1, -1, 86_400_001, 1500.5, Number.NaN, Infinity, '5000' as unknown as number]) {
    const r = exchange.armCancelAllAfter('alice', bad);
    assert.equal(code(r), 'INVALID_PAYLOAD', String(bad));
    assert.equal(r.ok ? '' : r.error.field, 'timeoutMs');
    assert.equal(nothing(r), 0);
  }
  assert.equal(code(exchange.armCancelAllAfter('~noise-1', 5000)), 'INVALID_PAYLOAD');
  assert.equal(snapshot(exchange, ['alice']), before);
});

test('dead-man switch survives a restore; a deadline that passed meanwhile fires at once, one batch for every user due', () => {
  const { clock, exchange: ex } = setup();
  const t0 = clock.now();
  const log: JournalRecord[] = [];
  const rec = (b: EngineBatch) => {
    log.push(...b.journal);
    return b;
  };
  const a1 = ok(rec(ex.submit('alice', limit('buy', 75, 10))) as OrderResult);
  const b1 = ok(rec(ex.submit('bob', limit('sell', 76, 10))) as OrderResult);
  ok(rec(ex.submit('carol', limit('sell', 77, 10))) as OrderResult);
  rec(ex.armCancelAllAfter('alice', 5000));
  rec(ex.armCancelAllAfter('bob', 3000));
  rec(ex.armCancelAllAfter('carol', 5000));
  rec(ex.armCancelAllAfter('carol', 0));
  const restored = restoredFrom(log, clock);
  for (const u of ['alice', 'bob', 'carol']) assert.equal(restored.deadManDeadline(u), ex.deadManDeadline(u), u);
  assert.equal(restored.nextDeadManDeadline(), t0 + 3000);
  // the new leader comes up after both deadlines: the server fires at once
  const fired = restored.fireDeadManSwitches(t0 + 7000);
  assert.deepEqual(fired.fired, ['bob', 'alice']);
  assert.deepEqual(orderUpdates(fired.events).map((o) => [o.id, o.reason]), [
    [b1.id, 'dead_man_switch'],
    [a1.id, 'dead_man_switch'],
  ]);
  assert.equal(restored.openOrders('carol').length, 1);
  assert.equal(restored.nextDeadManDeadline(), null);
});

// ---- market status: halts and sessions ------------------------------------------------------------

test('halt: new orders and amends refused with MARKET_HALTED, cancels allowed, resting orders kept; reopens when it ends', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10)));
  const b = ok(exchange.submit('alice', limit('buy', 74.9, 10)));
  const halted = exchange.halt('crude_oil', { reason: 'Operator halt: exchange incident', untilMs: t0 + 60_000 });
  assert.equal(halted.ok, true);
  assert.deepEqual(halted.ok && halted.statuses, [{ commodity: 'crude_oil', status: 'halted', reason: 'Operator halt: exchange incident', since: t0, until: t0 + 60_000, seq: 1 }]);
  assert.deepEqual(halted.marketStatus, [
    { commodity: 'crude_oil', status: 'halted', reason: 'Operator halt: exchange incident', since: new Date(t0).toISOString(), until: new Date(t0 + 60_000).toISOString(), seq: 1 },
  ]);
  assert.deepEqual(marketStatusProblems(halted.marketStatus ?? []), []);
  assert.deepEqual(halted.journal.map((j) => j.kind), ['market-status']);
  assert.equal(exchange.nextStatusChange(), t0 + 60_000);
  assert.equal(exchange.marketOpen('crude_oil'), false);

  const before = snapshot(exchange, ['alice', 'bob']);
  for (const r of [
    exchange.submit('bob', limit('sell', 75, 5)),
    exchange.submit('bob', { commodity: 'crude_oil', side: 'sell', type: 'market', quantity: 5 }),
    exchange.amend('alice', a.id, { price: 75.5 }),
    exchange.amend('alice', a.id, { quantity: 5 }),
  ]) {
    assert.equal(code(r), 'MARKET_HALTED');
    assert.match(r.ok ? '' : r.error.message, /^Trading in crude_oil is halted until .*: Operator halt: exchange incident$/);
    assert.equal(nothing(r), 0);
  }
  assert.equal(snapshot(exchange, ['alice', 'bob']), before);
  // another commodity trades
  ok(exchange.submit('bob', { commodity: 'brent', side: 'buy', type: 'limit', price: 80, quantity: 5 }));
  // cancels are allowed
  assert.equal(ok(exchange.cancel('alice', b.id)).status, 'cancelled');

  assert.equal(nothing(exchange.tick(t0 + 59_999)), 0);
  const reopened = exchange.tick(t0 + 60_000);
  assert.deepEqual(reopened.marketStatus, [{ commodity: 'crude_oil', status: 'open', reason: 'Halt ended', since: new Date(t0 + 60_000).toISOString(), until: null, seq: 2 }]);
  assert.deepEqual(reopened.journal.map((j) => j.kind), ['market-status']);
  assert.equal(exchange.nextStatusChange(), null);
  clock.set(t0 + 60_000);
  assert.equal(ok(exchange.submit('bob', limit('sell', 75, 5))).status, 'filled');
  assert.equal(exchange.openOrders('alice')[0]?.filledQuantity, 5);
});

test('an operator halt without an end holds until reopened; halting again changes its reason and end', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  exchange.halt('brent', { reason: 'first', untilMs: t0 + 1000 });
  clock.advance(500);
  const again = exchange.halt('brent', { reason: 'until further notice', untilMs: null });
  assert.deepEqual(again.ok && again.statuses, [{ commodity: 'brent', status: 'halted', reason: 'until further notice', since: t0, until: null, seq: 2 }]);
  assert.equal(again.marketStatus?.length, 1);
  assert.equal(exchange.nextStatusChange(), null);
  assert.equal(nothing(exchange.tick(t0 + 10_000_000)), 0);
  const r = exchange.submit('alice', { commodity: 'brent', side: 'buy', type: 'limit', price: 80, quantity: 1 });
  assert.equal(r.ok ? '' : r.error.message, 'Trading in brent is halted until it is reopened: until further notice');
  const open = exchange.reopen('brent');
  assert.deepEqual(open.marketStatus?.map((s) => [s.status, s.reason]), [['open', 'Reopened']]);
  assert.equal(exchange.marketOpen('brent'), true);
  // reopening an open market: nothing to do
  const noop = exchange.reopen('brent');
  assert.deepEqual([noop.ok, nothing(noop)], [true, 0]);
});

test('halt and reopen refuse junk and change nothing', () => {
  const { clock, exchange } = setup();
  const before = snapshot(exchange, []);
  const cases = [
    exchange.halt('unobtainium', { reason: 'x', untilMs: null }),
    exchange.halt('crude_oil', { reason: '', untilMs: null }),
    exchange.halt('crude_oil', { reason: 'x'.repeat(257), untilMs: null }),
    exchange.halt('crude_oil', { reason: 'x', untilMs: clock.now() }),
    exchange.halt('crude_oil', { reason: 'x', untilMs: 1.5 }),
    exchange.reopen('unobtainium'),
    exchange.closeSession('unobtainium'),
    exchange.openSession('unobtainium'),
  ];
  assert.deepEqual(cases.map(code), ['UNKNOWN_COMMODITY', 'INVALID_PAYLOAD', 'INVALID_PAYLOAD', 'INVALID_PAYLOAD', 'INVALID_PAYLOAD', 'UNKNOWN_COMMODITY', 'UNKNOWN_COMMODITY', 'UNKNOWN_COMMODITY']);
  for (const r of cases) assert.equal(nothing(r), 0);
  assert.equal(snapshot(exchange, []), before);
});

test('session close: every commodity shows closed and refuses orders (MARKET_CLOSED) until the next session starts', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  const a = ok(exchange.submit('alice', limit('buy', 75, 10, { timeInForce: 'day' })));
  const closed = exchange.closeSession();
  assert.equal(closed.ok && closed.statuses.every((s) => s.status === 'closed' && s.reason === 'Trading session closed'), true);
  assert.equal(closed.marketStatus?.length, exchange.commodities().length);
  assert.deepEqual(marketStatusProblems(closed.marketStatus ?? []), []);
  const r = exchange.submit('bob', limit('sell', 75, 5));
  assert.deepEqual([code(r), r.ok ? '' : r.error.message], ['MARKET_CLOSED', 'The crude_oil market is closed: Trading session closed']);
  // closing again: nothing to do
  assert.equal(nothing(exchange.closeSession()), 0);
  // the day ends: day orders expire (a cancel-like change, allowed while closed)
  const expired = exchange.expireDayOrders(t0 + 1000);
  assert.deepEqual(orderUpdates(expired.events).map((o) => [o.id, o.status]), [[a.id, 'expired']]);
  const started = exchange.startSession(t0 + 2000);
  assert.deepEqual(started.journal.map((j) => j.kind).filter((k) => k === 'market-status').length, exchange.commodities().length);
  assert.equal(started.marketStatus?.every((s) => s.status === 'open' && s.reason === 'Trading session open'), true);
  assert.equal(code(exchange.submit('bob', limit('sell', 75, 5))), 'ok');
  // a session start while open changes no status
  assert.equal(exchange.startSession(t0 + 3000).marketStatus, undefined);
});

test('a halt shows over a closed session; when it ends the market shows closed; openSession opens one commodity', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  exchange.halt('crude_oil', { reason: 'velocity', untilMs: t0 + 1000 });
  const closing = exchange.closeSession(undefined, { nowMs: t0 + 10 });
  assert.equal(closing.marketStatus?.some((s) => s.commodity === 'crude_oil'), false, 'the halt still shows');
  assert.equal(closing.journal.length, exchange.commodities().length, 'the closure under the halt is journaled');
  assert.equal(exchange.marketStatus('crude_oil')?.status, 'halted');
  assert.deepEqual(exchange.tick(t0 + 1000).marketStatus?.map((s) => [s.commodity, s.status]), [['crude_oil', 'closed']]);
  const one = exchange.openSession('crude_oil', { nowMs: t0 + 2000 });
  assert.deepEqual(one.ok && one.statuses.map((s) => [s.commodity, s.status]), [['crude_oil', 'open']]);
  assert.equal(exchange.marketStatus('brent')?.status, 'closed');
  assert.equal(exchange.marketStatus('unobtainium'), null);
});

test('market statuses survive a restore, halts with their end', () => {
  const { clock, exchange } = setup();
  const t0 = clock.now();
  const log: JournalRecord[] = [];
  const rec = (b: EngineBatch) => log.push(...b.journal);
  rec(exchange.startSession(t0));
  rec(exchange.halt('crude_oil', { reason: 'h1', untilMs: t0 + 5000 }));
  rec(exchange.halt('power', { reason: 'h2', untilMs: null }));
  rec(exchange.closeSession('brent'));
  rec(exchange.closeSession('carbon'));
  rec(exchange.openSession('carbon'));
  const restored = restoredFrom(log, clock);
  assert.deepEqual(restored.marketStatuses(), exchange.marketStatuses());
  assert.equal(restored.nextStatusChange(), t0 + 5000);
  const summary = new Exchange({ clock: clock.now }).restore(log);
  assert.equal(summary.ok && summary.summary.marketsNotOpen, 3);
  // the restored one ends the halt as the original would
  assert.deepEqual(restored.tick(t0 + 5000), exchange.tick(t0 + 5000));
});

// ---- velocity halts -------------------------------------------------------------------------------

test('velocity: a trade more than 5% from the window halts the commodity for 2 minutes with a critical market_volatility alert', () => {
  const { clock, exchange } = setup({ velocity: {}, priceBand: 0.5 });
  const t0 = clock.now();
  ok(exchange.submit('mm', limit('sell', 75, 10)));
  ok(exchange.submit('taker', limit('buy', 75, 10)));
  clock.advance(10_000);
  // exactly 5% is not beyond the limit
  ok(exchange.submit('mm', limit('sell', 78.75, 10)));
  const at5 = exchange.submit('taker', limit('buy', 78.75, 10));
  ok(at5);
  assert.equal(at5.marketStatus, undefined);
  assert.equal(exchange.marketOpen('crude_oil'), true);
  clock.advance(10_000);
  ok(exchange.submit('mm', limit('sell', 78.8, 10)));
  const r = exchange.submit('taker', limit('buy', 78.8, 10));
  const order = ok(r);
  assert.equal(order.status, 'filled', 'the trade that breaches stands');
  const until = t0 + 20_000 + 120_000;
  assert.deepEqual(r.marketStatus?.map((s) => [s.commodity, s.status, s.until]), [['crude_oil', 'halted', new Date(until).toISOString()]]);
  assert.match(r.marketStatus?.[0]?.reason ?? '', /^Velocity halt: the price moved 5\.07% within 60 s \(limit 5%\)$/);
  assert.ok(r.journal.some((j) => j.kind === 'market-status' && j.status.status === 'halted' && j.status.until === until));
  const alerts = r.events.filter((e) => e.event === 'system-alert');
  assert.equal(alerts.length, 1);
  const alert = alerts[0]!.payload as { alertType: string; severity: string; affectedCommodities: string[]; details: Record<string, unknown> };
  assert.deepEqual([alert.alertType, alert.severity, alert.affectedCommodities], ['market_volatility', 'critical', ['crude_oil']]);
  assert.deepEqual(alert.details, { windowSeconds: 60, movePercent: 5.07, high: 78.8, low: 75, halted: true, until: new Date(until).toISOString() });
  assert.deepEqual(payloadProblems(r.events), []);
  assert.equal(code(exchange.submit('taker', limit('buy', 78.8, 1))), 'MARKET_HALTED');
  assert.equal(exchange.nextStatusChange(), until);
  assert.deepEqual(exchange.tick(until).marketStatus?.map((s) => s.status), ['open']);
  // after the halt the window starts afresh: the next trade does not halt again
  clock.set(until);
  ok(exchange.submit('mm', limit('sell', 78.8, 10)));
  const after = exchange.submit('taker', limit('buy', 78.8, 10));
  assert.deepEqual([ok(after).status, after.marketStatus], ['filled', undefined]);
});

test('velocity: a fall counts too; moves spread over more than the window do not halt; false turns it off', () => {
  const fall = setup({ velocity: { movePercent: 2, windowMs: 1000, haltMs: 5000 } });
  ok(fall.exchange.submit('mm', limit('buy', 75, 10)));
  ok(fall.exchange.submit('t', limit('sell', 75, 10)));
  ok(fall.exchange.submit('mm', limit('buy', 73.4, 10)));
  const down = fall.exchange.submit('t', limit('sell', 73.4, 10));
  assert.deepEqual(down.marketStatus?.map((s) => s.status), ['halted']);

  const slow = setup({ velocity: { movePercent: 2, windowMs: 1000, haltMs: 5000 } });
  let price = 75;
  for (let i = 0; i < 5; i++, price = Math.round(price * 1.015 * 100) / 100) {
    slow.clock.advance(1001);
    ok(slow.exchange.submit('mm', limit('sell', price, 10)));
    const r = slow.exchange.submit('t', limit('buy', price, 10));
    assert.equal(r.marketStatus, undefined, `step ${i} at ${price}`);
  }

  const off = setup({ velocity: false });
  ok(off.exchange.submit('mm', limit('sell', 75, 10)));
  ok(off.exchange.submit('t', limit('buy', 75, 10)));
  ok(off.exchange.submit('mm', limit('sell', 85, 10)));
  const r = off.exchange.submit('t', limit('buy', 85, 10));
  assert.deepEqual([ok(r).status, r.marketStatus], ['filled', undefined]);
});

// ---- the simulator ---------------------------------------------------------------------------------

test('the simulator leaves a halted market alone (no orders, no trades), trades it again once reopened', () => {
  let now = Date.UTC(2024, 6, 29, 14, 0, 0);
  const exchange = new Exchange({ clock: () => now });
  const simulator = new MarketSimulator({ exchange, random: mulberry32(7), commodities: ['crude_oil', 'brent'] });
  const step = () => {
    now += 100;
    return simulator.step(now);
  };
  for (let i = 0; i < 50; i++) step();
  const openBefore = exchange.openOrderCount();
  exchange.halt('crude_oil', { reason: 'test', untilMs: null });
  const book = JSON.stringify(exchange.book('crude_oil', 20));
  const last = exchange.market('crude_oil')?.lastTicks;
  const prints: string[] = [];
  for (let i = 0; i < 300; i++) for (const p of step().prints ?? []) prints.push(p.commodity);
  assert.equal(JSON.stringify(exchange.book('crude_oil', 20)), book, 'the halted book did not change');
  assert.equal(exchange.market('crude_oil')?.lastTicks, last);
  assert.ok(!prints.includes('crude_oil'));
  assert.ok(prints.includes('brent'), 'the other market traded on');
  assert.ok(exchange.openOrderCount() > 0 && openBefore > 0);
  exchange.reopen('crude_oil');
  for (let i = 0; i < 100; i++) for (const p of step().prints ?? []) prints.push(p.commodity);
  assert.ok(prints.includes('crude_oil'), 'trading resumed after the reopen');
});

test('the simulator under a tight velocity limit halts markets, never trades them while halted, reopens them when the halt ends, and reports every change', () => {
  let now = Date.UTC(2024, 6, 29, 14, 0, 0);
  const exchange = new Exchange({ clock: () => now, velocity: { movePercent: 0.05, windowMs: 5000, haltMs: 3000 } });
  const simulator = new MarketSimulator({ exchange, random: mulberry32(11) });
  const changes: string[] = [];
  let halts = 0;
  let reopened = 0;
  for (let i = 0; i < 3000; i++) {
    now += 100;
    // what is still halted once the step has ended the halts that are due
    const notOpen = new Set(exchange.marketStatuses().filter((s) => s.status !== 'open' && (s.until === null || s.until > now)).map((s) => s.commodity));
    const s = simulator.step(now);
    for (const p of s.prints ?? []) assert.ok(!notOpen.has(p.commodity), `${p.commodity} traded while halted`);
    for (const c of s.marketStatus ?? []) {
      changes.push(`${c.commodity}:${c.status}`);
      if (c.status === 'halted') halts++;
      else reopened++;
    }
    assert.deepEqual(marketStatusProblems(s.marketStatus ?? []), []);
  }
  assert.ok(halts > 0, 'no velocity halt happened');
  assert.ok(reopened > 0, 'the simulator never reopened a halted market');
  // each commodity alternates halted → open
  for (const c of exchange.commodities()) {
    const mine = changes.filter((x) => x.startsWith(`${c.symbol}:`)).map((x) => x.split(':')[1]);
    mine.forEach((status, i) => assert.equal(status, i % 2 === 0 ? 'halted' : 'open', `${c.symbol}: ${mine.join(',')}`));
  }
});
