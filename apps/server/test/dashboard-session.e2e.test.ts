/**
 * Issue 18, a whole session in demo mode with a server restart in the middle (simulated market):
 * the sign-in box offers this browser's last user and nobody else's (1); a critical compliance
 * alert survives a reload (read back from the durable event log) and stays hidden once
 * acknowledged (12); times say they are UTC (14); while the server is down the screen says since
 * when, marks P&L and the chart stale and will not send orders (15); the restart on the same
 * DATA_DIR keeps the demo token valid, so the screen reconnects by itself instead of signing out
 * (1). Screenshots of the whole session at 1440×900, 1280×720 and 390×844 go to test-results/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers.js';
import { launch, layoutProblems, nextFrames, place, screenshot, skipWithoutChromium, watchErrors } from './browser.js';

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
  { width: 390, height: 844 },
] as const;

/** The screen at each size, whole (the page scrolls on a phone), after two frames of layout. */
async function screenshots(page: Page, moment: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await nextFrames(page);
    assert.deepEqual(await layoutProblems(page), [], `layout at ${size.width}×${size.height} (${moment})`);
    console.log(`# ${await screenshot(page, `session-${size.width}x${size.height}-${moment}`)}`);
  }
  await page.setViewportSize(SIZES[0]);
}

const complianceAlert = (userId: string, severity: 'critical' | 'high', message: string) => ({
  event: 'compliance-alert',
  userId,
  payload: { type: 'COMPLIANCE_ALERT', checkType: 'position_limit', severity, message, userId, details: { currentPosition: 10_000_000, limit: 10_000_000, utilization: 1, commodity: 'crude_oil' } },
});

