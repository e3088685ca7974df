/**
 * The dashboard in a real browser against a real gateway (demo mode, simulated market): sign in,
 * live prices for every commodity that move, a resting limit order placed and cancelled, an
 * off-tick price answered with its coded error, a market order filled into trades and
 * positions. Needs Chromium at /usr/bin/chromium (skipped without it, except in CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Browser, Page } from 'playwright-core';
import dashboardRoutes from '../src/http/routes/dashboard.js';
import { startServer, type TestServer } from './helpers.js';
import { launch, place, poll, screenshot, showAllOrders, signInDemo, skipWithoutChromium, watchErrors } from './browser.js';

async function lastPrices(page: Page): Promise<Record<string, string>> {
  return page.$$eval('[data-testid="market"] tr[data-commodity]', (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-commodity') ?? '', r.querySelector('[data-testid="last-price"]')?.textContent ?? ''])),
  );
}

test('dashboard: sign in, live prices, place and cancel, fill into trades and positions', { skip: skipWithoutChromium }, async () => {
  let server: TestServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer({ JWT_SECRET: '', SIMULATOR: 'on', SIMULATOR_SEED: '7' });
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const pageErrors = watchErrors(page);

    // sign in (demo)
    await signInDemo(page, server.url, 'e2e-trader');
    assert.equal(await page.locator('[data-testid="user"]').textContent(), 'e2e-trader');

    // a price for every commodity of the catalogue, and prices that move
    const symbols = server.app.config.commodities.map((c) => c.symbol);
    const priced = (prices: Record<string, string>) => symbols.every((c) => /\d/.test(prices[c] ?? ''));
    await poll('a price for every commodity', 5000, async () => priced(await lastPrices(page)));
    const first = await lastPrices(page);
    assert.deepEqual(Object.keys(first).sort(), [...symbols].sort());
    await poll('a price to move', 8000, async () => {
      const now = await lastPrices(page);
      return symbols.some((c) => now[c] !== first[c]);
    });

    // crude oil selected: its book has depth on both sides
    await page.locator('[data-testid="market"] tr[data-commodity="crude_oil"]').click();
    await page.locator('[data-testid="book"] tr.level-bid').first().waitFor({ timeout: 5000 });
    await page.locator('[data-testid="book"] tr.level-ask').first().waitFor({ timeout: 5000 });

    // an off-tick price: the server's refusal is said in words (the code stays in data-code)
    const offTick = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: '70.123' });
    assert.match(offTick.text, /70\.123 is not on the price grid/);
    assert.equal(await page.locator('[data-testid="ticket-outcome"]').getAttribute('data-code'), 'PRICE_OFF_TICK');
    await showAllOrders(page);

    // a limit buy far below the market rests as new, then is cancelled
    const last = Number((first['crude_oil'] ?? '').replace(/,/g, ''));
    assert.ok(last > 0, `crude oil last price: ${first['crude_oil']}`);
    const farPrice = (Math.floor(last * 0.9 * 100) / 100).toFixed(2);
    const placed = await place(page, { side: 'buy', type: 'limit', quantity: '1', price: farPrice });
    assert.equal(placed.status, 'new', `limit order accepted as new: ${placed.text}`);
    const limitId = placed.orderId;
    assert.ok(limitId);
    assert.match(placed.text, new RegExp(`^${limitId} working: buy 1 lot \\(1,000 bbl\\) @ ${farPrice.replace('.', '\\.')} GTC$`));
    const limitRow = page.locator(`[data-testid="orders"] tr[data-order-id="${limitId}"]`);
    await limitRow.and(page.locator('[data-status="new"]')).waitFor({ timeout: 5000 });
    await limitRow.locator('button', { hasText: 'Cancel' }).click();
    await page.locator(`[data-testid="orders"] tr[data-order-id="${limitId}"][data-status="cancelled"]`).waitFor({ timeout: 5000 });

    // a market buy fills: a trade and a long position
    const filled = await place(page, { side: 'buy', type: 'market', quantity: '1' });
    assert.equal(filled.status, 'filled', `market order filled: ${filled.text}`);
    const marketId = filled.orderId;
    assert.match(filled.text, /filled: bought 1 lot \(1,000 bbl\) at avg \d/);
    await page.locator(`[data-testid="trades"] tr[data-order-id="${marketId}"]`).first().waitFor({ timeout: 5000 });
    await page.locator(`[data-testid="orders"] tr[data-order-id="${marketId}"][data-status="filled"]`).waitFor({ timeout: 5000 });
    await page
      .locator('[data-testid="positions"] tr[data-commodity="crude_oil"] [data-testid="net-quantity"]')
      .filter({ hasText: /^\+1$/ })
      .waitFor({ timeout: 5000 });

    // alerts: a system alert to everyone, a compliance alert to this user, each with its severity
    await server.publish({
      event: 'system-alert',
      payload: { alertType: 'market_volatility', severity: 'warning', message: 'High volatility detected in crude oil market', affectedCommodities: ['crude_oil'] },
    });
    await server.publish({
      event: 'compliance-alert',
      userId: 'e2e-trader',
      payload: {
        type: 'COMPLIANCE_ALERT',
        checkType: 'position_limit',
        severity: 'high',
        message: 'Position limit approaching for crude oil',
        userId: 'e2e-trader',
        details: { currentPosition: 9_000_000, limit: 10_000_000, utilization: 0.9, commodity: 'crude_oil' },
      },
    });
    // the simulated market may raise its own volatility warnings too: any one will do
    await page.locator('[data-testid="alerts"] li[data-source="system"].sev-warning', { hasText: 'High volatility' }).first().waitFor({ timeout: 5000 });
    await page.locator('[data-testid="alerts"] li[data-source="compliance"].sev-high', { hasText: '90.0% of limit' }).waitFor({ timeout: 5000 });

    console.log(`# dashboard screenshot: ${await screenshot(page, 'dashboard-1600')}`);
    assert.deepEqual(pageErrors, [], 'no errors in the page');
  } finally {
    await browser?.close();
    await server?.close();
  }
});

test('dashboard route: the build at /, a hint when it is missing, and nothing else shadowed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qx-dashboard-dist-'));
  const app = Fastify();
  try {
    await app.register(dashboardRoutes, { dir: join(dir, 'missing') });
    const missing = await app.inject('/');
    assert.equal(missing.statusCode, 200);
    assert.match(missing.body, /npm run build/);

    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>qx</title>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    const built = Fastify();
    await built.register(dashboardRoutes, { dir });
    const index = await built.inject('/');
    assert.equal(index.body, '<!doctype html><title>qx</title>');
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
    const asset = await built.inject('/assets/index-abc.js');
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    assert.equal((await built.inject('/assets/nope.js')).statusCode, 404);
    assert.equal((await built.inject('/assets/')).statusCode, 404);
    await built.close();
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // in the gateway, the API, Socket.IO and operations routes keep answering as before
  const server = await startServer();
  try {
    assert.deepEqual((await server.http('/health')).body, { status: 'ok' });
    assert.equal((await server.http('/ready')).status, 200);
    assert.match(String((await server.http('/metrics')).body), /qx_connections/);
    assert.equal((await server.http('/api/v1/market/commodities')).body.error.code, 'UNAUTHORIZED');
    assert.equal((await server.http('/socket.io/?EIO=4&transport=polling')).status, 200);
    const unknown = await server.http('/no-such-page');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
    assert.equal((await server.http('/')).status, 200);
  } finally {
    await server.close();
  }
});
