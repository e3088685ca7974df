/**
 * The trading terminal of issue 9 in a real browser against a real gateway (simulated market):
 * a candlestick chart from the candles endpoint that moves with the live tape and marks my
 * fills; a depth ladder of 10+ levels from the streamed book (no REST polling) with cumulative
 * sizes and bars beside the numbers; the time & sales tape; quantities in lots with notional
 * and a confirmation above the configured size; total P&L and exposure against the limit; times
 * with date and zone on hover; the layout at 1920, 1440, 1280, 1024 and 390 px. Screenshots go
 * to test-results/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers.js';
import { VIEWPORTS, launch, layoutProblems, place, poll, screenshot, showAllOrders, signInWithToken, skipWithoutChromium, watchErrors } from './browser.js';

const chart = (page: Page) => page.locator('[data-testid="chart-canvas"]');
const attr = async (page: Page, name: string) => Number((await chart(page).getAttribute(name)) ?? NaN);


/** Book rows whose depth bar overlaps a cell with a number in it. */
async function barsOverNumbers(page: Page): Promise<number> {
  return page.$$eval('[data-testid="book"] tr.level', (rows) => {
    let bad = 0;
    for (const row of rows) {
      const bar = row.querySelector('.bar')?.getBoundingClientRect();
      if (!bar || bar.width === 0) continue;
      const cells = row.querySelectorAll('td.num');
      for (let i = 0; i < cells.length; i++) {
        const r = cells.item(i).getBoundingClientRect();
        if (r.width > 0 && bar.left < r.right - 1 && bar.right > r.left + 1 && bar.top < r.bottom && bar.bottom > r.top) bad++;
      }
    }
    return bad;
  });
}

