/**
 * Issue 10 item 17: metric names without a repeated word, and a log an operator can read — every
 * order and trade state change at debug, a periodic activity summary and the session roll at info.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturingLogger, sleep, startServer, until } from './helpers.js';

const DEBUG = 20;
const INFO = 30;

test('default process metrics are named qx_process_…, not qx_process_process_…', async () => {
  const server = await startServer();
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^# TYPE qx_process_cpu_user_seconds_total counter/m);
    assert.match(text, /^# TYPE qx_nodejs_heap_size_total_bytes gauge/m);
    assert.doesNotMatch(text, /qx_process_process_|qx_process_nodejs_/);
  } finally {
    await server.close();
  }
});

test('orders and trades are logged at debug, one line per state change; the activity summary at info', async () => {
  const { logger, lines } = capturingLogger('debug');
  const server = await startServer({}, { logger, deps: { summaryIntervalMs: 200 } });
  try {
    const watcher = await server.authed('log-watcher');
    const seller = await server.sign('log-seller');
    const buyer = await server.sign('log-buyer');
    const place = (token: string, body: Record<string, unknown>) => server.http('/api/v1/trading/orders', { method: 'POST', token, json: body });
    const sell = await place(seller, { commodity: 'brent', side: 'sell', type: 'limit', quantity: 10, price: 79.5 });
    assert.equal(sell.status, 201);
    const buy = await place(buyer, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 4, price: 79.5 });
    assert.equal(buy.status, 201);

    const orderLines = () => lines.filter((l) => l.level === DEBUG && typeof l.orderId === 'string' && l.tradeId === undefined);
    await until(() => orderLines().length >= 4, 3000, 'order lines');
    const sellId = sell.body.order.id as string;
    const buyId = buy.body.order.id as string;
    const key = (row: unknown[]) => JSON.stringify(row);
    assert.deepEqual(
      orderLines().map((l) => key([l.orderId, l.status, l.filled, l.remaining])).sort(),
      [[sellId, 'new', 0, 10], [buyId, 'new', 0, 4], [buyId, 'filled', 4, 0], [sellId, 'partially_filled', 4, 6]].map(key).sort(),
    );
    const tradeLines = lines.filter((l) => l.level === DEBUG && typeof l.tradeId === 'string');
    assert.equal(tradeLines.length, 2, 'one line per side of the trade');
    assert.deepEqual(tradeLines.map((l) => l.userId).sort(), ['log-buyer', 'log-seller']);
    assert.ok(tradeLines.every((l) => l.commodity === 'brent' && l.quantity === 4 && l.price === 79.5));

    // the four order updates and the trade may fall into two summaries (one every 200 ms): each counts its own
    const summaries = () => lines.filter((l) => l.level === INFO && l.msg === 'activity');
    const total = (field: string) => summaries().reduce((n, l) => n + (l[field] as number), 0);
    await until(() => total('orderUpdates') >= 4 && total('trades') >= 1, 5000, 'activity summaries with the orders');
    const counted = summaries().length;
    assert.equal(total('orderUpdates'), 4);
    assert.equal(total('trades'), 1);
    const summary = summaries().at(-1)!;
    assert.equal(summary.connections, 1);
    assert.equal(summary.authenticated, 1);
    assert.equal(summary.slowConsumers, 0);
    // the next summary counts only what happened since
    await until(() => summaries().length > counted, 5000, 'the next summary');
    const next = summaries()[counted]!;
    assert.equal(next.orderUpdates, 0);
    assert.equal(next.trades, 0);
    watcher.disconnect();
  } finally {
    await server.close();
  }
});

test('the session roll is logged at info, at the start and at the session close', async () => {
  const { logger, lines } = capturingLogger('info');
  // the clock stands three seconds before tonight's close (00:00 UTC)
  const day = 86_400_000;
  const offset = Math.ceil(Date.now() / day) * day - 3000 - Date.now();
  // once started, the clock runs 30 ms slow: the close timer fires before the clock reads the close
  let lag = 0;
  const server = await startServer({ TRADING_SESSION_CLOSE_UTC: '00:00' }, { logger, deps: { now: () => Date.now() + offset - lag } });
  try {
    lag = 30;
    const rolls = () => lines.filter((l) => l.level === INFO && l.msg === 'trading session rolled');
    assert.equal(rolls().length, 1, 'a fresh data folder starts a session');
    await until(() => rolls().length === 2, 10_000, 'the roll at the close');
    const roll = rolls()[1]!;
    assert.equal(roll.expiredDayOrders, 0);
    assert.ok(Date.parse(roll.sessionStartedAt as string) % day < 60_000, 'the new session starts at the close');
    assert.equal(typeof roll.reference.crude_oil, 'number');
    await sleep(300);
    assert.equal(rolls().length, 2, 'one roll at the close, not one before it and one after');
  } finally {
    await server.close();
  }
});
