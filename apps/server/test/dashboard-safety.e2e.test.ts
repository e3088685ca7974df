/**
 * Issue 17 on the trading screen, in Chromium against a real gateway (no simulated market, so every
 * price is the test's own): orders go over the socket through the SDK; the cancel-on-disconnect
 * switch is off by default, says when it is on, and when the page's connection goes the order it
 * placed is cancelled (seen from another page of the same trader and over REST); a market halted
 * by a risk manager (admin REST) shows as halted in Market Watch and in the ticket, which says why
 * and until when and refuses before sending; reopened, it shows open and takes orders again.
 * Screenshots go to test-results/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers.js';
import { launch, place, poll, screenshot, showAllOrders, signInWithToken, skipWithoutChromium, watchErrors, watchOrdersSent } from './browser.js';

/** REST order calls the page makes (there should be none while its socket is up). */
function watchRestOrders(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/trading/orders') && r.method() !== 'GET') calls.push(`${r.method()} ${r.url()}`);
  });
  return calls;
}

test('issue 17 on the screen: the cancel-on-disconnect switch, and a halted market (1440×900)', { skip: skipWithoutChromium }, async (t) => {
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ SIMULATOR: 'off' });
    const srv = server;
    const token = await srv.sign('safety-trader', { ttlSeconds: 3600 });
    const risk = await srv.sign('risk-officer', { roles: ['risk'], ttlSeconds: 3600 });
    browser = await launch();
    const viewport = { width: 1440, height: 900 };
    // two pages of the same trader, each in its own browser context (as two machines would be)
    const page = await (await browser.newContext({ viewport })).newPage();
    const other = await (await browser.newContext({ viewport })).newPage();
    const errors = watchErrors(page);
    const otherErrors = watchErrors(other);
    // watched from the start: a page's socket is seen only when it opens
    const sent = watchOrdersSent(page);
    const rest = watchRestOrders(page);
    const otherSent = watchOrdersSent(other);
    await signInWithToken(page, srv.url, token);
    await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
    await signInWithToken(other, srv.url, token);
    await other.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
    await showAllOrders(other);

    await t.test('cancel-on-disconnect: off by default; on, it says so; the page gone, its order is cancelled', async () => {
      const cod = page.locator('[data-testid="cod-switch"]');
      const box = cod.locator('input[name="cancel-on-disconnect"]');
      assert.equal(await cod.getAttribute('data-state'), 'off');
      assert.equal(await box.isChecked(), false, 'off by default');
      assert.equal(await page.locator('[data-testid="cod-on"]').count(), 0);
      await box.check();
      // on only once the server confirmed it: the top bar and the ticket say so
      await page.locator('[data-testid="cod-switch"][data-state="on"] [data-testid="cod-on"]').waitFor({ timeout: 5000 });
      assert.match((await page.locator('[data-testid="ticket-cod"]').textContent()) ?? '', /Cancel-on-disconnect is on/);

      const placed = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '70.00' });
      assert.equal(placed.status, 'new', placed.text);
      assert.equal(sent.length, 1, 'the order went out once');
      assert.deepEqual(rest, [], 'over the socket, not REST');
      const row = (p: Page, status: string) => p.locator(`[data-testid="orders"] tr[data-order-id="${placed.orderId}"][data-status="${status}"]`);
      await row(other, 'new').waitFor({ timeout: 5000 });
      console.log(`# ${await screenshot(page, 'issue17-cod-on-1440')}`);

      // the page goes (its connection with it): the other page sees the order cancelled, and REST says why
      await page.close();
      await row(other, 'cancelled').waitFor({ timeout: 10_000 });
      const read = await srv.http(`/api/v1/trading/orders/${placed.orderId}`, { token });
      assert.deepEqual([read.body.order.status, read.body.order.reason], ['cancelled', 'cancel_on_disconnect']);
      // the other page never asked for it: its switch is off
      assert.equal(await other.locator('[data-testid="cod-switch"]').getAttribute('data-state'), 'off');
      console.log(`# ${await screenshot(other, 'issue17-cod-cancelled-1440')}`);
    });

    await t.test('a halted market: shown in market watch and the ticket (why, until when), refused before sending; reopened, it takes orders', async () => {
      const crude = other.locator('[data-testid="market"] tr[data-commodity="crude_oil"]');
      const ticket = other.locator('[data-testid="ticket"]');
      const button = ticket.locator('button[name="place"]');
      await crude.click();
      assert.equal(await crude.getAttribute('data-market-status'), 'open');

      const halt = await srv.http('/api/v1/admin/market/crude_oil/halt', { method: 'POST', token: risk, json: { reason: 'Exchange incident', durationMs: 120_000 } });
      assert.equal(halt.status, 200, JSON.stringify(halt.body));
      const until = new Date(halt.body.status.until as string).toISOString().slice(11, 19);
      await other.locator('[data-testid="market"] tr[data-commodity="crude_oil"][data-market-status="halted"]').waitFor({ timeout: 5000 });
      assert.equal(await crude.locator('[data-testid="market-status"]').textContent(), 'Halted');
      assert.equal(await other.locator('[data-testid="market"] tr[data-commodity="brent"]').getAttribute('data-market-status'), 'open', 'other markets stay open');
      const notice = ticket.locator('[data-testid="ticket-market-status"][data-status="halted"]');
      await notice.waitFor({ timeout: 5000 });
      assert.equal(await notice.textContent(), `WTI Crude Oil is halted until ${until} UTC: Exchange incident. Orders and amends are refused; cancels work.`);
      assert.ok(await button.isDisabled(), 'the ticket refuses before sending');
      assert.equal(await button.textContent(), 'Market halted');
      // Enter in the ticket sends nothing either
      await ticket.locator('input[name="quantity"]').fill('1');
      await ticket.locator('input[name="price"]').fill('70.00');
      await ticket.locator('input[name="price"]').press('Enter');
      console.log(`# ${await screenshot(other, 'issue17-halted-1440')}`);
      assert.deepEqual(otherSent, [], 'nothing was sent while halted');

      const reopen = await srv.http('/api/v1/admin/market/crude_oil/reopen', { method: 'POST', token: risk });
      assert.equal(reopen.status, 200);
      await other.locator('[data-testid="market"] tr[data-commodity="crude_oil"][data-market-status="open"]').waitFor({ timeout: 5000 });
      await notice.waitFor({ state: 'detached', timeout: 5000 });
      await poll('the ticket to take orders again', 5000, async () => !(await button.isDisabled()));
      const again = await place(other, { side: 'buy', type: 'limit', quantity: '1', price: '70.00' });
      assert.equal(again.status, 'new', again.text);
      assert.equal(otherSent.length, 1, 'sent once reopened');
      console.log(`# ${await screenshot(other, 'issue17-reopened-1440')}`);
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(otherErrors, []);
  } finally {
    await browser?.close();
    await server?.close();
  }
});