test('terminal: chart, streamed depth and tape, lots and notional, confirmation, P&L and exposure, five widths', { skip: skipWithoutChromium }, async () => {
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ SIMULATOR: 'on', SIMULATOR_SEED: '21' });
    const token = await server.sign('terminal-trader', { ttlSeconds: 3600 });
    browser = await launch();
    const page = await browser.newPage({ viewport: VIEWPORTS[0] });
    const errors = watchErrors(page);
    const bookPolls: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/v1\/market\/[^/]+\/book/.test(r.url())) bookPolls.push(r.url());
    });
    await signInWithToken(page, server.url, token);
    await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"]').click();

    // the chart: history from the candles endpoint, then it moves with the tape
    await poll('candles drawn', 10_000, async () => (await attr(page, 'data-candles')) > 0);
    assert.equal(await chart(page).getAttribute('data-commodity'), 'crude_oil');
    assert.ok((await chart(page).locator('canvas').count()) > 0, 'the chart draws on a canvas');
    const before = { live: await attr(page, 'data-live-trades'), volume: await attr(page, 'data-last-volume'), time: await attr(page, 'data-last-time') };
    // a live trade the history already held moves nothing, so wait for the last candle itself to change
    const moved = async () => (await attr(page, 'data-live-trades')) > before.live && ((await attr(page, 'data-last-time')) > before.time || (await attr(page, 'data-last-volume')) > before.volume);
    await poll('the chart to move with live trades', 30_000, moved).catch(async (err: unknown) => {
      const drawn = { live: await attr(page, 'data-live-trades'), candles: await attr(page, 'data-candles'), time: await attr(page, 'data-last-time') };
      throw new Error(`${String(err)}; before ${JSON.stringify(before)}; chart ${JSON.stringify(drawn)}; tape rows ${await page.locator('[data-testid="tape"] tr[data-trade-id]').count()}`);
    });
    const after = { volume: await attr(page, 'data-last-volume'), time: await attr(page, 'data-last-time'), close: await attr(page, 'data-last-close') };
    assert.ok(after.time > before.time || after.volume > before.volume, `the last candle grew or a new one opened: ${JSON.stringify({ before, after })}`);
    assert.ok(after.close > 0);
    // interval switch: 5-minute candles from the endpoint
    await page.locator('[data-testid="chart"] button[name="interval-5m"]').click();
    await poll('5m candles', 5000, async () => (await chart(page).getAttribute('data-interval')) === '5m' && (await attr(page, 'data-candles')) > 0);
    const t5 = await attr(page, 'data-last-time');
    assert.equal(t5 % 300_000, 0, '5m candles start on 5-minute boundaries');
    await page.locator('[data-testid="chart"] button[name="interval-1m"]').click();

    // the tape streams public trades, with date and zone on hover
    const tapeRow = page.locator('[data-testid="tape"] tr[data-trade-id]').first();
    await tapeRow.waitFor({ timeout: 10_000 });
    assert.match((await tapeRow.locator('td').first().getAttribute('title')) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC · local .+/);

    // 12 resting bids at distinct prices (over REST, as another screen would): the streamed ladder shows 10+ levels
    const last = Number(((await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"] [data-testid="last-price"]').textContent()) ?? '').replace(/,/g, ''));
    assert.ok(last > 0);
    const base = Math.floor(last * 0.95 * 100) / 100;
    for (let i = 0; i < 12; i++) {
      const r: { status: number; body: unknown } = await server.http('/api/v1/trading/orders', { method: 'POST', token, json: { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1000 * (i + 1), price: Number((base - i * 0.05).toFixed(2)), timeInForce: 'gtc' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const levels = page.locator('[data-testid="book-levels"]');
    // the market maker quotes 5 asks; a noise trader may take one until its next requote, so both are polled
    await poll('10+ bid levels and 5 ask levels in the streamed book', 10_000, async () => Number(await levels.getAttribute('data-bids')) >= 10 && Number(await levels.getAttribute('data-asks')) >= 5);
    // sizes in lots, the running total is cumulative, the bar sits beside the numbers
    const readBids = () =>
      page.$$eval('[data-testid="book"] tr.level-bid', (rows) =>
        rows.map((r) => {
          const cells = r.querySelectorAll('td.num');
          const out: number[] = [];
          for (let i = 0; i < cells.length; i++) out.push(Number((cells.item(i).textContent ?? '').replace(/,/g, '')));
          return out;
        }),
      );
    // the book streams: compare two reads a moment apart, so both come from one book
    let bids = await readBids();
    for (let i = 0; i < 20; i++) {
      await page.waitForTimeout(100);
      const again = await readBids();
      if (JSON.stringify(again) === JSON.stringify(bids)) break;
      bids = again;
    }
    let running = 0;
    for (const cells of bids) {
      const [size, , total] = cells.slice(-3);
      running += size ?? NaN;
      assert.ok(Math.abs((total ?? NaN) - running) < 1e-6, `cumulative size ${JSON.stringify(bids)}`);
    }
    assert.equal(await barsOverNumbers(page), 0, 'no depth bar covers a number');
    assert.deepEqual(bookPolls, [], 'the book is streamed, not polled over REST');

    // the ticket: lots with the contract size, the notional before sending
    const ticket = page.locator('[data-testid="ticket"]');
    await ticket.locator('button[name="type-limit"]').click();
    await ticket.locator('input[name="quantity"]').fill('3');
    await ticket.locator('input[name="price"]').fill('70.00');
    assert.match((await ticket.locator('[data-testid="ticket-size"]').textContent()) ?? '', /1 lot = 1,000 bbl · 3,000 bbl/);
    assert.equal(await ticket.locator('[data-testid="ticket-notional"]').getAttribute('data-notional'), '210000');
    assert.match((await ticket.locator('[data-testid="ticket-notional"]').textContent()) ?? '', /USD 210,000\.00/);
    // above the configured size: asked first, and going back sends nothing
    await ticket.locator('input[name="confirmAbove"]').fill('2');
    const asked = await place(page, { side: 'buy', type: 'limit', quantity: '3', price: '70.00', confirm: false });
    assert.equal(asked.status, 'confirming');
    assert.match(asked.text, /Confirm buy 3 lots \(3,000 bbl\) limit @ 70\.00: above your confirmation size of 2 lots/);
    await ticket.locator('button[name="cancel-place"]').click();
    assert.equal(await page.locator('[data-testid="orders"] tr[data-status="new"]').count(), 12, 'nothing was sent');
    await ticket.locator('input[name="confirmAbove"]').fill('100');

    // a fill: marked on the chart, a position in lots with its exposure, the total P&L
    const bought = await place(page, { side: 'buy', type: 'market', quantity: '2' });
    assert.equal(bought.status, 'filled', bought.text);
    await poll('my fill marked on the chart', 10_000, async () => (await attr(page, 'data-fills')) >= 1);
    const pos = page.locator('[data-testid="positions"] tr[data-commodity="crude_oil"]');
    await pos.locator('[data-testid="net-quantity"]').filter({ hasText: /^\+2$/ }).waitFor({ timeout: 5000 });
    const limit = server.app.config.commodities.find((c) => c.symbol === 'crude_oil')?.positionLimit ?? 0;
    assert.ok(limit > 0);
    // exposure as the limit check counts it: the long position plus the 12 working bids (78,000 bbl)
    await poll('exposure with the working bids', 5000, async () => Number(await pos.locator('[data-testid="exposure"]').getAttribute('data-used')) === 80_000 / limit);
    assert.match((await pos.locator('[data-testid="exposure"]').getAttribute('title')) ?? '', /80,000 of [\d,]+ bbl position limit: 80 of [\d,]+ lots, net 2 plus working buys 78/);
    assert.match((await page.locator('[data-testid="total-pnl"]').textContent()) ?? '', /Total P&L USD [+−]?[\d,]+\.\d\d/);
    assert.match((await page.locator('[data-testid="trades"] tbody tr').first().locator('td').first().getAttribute('title')) ?? '', / UTC · local /);

    // the layout at every width: nothing cut off, key controls reachable
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      // the screen lays itself out again for the new size: wait for that (bounded), then it must hold
      await poll(`layout at ${viewport.width}x${viewport.height}`, 3000, async () => (await layoutProblems(page)).length === 0).catch(() => undefined);
      assert.deepEqual(await layoutProblems(page), [], `layout at ${viewport.width}x${viewport.height}`);
      for (const control of [ticket.locator('button[name="place"]'), ticket.locator('input[name="quantity"]'), page.locator('[data-testid="chart"] button[name="interval-1h"]')]) {
        await control.scrollIntoViewIfNeeded();
        assert.ok(await control.isVisible(), `${await control.getAttribute('name')} reachable at ${viewport.width}`);
      }
      const box = await chart(page).boundingBox();
      assert.ok(box && box.width > 200 && box.height > 150, `chart has room at ${viewport.width}: ${JSON.stringify(box)}`);
      assert.equal(await barsOverNumbers(page), 0, `no depth bar over a number at ${viewport.width}`);
      console.log(`# ${await screenshot(page, `terminal-${viewport.width}`)}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await server?.close();
  }
});

test('terminal orders: amend a resting order, cancel all, flatten a position', { skip: skipWithoutChromium }, async () => {
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ SIMULATOR: 'on', SIMULATOR_SEED: '23' });
    const token = await server.sign('orders-trader', { ttlSeconds: 3600 });
    browser = await launch();
    const page = await browser.newPage({ viewport: VIEWPORTS[2] });
    const errors = watchErrors(page);
    await signInWithToken(page, server.url, token);
    await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
    // connected comes before the first market update: wait for a price
    await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"] [data-testid="last-price"]').filter({ hasText: /\d/ }).waitFor({ timeout: 15_000 });
    const last = Number(((await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"] [data-testid="last-price"]').textContent()) ?? '').replace(/,/g, ''));
    assert.ok(last > 0);
    const far = (Math.floor(last * 0.9 * 100) / 100).toFixed(2);
    const lower = (Math.floor(last * 0.88 * 100) / 100).toFixed(2);

    // amend: a new price and quantity on the resting order, same id
    const placed = await place(page, { side: 'buy', type: 'limit', quantity: '2', price: far });
    assert.equal(placed.status, 'new', placed.text);
    const row = page.locator(`[data-testid="orders"] tr[data-order-id="${placed.orderId}"]`);
    await row.and(page.locator('[data-status="new"]')).waitFor({ timeout: 5000 });
    await row.locator('button[name="amend"]').click();
    const form = page.locator(`[data-testid="amend-form"][data-order-id="${placed.orderId}"]`);
    await form.locator('input[name="amend-price"]').fill(lower);
    await form.locator('input[name="amend-quantity"]').fill('3');
    await form.locator('button[name="amend-save"]').click();
    await page.locator(`[data-testid="orders"] tr[data-order-id="${placed.orderId}"][data-price="${Number(lower)}"][data-quantity="3000"]`).waitFor({ timeout: 5000 });
    assert.equal(await form.count(), 0, 'the amend form closes');
    const server1 = await server.http(`/api/v1/trading/orders/${placed.orderId}`, { token });
    assert.equal(server1.body.order.price, Number(lower));
    assert.equal(server1.body.order.quantity, 3000);
    // a refused amend (a quantity below... zero lots) says why and changes nothing
    await row.locator('button[name="amend"]').click();
    await form.locator('input[name="amend-quantity"]').fill('0');
    await form.locator('button[name="amend-save"]').click();
    await form.locator('[role="alert"]', { hasText: /at least 1 lot/ }).waitFor({ timeout: 5000 });
    await form.locator('button[name="amend-close"]').click();

    // cancel all: every open crude order goes, in one request
    const second = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: far });
    assert.equal(second.status, 'new');
    const cancelAll = page.locator('[data-testid="orders"] button[name="cancel-all"]');
    await cancelAll.filter({ hasText: '(2)' }).waitFor({ timeout: 5000 });
    await cancelAll.click();
    await showAllOrders(page);
    for (const id of [placed.orderId, second.orderId]) await page.locator(`[data-testid="orders"] tr[data-order-id="${id}"][data-status="cancelled"]`).waitFor({ timeout: 5000 });
    assert.equal((await server.http('/api/v1/trading/orders?status=open', { token })).body.orders?.filter((o: { status: string }) => o.status === 'new').length ?? 0, 0);

    // flatten: a long position closed at market
    const bought = await place(page, { side: 'buy', type: 'market', quantity: '2' });
    assert.equal(bought.status, 'filled', bought.text);
    const pos = page.locator('[data-testid="positions"] tr[data-commodity="crude_oil"]');
    await pos.locator('[data-testid="net-quantity"]').filter({ hasText: /^\+2$/ }).waitFor({ timeout: 5000 });
    await pos.locator('button[name="flatten"]').click();
    await page.locator('[data-testid="flatten-confirm"] button[name="confirm-flatten"]').click();
    // read in one go: the row may go between a count and a read of its text
    await poll('the position to be flat', 10_000, async () => (await pos.locator('[data-testid="net-quantity"]').allTextContents()).every((t) => t === '0'));
    const positions = (await server.http('/api/v1/trading/positions', { token })).body.positions as { commodity: string; netQuantity: number }[];
    assert.equal(positions.find((p) => p.commodity === 'crude_oil')?.netQuantity ?? 0, 0);
    // flat: the server says NO_POSITION, and the screen offers no flatten
    assert.equal((await server.http('/api/v1/trading/positions/crude_oil/flatten', { method: 'POST', token })).body.error.code, 'NO_POSITION');
    assert.equal(await page.locator('[data-testid="positions"] button[name="flatten"]').count(), 0);
    console.log(`# ${await screenshot(page, 'terminal-orders-1280')}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await server?.close();
  }
});