test('issue 18 session: demo restart keeps the session, sign-in box, alerts after reload and acknowledged, UTC times, stale while down (1440×900, 1280×720, 390×844)', { skip: skipWithoutChromium }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-e2e-session-'));
  const env = { JWT_SECRET: '', SIMULATOR: 'on', SIMULATOR_SEED: '18' };
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer(env, { dataDir, keepData: true });
    const { port, url } = server;
    const running = (): TestServer => {
      if (!server) throw new Error('the server is not running');
      return server;
    };
    const chromium = await launch();
    browser = chromium;
    const context = await chromium.newContext({ viewport: SIZES[0] });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const devTokens: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/auth/dev-token')) devTokens.push(r.url());
    });
    const connected = page.locator('[data-testid="connection"][data-status="connected"]');
    const userBox = page.locator('[data-testid="demo-signin"] input[name="userId"]');
    const alerts = page.locator('[data-testid="alerts"]');
    const critical = alerts.locator('li[data-source="compliance"].sev-critical', { hasText: 'Position limit reached for WTI Crude Oil' });
    const high = alerts.locator('li[data-source="compliance"].sev-high', { hasText: 'Position limit approaching' });

    await page.goto(url + '/');
    await t.test("1. a new browser offers nobody's user id", async () => {
      assert.equal(await userBox.inputValue(), '', "no one else's user id prefilled");
    });
    await userBox.fill('session-trader');
    await page.locator('[data-testid="demo-signin"] button[type="submit"]').click();
    await connected.waitFor({ timeout: 15_000 });

    await t.test('12. a critical compliance alert comes back after a reload; acknowledged, it stays hidden', async () => {
      // --- 12. a critical compliance alert comes back after a reload (from the durable log) ...
      assert.equal((await running().publish(complianceAlert('session-trader', 'critical', 'Position limit reached for WTI Crude Oil'))).status, 202);
      await critical.waitFor({ timeout: 5000 });
      await page.reload();
      await connected.waitFor({ timeout: 15_000 });
      await critical.waitFor({ timeout: 5000 });
      // ... and, acknowledged, stays hidden: after a reload too, while newer alerts show
      await critical.locator('button[name="acknowledge"]').click();
      await critical.waitFor({ state: 'detached', timeout: 5000 });
      assert.match((await alerts.locator('[data-testid="alerts-count"]').textContent()) ?? '', /1 acknowledged/);
      assert.equal((await running().publish(complianceAlert('session-trader', 'high', 'Position limit approaching for WTI Crude Oil'))).status, 202);
      await high.waitFor({ timeout: 5000 });
      await page.reload();
      await connected.waitFor({ timeout: 15_000 });
      await high.waitFor({ timeout: 5000 });
      assert.equal(await critical.count(), 0, 'the acknowledged alert stays hidden');
      assert.equal(await alerts.locator('[data-testid="alerts-count"]').getAttribute('data-acknowledged'), '1');
    });

    // --- a position and a working order to carry through the restart
    const lastPrice = page.locator('[data-testid="market"] tr[data-commodity="crude_oil"] [data-testid="last-price"]');
    await lastPrice.filter({ hasText: /\d/ }).waitFor({ timeout: 15_000 });
    const bought = await place(page, { side: 'buy', type: 'market', quantity: '2' });
    assert.equal(bought.status, 'filled', bought.text);
    const last = Number(((await lastPrice.textContent()) ?? '').replace(/,/g, ''));
    const resting = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: (Math.floor(last * 0.9 * 100) / 100).toFixed(2) });
    assert.equal(resting.status, 'new', resting.text);
    const position = page.locator('[data-testid="positions"] tr[data-commodity="crude_oil"]');
    await position.locator('[data-testid="net-quantity"]').filter({ hasText: /^\+2$/ }).waitFor({ timeout: 5000 });
    await page.locator('[data-testid="tape"] tr[data-trade-id]').first().waitFor({ timeout: 10_000 });

    await t.test('14. every time says its zone (UTC)', async () => {
      // --- 14. every time says its zone: the time columns and the alerts
      const timeHeaders = await page.$$eval('th', (ths) => ths.map((th) => (th.textContent ?? '').trim()).filter((h) => h.startsWith('Time')));
      assert.ok(timeHeaders.length >= 3, JSON.stringify(timeHeaders));
      for (const h of timeHeaders) assert.match(h, /^Time \(UTC\)/);
      assert.match((await high.locator('.alert-head .muted').textContent()) ?? '', /^\d\d:\d\d:\d\d UTC$/);
      await screenshots(page, '1-live');
    });

    await t.test('15. while the server is down: since when, P&L and chart stale, no order can be sent', async () => {
      // --- 15. the server stops: since when, P&L and chart stale, nothing can be sent
      await running().close();
      server = null;
      await page.locator('[data-testid="connection"][data-status="reconnecting"]').waitFor({ timeout: 5000 });
      assert.match((await page.locator('[data-testid="down-since"]').textContent()) ?? '', /^down since \d\d:\d\d:\d\d UTC$/);
      assert.equal(await page.locator('[data-testid="positions"]').getAttribute('data-stale'), 'true');
      assert.match((await page.locator('[data-testid="positions-stale"]').textContent()) ?? '', /^prices frozen since \d\d:\d\d:\d\d UTC: not connected$/);
      assert.match((await page.locator('[data-testid="total-pnl"]').textContent()) ?? '', /^stale /);
      await page.locator('[data-testid="chart"][data-stale="true"] [data-testid="chart-stale"]').filter({ hasText: /^stale: not connected since \d\d:\d\d:\d\d UTC$/ }).waitFor({ timeout: 5000 });
      const placeButton = page.locator('[data-testid="ticket"] button[name="place"]');
      assert.ok(await placeButton.isDisabled());
      assert.equal(await placeButton.textContent(), 'Not connected');
      await screenshots(page, '2-server-down');
    });

    await t.test('1. restarted on the same DATA_DIR, the demo session reconnects by itself (not signed out)', async () => {
      // --- 1. restarted on the same DATA_DIR: the demo token from before is still good, the screen reconnects by itself
      const tokensBefore = devTokens.length;
      server = await startServer(env, { dataDir, keepData: true, port });
      await page.locator('[data-testid="connection"][data-status="connected"][data-reconnected="true"]').waitFor({ timeout: 15_000 });
      assert.equal(statSync(join(dataDir, 'demo-secret')).mode & 0o777, 0o600, 'the kept secret is the owner\'s only');
      assert.equal(await page.locator('[data-testid="signin-reason"]').count(), 0, 'not signed out');
      assert.equal(await page.locator('[data-testid="user"]').textContent(), 'session-trader');
      assert.equal(devTokens.length, tokensBefore, 'no new token was needed');
      assert.equal(await page.locator('[data-testid="positions"]').getAttribute('data-stale'), 'false');
      assert.equal(await page.locator('[data-testid="down-since"]').count(), 0);
      await page.locator(`[data-testid="orders"] tr[data-order-id="${resting.orderId}"][data-status="new"]`).waitFor({ timeout: 5000 });
      const after = await place(page, { side: 'buy', type: 'market', quantity: '1' });
      assert.equal(after.status, 'filled', after.text);
      await position.locator('[data-testid="net-quantity"]').filter({ hasText: /^\+3$/ }).waitFor({ timeout: 5000 });
      await screenshots(page, '3-reconnected');
    });

    await t.test("1. the sign-in box offers this browser's last user, and a new browser nobody", async () => {
      // --- 1. signed out, the box offers this browser's last user; another tab too; another browser nobody
      const signOut = page.locator('button[name="sign-out"]');
      if (await signOut.count()) await signOut.click();
      await userBox.waitFor({ timeout: 5000 });
      assert.equal(await userBox.inputValue(), 'session-trader');
      const tab = await context.newPage();
      await tab.goto(url + '/');
      assert.equal(await tab.locator('[data-testid="demo-signin"] input[name="userId"]').inputValue(), 'session-trader');
      const stranger = await (await chromium.newContext()).newPage();
      await stranger.goto(url + '/');
      assert.equal(await stranger.locator('[data-testid="demo-signin"] input[name="userId"]').inputValue(), '');
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
