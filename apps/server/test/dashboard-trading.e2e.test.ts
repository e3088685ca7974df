/**
 * Issue 18, the trading screen as a trader uses it (one browser at 1440×900, two other traders over
 * REST, no simulated market so every fill and price is the test's own): whole lots only (7), a
 * decimal comma refused (9), limits and refusals in lots and words (3), keyboard confirmation and
 * an empty confirmation-size box (16), exposure counting working orders and the ticket's warning
 * (2), my orders marked in the book and sortable columns (16), cancel all across commodities with
 * an acknowledgement (10, 6), a fill by another trader notified and followed by the ticket (6),
 * exact P&L with its currency (8), units and formats, an unfilled FOK shown as an unfilled IOC
 * (13), flatten confirmed and split above the maximum order size (10), amend in view and focused
 * (4) and a refused amend that says why. Screenshots go to test-results/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers.js';
import { launch, place, poll, screenshot, showAllOrders, signInWithToken, skipWithoutChromium, watchErrors, watchOrdersSent } from './browser.js';

interface Rest {
  status: number;
  body: { order?: { id: string; status: string; filledQuantity: number }; error?: { code: string } };
}

const activeName = (page: Page) => page.$eval('body', (body) => body.ownerDocument.activeElement?.getAttribute('name') ?? body.ownerDocument.activeElement?.tagName ?? null);
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

test('issue 18 trading: lots, words, keyboard, exposure, sorting, cancel all, fill notice, exact P&L, FOK, flatten split, amend (1440×900)', { skip: skipWithoutChromium }, async (t) => {
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ SIMULATOR: 'off' });
    const srv = server;
    const tokenA = await srv.sign('desk-a', { ttlSeconds: 3600 });
    const tokenB = await srv.sign('desk-b', { ttlSeconds: 3600 });
    const tokenC = await srv.sign('desk-c', { ttlSeconds: 3600 });
    const order = async (token: string, body: Record<string, unknown>): Promise<Rest> => srv.http('/api/v1/trading/orders', { method: 'POST', token, json: { timeInForce: 'gtc', ...body } });
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    // orders go over the socket (REST while it is down): both are watched
    const sent = watchOrdersSent(page);
    await signInWithToken(page, server.url, tokenA);
    await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
    const ticket = page.locator('[data-testid="ticket"]');
    const outcome = ticket.locator('[data-testid="ticket-outcome"]');
    const limits = ticket.locator('[data-testid="ticket-limits"]');
    const warnings = ticket.locator('[data-testid="ticket-warnings"] li');
    /** each item starts from a ticket at rest: a confirmation an earlier item left open is closed */
    const atRest = async () => {
      const back = ticket.locator('button[name="cancel-place"]');
      if (await back.count()) await back.click();
    };

    await t.test('3. the ticket shows the maximum order size, position limit and price band in lots before sending', async () => {
      await atRest();
      // --- 3. what the server will hold the order to, in lots, before sending (no trade yet: the band is around the reference 75.00)
      await limits.filter({ hasText: 'Max order 1,000 lots · Position limit 10,000 lots' }).waitFor({ timeout: 5000 });
      assert.match((await limits.textContent()) ?? '', /Band 60\.00–90\.00/);
    });

    await t.test('7. whole lots only: 1.5 lots is refused and never sent', async () => {
      await atRest();
      // --- 7. whole lots only: 1.5 lots is refused at once and never sent
      await ticket.locator('button[name="type-limit"]').click();
      await ticket.locator('input[name="price"]').fill('70.00');
      await ticket.locator('input[name="quantity"]').fill('1.5');
      await ticket.locator('[data-testid="field-error"][data-field="quantity"]').filter({ hasText: /^Whole lots only/ }).waitFor({ timeout: 5000 });
      const half = await place(page, { side: 'buy', type: 'limit', quantity: '1.5', price: '70.00' });
      assert.match(half.text, /^Whole lots only: “1\.5” is not a whole number of lots/);
    });

    await t.test('9. a decimal comma is refused, saying what to type', async () => {
      await atRest();
      // --- 9. a decimal comma is refused, saying what to type (never read as 7,410)
      const comma = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '74,10' });
      assert.equal(comma.text, '“74,10” has a decimal comma: prices take a decimal point. Did you mean 74.10?');
      assert.deepEqual(sent, [], 'neither was sent');
    });

    await t.test('3. refusals in lots and words, no raw codes (power: 125 lots at most; an off-tick price)', async () => {
      await atRest();
      // --- 3. power: the maximum is 125 lots; warned before, refused in lots after, no code in the text
      await ticket.locator('select[name="commodity"]').selectOption('power');
      await limits.filter({ hasText: 'Max order 125 lots · Position limit 1,250 lots' }).waitFor({ timeout: 5000 });
      await ticket.locator('input[name="quantity"]').fill('130');
      await ticket.locator('input[name="price"]').fill('50.00');
      await warnings.filter({ hasText: '130 lots is above the maximum order size of 125 lots: it would be refused' }).waitFor({ timeout: 5000 });
      const tooBig = await place(page, { side: 'buy', type: 'limit', quantity: '130', price: '50.00' });
      assert.equal(tooBig.text, '130 lots is above the maximum order size of 125 lots for PJM West Power');
      assert.equal(await outcome.getAttribute('data-code'), 'COMPLIANCE_REJECTED');
      // an off-tick price: the grid and the neighbours, not "PRICE_OFF_TICK"
      await ticket.locator('select[name="commodity"]').selectOption('crude_oil');
      const offTick = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '74.005' });
      assert.equal(offTick.text, '74.005 is not on the price grid: WTI Crude Oil trades in steps of 0.01 (try 74.00 or 74.01)');
      console.log(`# ${await screenshot(page, 'issue18-ticket-words-1440')}`);
    });

    await t.test('16. keyboard: Enter → Confirm has the focus, Escape goes back; an empty confirmation-size box is not 0', async () => {
      await atRest();
      // --- 16. Enter asks for the confirmation and gives it the focus; Escape goes back; Enter on it sends
      const confirm = ticket.locator('button[name="confirm-place"]');
      await ticket.locator('button[name="side-buy"]').click();
      await ticket.locator('input[name="quantity"]').fill('150');
      await ticket.locator('input[name="price"]').fill('70.00');
      const before = sent.length;
      await ticket.locator('input[name="price"]').press('Enter');
      await confirm.waitFor({ timeout: 5000 });
      assert.equal(await activeName(page), 'confirm-place', 'Confirm has the focus');
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached', timeout: 5000 });
      assert.equal(await activeName(page), 'quantity', 'back in the ticket');
      assert.equal(sent.length, before, 'Escape sent nothing');
      const answers = await outcome.getAttribute('data-answers');
      await page.keyboard.press('Enter');
      await confirm.waitFor({ timeout: 5000 });
      await page.keyboard.press('Enter');
      await poll('the confirmed order to be answered', 5000, async () => (await outcome.getAttribute('data-answers')) !== answers);
      assert.equal(await outcome.getAttribute('data-status'), 'new', (await outcome.textContent()) ?? '');
      assert.equal(sent.length, before + 1, 'the confirmed order was sent, once');
      // an empty confirmation-size box is the default (100 lots), not 0: 5 lots go without asking
      await ticket.locator('input[name="confirmAbove"]').fill('');
      const five = await place(page, { side: 'buy', type: 'limit', quantity: '5', price: '70.00', confirm: false });
      assert.equal(five.status, 'new', `sent without a confirmation: ${five.text}`);
    });

    await t.test('2. exposure counts working orders as the limit check does; the ticket warns before a refusal', async () => {
      await atRest();
      // --- 2. exposure as the limit check counts it: nine 1,000-lot brent bids, no position → 90%
      for (let i = 0; i < 9; i++) {
        const r = await order(tokenA, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1_000_000, price: Number((70 + i * 0.01).toFixed(2)) });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      const brentExposure = page.locator('[data-testid="positions"] tr[data-commodity="brent"] [data-testid="exposure"]');
      await brentExposure.filter({ hasText: /^90\.0%$/ }).waitFor({ timeout: 5000 });
      assert.match((await brentExposure.getAttribute('title')) ?? '', /9,000 of 10,000 lots, net 0 plus working buys 9,000/);
      const tenth = await order(tokenA, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1_000_000, price: 70.09 });
      assert.equal(tenth.status, 201);
      await brentExposure.filter({ hasText: /^100\.0%$/ }).waitFor({ timeout: 5000 });
      // the ticket warns before the next buy would be refused; a sell is fine
      await page.locator('[data-testid="market"] tr[data-commodity="brent"]').click();
      await ticket.locator('input[name="quantity"]').fill('1');
      await ticket.locator('input[name="price"]').fill('70.00');
      await warnings
        .filter({ hasText: 'This buy could take your position to 10,001 lots long (counting 10,000 lots of working buys), above the position limit of 10,000 lots: it would be refused' })
        .waitFor({ timeout: 5000 });
      await ticket.locator('button[name="side-sell"]').click();
      await poll('no warning for a sell', 5000, async () => (await warnings.count()) === 0);
      const over = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '70.00' });
      assert.equal(over.text, 'The order could take your Brent Crude Oil position to 10,001 lots long (counting your working orders), above the position limit of 10,000 lots');
    });

    await t.test('16. my orders are marked in the book; columns sort', async () => {
      await atRest();
      // --- 16. my orders are marked in the book, at their levels
      const mine = page.locator('[data-testid="book"] tr.level-bid[data-mine]');
      await poll('my ten brent bids marked in the book', 5000, async () => (await mine.count()) === 10);
      assert.equal(await page.locator('[data-testid="book"] tr.level-bid[data-price="70.09"]').getAttribute('data-mine'), '1,000');
      // --- 16. columns sort: price ascending, descending, then the blotter's own order (working first)
      const prices = () => page.$$eval('[data-testid="orders"] tbody tr[data-order-id]', (rows) => rows.map((r) => Number(r.getAttribute('data-price'))));
      await poll('twelve working orders', 5000, async () => (await prices()).length === 12);
      const sortPrice = page.locator('[data-testid="orders"] button[name="sort-price"]');
      await sortPrice.click();
      const up = await prices();
      assert.deepEqual(up, [...up].sort((a, b) => a - b));
      assert.equal(await page.locator('[data-testid="orders"] th[aria-sort="ascending"]').count(), 1);
      await sortPrice.click();
      const down = await prices();
      assert.deepEqual(down, [...up].sort((a, b) => b - a));
      await sortPrice.click();
      assert.equal(await page.locator('[data-testid="orders"] th[aria-sort="none"] button[name="sort-price"]').count(), 1);
    });

    await t.test('10. cancel all across commodities, acknowledged (6)', async () => {
      await atRest();
      // --- 10. cancel all across commodities, and 6. it is acknowledged
      const everything = page.locator('[data-testid="orders"] button[name="cancel-everything"]');
      await everything.filter({ hasText: 'Cancel all (12)' }).waitFor({ timeout: 5000 });
      assert.match(await text(page, '[data-testid="orders"] button[name="cancel-all"]'), /Cancel all brent \(10\)/);
      await everything.click();
      await page.locator('[data-testid="notifications"] .note[data-kind="action"]', { hasText: 'Cancelled 12 open orders (all commodities)' }).waitFor({ timeout: 5000 });
      const open = (await srv.http('/api/v1/trading/orders?status=open', { token: tokenA })) as { body: { orders: unknown[] } };
      assert.equal(open.body.orders.length, 0);
    });

    await t.test('6. a fill by another trader is notified (dismissable) and the ticket follows the order', async () => {
      await atRest();
      // --- 6. another trader fills my resting order: a notification, and the ticket follows the order
      await page.locator('[data-testid="market"] tr[data-commodity="power"]').click();
      const resting = await place(page, { side: 'sell', type: 'limit', quantity: '26', price: '50.10' });
      assert.match(resting.text, /working: sell 26 lots \(20,800 MWh\) @ 50\.10 GTC$/);
      const lifted = await order(tokenB, { commodity: 'power', side: 'buy', type: 'limit', quantity: 20_800, price: 50.1, timeInForce: 'ioc' });
      assert.equal(lifted.body.order?.status, 'filled', JSON.stringify(lifted.body));
      const note = page.locator('[data-testid="notifications"] .note[data-kind="fill"]', { hasText: `Sold 26 lots PJM West Power at 50.10 · ${resting.orderId}` });
      await note.waitFor({ timeout: 5000 });
      await outcome.filter({ hasText: new RegExp(`^${resting.orderId} filled: sold 26 lots \\(20,800 MWh\\) at avg 50\\.1$`) }).waitFor({ timeout: 5000 });
      assert.equal(await outcome.getAttribute('data-status'), 'filled');
      await note.locator('button[name="dismiss-notification"]').click();
      await note.waitFor({ state: 'detached', timeout: 5000 });
      // ... and into "cancelled": a working order cancelled elsewhere (over REST) is followed by the ticket too
      const working = await place(page, { side: 'sell', type: 'limit', quantity: '2', price: '50.20' });
      assert.match(working.text, /working: sell 2 lots \(1,600 MWh\) @ 50\.20 GTC$/);
      const cancelled = await srv.http(`/api/v1/trading/orders/${working.orderId}`, { method: 'DELETE', token: tokenA });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      await outcome.filter({ hasText: new RegExp(`^${working.orderId} nothing filled: cancelled`) }).waitFor({ timeout: 5000 });
      assert.equal(await outcome.getAttribute('data-status'), 'cancelled');
    });

    await t.test('8. exact P&L with its currency; 13. volume in lots, avg to the tick, an unfilled FOK reads like an unfilled IOC', async () => {
      await atRest();
      // --- 8. exact P&L: short 27 lots, 1 at 50.00 and 26 at 50.10 (average 50.0962962…, sent rounded);
      // marked at the last trade, 50.00: 1,082,080 − 1,080,000 = +2,080.00 USD (from the rounded average: 2,079.99)
      const bid = await order(tokenB, { commodity: 'power', side: 'buy', type: 'limit', quantity: 800, price: 50 });
      assert.equal(bid.status, 201);
      const hit = await place(page, { side: 'sell', type: 'market', quantity: '1' });
      assert.equal(hit.status, 'filled', hit.text);
      const power = page.locator('[data-testid="positions"] tr[data-commodity="power"]');
      await power.locator('[data-testid="net-quantity"]').filter({ hasText: /^−27$/ }).waitFor({ timeout: 5000 });
      const pnl = power.locator('[data-testid="unrealized-pnl"]');
      await poll('the P&L marked at the last trade (50.00)', 5000, async () => (await pnl.getAttribute('data-pnl')) !== null && (await page.locator('[data-testid="market"] tr[data-commodity="power"] [data-testid="last-price"]').textContent()) === '50.00');
      assert.equal(await pnl.getAttribute('data-pnl'), '2080');
      // --- 13. the currency on P&L, prices and the average to the tick, volume in lots
      assert.equal(((await pnl.textContent()) ?? '').replace(/\s+/g, ' ').trim(), '+2,080.00 USD');
      assert.match(await text(page, '[data-testid="total-pnl"]'), /Total P&L USD \+2,080\.00/);
      assert.equal(await text(page, '[data-testid="market"] tr[data-commodity="power"] [data-testid="volume"]'), '27');
      assert.equal(await text(page, '[data-testid="market"] th:has-text("Volume")'), 'Volume (lots)');
      // an unfilled FOK reads like an unfilled IOC: cancelled, nothing filled
      const fok = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '45.00', timeInForce: 'fok' });
      assert.match(fok.text, /FOK filled nothing: cancelled \(Not enough on the book to fill the whole order \(fill-or-kill\): nothing traded\)$/);
      const ioc = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '45.00', timeInForce: 'ioc' });
      assert.match(ioc.text, /IOC filled nothing: cancelled/);
      await showAllOrders(page);
      const statusOf = (id: string | null) => text(page, `[data-testid="orders"] tr[data-order-id="${id}"] [data-testid="order-status"]`);
      await page.locator(`[data-testid="orders"] tr[data-order-id="${ioc.orderId}"]`).waitFor({ timeout: 5000 });
      assert.equal(await statusOf(fok.orderId), 'cancelled');
      assert.equal(await statusOf(ioc.orderId), 'cancelled');
      await page.setViewportSize({ width: 1920, height: 1080 });
      // the average to the tick (two decimals, as the prices beside it), exact on hover
      const avg = page.locator(`[data-testid="orders"] tr[data-order-id="${hit.orderId}"] td.col-mid.num`);
      assert.equal(((await avg.textContent()) ?? '').trim(), '50.00');
      assert.equal(((await power.locator('td.num.col-mid').textContent()) ?? '').trim(), '50.10');
      console.log(`# ${await screenshot(page, 'issue18-pnl-units-1920')}`);
      await page.setViewportSize({ width: 1440, height: 900 });
    });

    await t.test('10. flatten is confirmed (side, size, orders) and split above the maximum order size', async () => {
      await atRest();
      // --- 10. flatten asks first, says the side and size, and splits above the maximum order size:
      // long 1,500 crude lots (maximum 1,000 a order) closed in two market orders
      for (const [quantity, price] of [[1_000_000, 75], [500_000, 75.01]] as const) assert.equal((await order(tokenC, { commodity: 'crude_oil', side: 'sell', type: 'limit', quantity, price })).status, 201);
      await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"]').click();
      for (const lots of ['1,000', '500']) assert.equal((await place(page, { side: 'buy', type: 'market', quantity: lots })).status, 'filled');
      for (const quantity of [1_000_000, 500_000]) assert.equal((await order(tokenC, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity, price: 74 })).status, 201);
      const crude = page.locator('[data-testid="positions"] tr[data-commodity="crude_oil"]');
      await crude.locator('[data-testid="net-quantity"]').filter({ hasText: /^\+1,500$/ }).waitFor({ timeout: 5000 });
      const crudeOrders = async () => ((await srv.http('/api/v1/trading/orders?commodity=crude_oil', { token: tokenA })) as { body: { orders: unknown[] } }).body.orders.length;
      const ordersBefore = await crudeOrders();
      await crude.locator('button[name="flatten"]').click();
      const flattenConfirm = page.locator('[data-testid="flatten-confirm"]');
      await flattenConfirm.waitFor({ timeout: 5000 });
      assert.equal(
        ((await flattenConfirm.locator('span').first().textContent()) ?? '').replace(/\s+/g, ' ').trim(),
        'Sell 1,500 lots (1,500,000 bbl) of WTI Crude Oil at market in 2 orders of at most 1,000 lots (the maximum order size)?',
      );
      assert.equal(await activeName(page), 'confirm-flatten', 'Confirm has the focus');
      await page.keyboard.press('Escape');
      await flattenConfirm.waitFor({ state: 'detached', timeout: 5000 });
      assert.equal(await crudeOrders(), ordersBefore, 'nothing sent before confirming');
      await crude.locator('button[name="flatten"]').click();
      await flattenConfirm.locator('button[name="confirm-flatten"]').click();
      await page.locator('[data-testid="notifications"] .note[data-kind="action"]', { hasText: 'Flatten WTI Crude Oil: sold 1,500 lots at avg 74.00 in 2 orders' }).waitFor({ timeout: 10_000 });
      await poll('crude flat', 5000, async () => (await crude.locator('[data-testid="net-quantity"]').allTextContents()).every((t) => t === '0'));
      assert.equal(await crudeOrders(), ordersBefore + 2);
    });

    await t.test('11. my fills are marked once per candle and side', async () => {
      await atRest();
      // --- 11. my fills marked once per candle and side (four crude fills, the lots added up)
      const fills = ((await srv.http('/api/v1/trading/trades?commodity=crude_oil', { token: tokenA })) as { body: { trades: { executionTime: string; side: string }[] } }).body.trades;
      const candles = new Set(fills.map((f) => `${Math.floor(Date.parse(f.executionTime) / 60_000)}:${f.side}`));
      const chart = page.locator('[data-testid="chart-canvas"]');
      await poll('my fills marked on the chart', 10_000, async () => Number(await chart.getAttribute('data-fills')) === fills.length);
      assert.equal(Number(await chart.getAttribute('data-markers')), candles.size);
      assert.ok(candles.size < fills.length, 'several fills share a mark');
    });

    await t.test('4. amend opens in view with the price focused (1440×900); a refused amend says why', async () => {
      await atRest();
      // --- 4. amend opens in view with the price focused, at the bottom of a full blotter
      for (let i = 0; i < 14; i++) assert.equal((await order(tokenA, { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1000, price: Number((70 + i * 0.01).toFixed(2)) })).status, 201);
      await page.locator('[data-testid="orders"] input[name="open-only"]').check();
      const rows = page.locator('[data-testid="orders"] tbody tr[data-status="new"]');
      await poll('the fourteen new working orders', 5000, async () => (await rows.count()) >= 14);
      const lastRow = rows.last();
      const lastId = await lastRow.getAttribute('data-order-id');
      const lastPrice = Number(await lastRow.getAttribute('data-price'));
      // the row at the very bottom of the blotter's visible part, where the form used to open out of sight
      await lastRow.evaluate((el) => el.scrollIntoView({ block: 'end' }));
      await lastRow.locator('button[name="amend"]').click();
      const form = page.locator(`[data-testid="amend-form"][data-order-id="${lastId}"]`);
      await form.waitFor({ timeout: 5000 });
      assert.equal(await activeName(page), 'amend-price', 'the price is focused');
      const inView = await form.evaluate((el) => {
        const body = el.closest('.panel-body')?.getBoundingClientRect();
        const r = el.getBoundingClientRect();
        return !!body && r.top >= body.top - 1 && r.bottom <= body.bottom + 1 && r.bottom <= (el.ownerDocument.defaultView?.innerHeight ?? 0) && r.top >= 0;
      });
      assert.ok(inView, 'the amend form is in view, inside My orders');
      console.log(`# ${await screenshot(page, 'issue18-amend-1440')}`);
      // a refused amend says why, in words, and changes nothing
      await form.locator('input[name="amend-price"]').fill('10.00');
      await form.locator('button[name="amend-save"]').click();
      await form.locator('[role="alert"]').filter({ hasText: /^10\.00 is outside the allowed band \d+\.\d\d–\d+\.\d\d \(±20% of the last price\)$/ }).waitFor({ timeout: 5000 });
      const kept = (await srv.http(`/api/v1/trading/orders/${lastId}`, { token: tokenA })) as { body: { order: { price: number } } };
      assert.equal(kept.body.order.price, lastPrice);
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'detached', timeout: 5000 });
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await server?.close();
  }
});
