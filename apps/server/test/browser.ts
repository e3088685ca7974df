/**
 * The dashboard in Chromium (playwright-core, Debian's /usr/bin/chromium): launching, signing in,
 * placing orders through the ticket, screenshots under test-results/ (gitignored). Tests that use
 * it skip without Chromium, except in CI.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST_INDEX = join(ROOT, 'apps/dashboard/dist/index.html');
export const RESULTS_DIR = join(ROOT, 'test-results');

export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is required in CI for the dashboard e2e tests`);
export const skipWithoutChromium = haveChromium ? false : `no Chromium at ${CHROMIUM}`;

/** The widths the screen must work at, with a typical height for each. */
export const VIEWPORTS = [
  { width: 1920, height: 1080 },
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
  { width: 1024, height: 768 },
  { width: 390, height: 844 },
] as const;

/**
 * Builds the screen as it is served (`npm test` builds it before any test runs; this covers a
 * browser test run on its own). NODE_ENV is production whatever the test runner set (it sets
 * `test`, under which Vite would bundle React's development build, half again as big).
 */
export function buildDashboardIfMissing(): void {
  if (existsSync(DIST_INDEX)) return;
  const r = spawnSync('npm', ['run', 'build', '-w', '@qx/dashboard'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  assert.equal(r.status, 0, `dashboard build failed:\n${r.stdout}\n${r.stderr}`);
}

export async function launch(): Promise<Browser> {
  buildDashboardIfMissing();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Collects page errors, console errors (but not the 4xx the browser logs for refused requests) and 5xx answers. */
export function watchErrors(page: Page, opts: { allow5xx?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && !/WebSocket connection/.test(msg.text())) errors.push(msg.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 500 && !opts.allow5xx) errors.push(`${res.status()} ${res.url()}`);
  });
  return errors;
}

/**
 * Every order the page sends, whichever way: `place-order` frames on its Socket.IO connection and
 * `POST /api/v1/trading/orders` requests (the body of each).
 */
export function watchOrdersSent(page: Page): string[] {
  const sent: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (frame) => {
      // an engine.io message (4) holding a Socket.IO event (2) with an ack id
      const m = typeof frame.payload === 'string' ? /^42\d*\["place-order",(.*)\]$/s.exec(frame.payload) : null;
      if (m) sent.push(m[1]!);
    });
  });
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/trading/orders') sent.push(r.postData() ?? '');
  });
  return sent;
}

/** Polls `check` until it holds; fails after `ms` naming `what`. */
export async function poll(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function signInDemo(page: Page, url: string, userId: string): Promise<void> {
  await page.goto(url + '/');
  await page.locator('[data-testid="demo-signin"] input[name="userId"]').fill(userId);
  await page.locator('[data-testid="demo-signin"] button[type="submit"]').click();
  // generous: the machine is shared and loaded (the first load parses the whole bundle)
  await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
}

export async function signInWithToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url + '/');
  await page.locator('[data-testid="jwt-signin"] textarea[name="token"]').fill(token);
  await page.locator('[data-testid="jwt-signin"] button[type="submit"]').click();
}

export interface Placed {
  text: string;
  orderId: string | null;
  status: string | null;
}

export async function place(
  page: Page,
  /** quantity in lots; an order above the confirmation size is confirmed unless `confirm: false` */
  o: { side: 'buy' | 'sell'; type: 'limit' | 'market'; quantity: string; price?: string; timeInForce?: string; confirm?: boolean },
): Promise<Placed> {
  const ticket = page.locator('[data-testid="ticket"]');
  await ticket.locator(`button[name="side-${o.side}"]`).click();
  await ticket.locator(`button[name="type-${o.type}"]`).click();
  await ticket.locator('input[name="quantity"]').fill(o.quantity);
  if (o.price !== undefined) await ticket.locator('input[name="price"]').fill(o.price);
  if (o.timeInForce !== undefined) await ticket.locator('select[name="timeInForce"]').selectOption(o.timeInForce);
  const outcome = ticket.locator('[data-testid="ticket-outcome"]');
  const before = await outcome.getAttribute('data-answers');
  await ticket.locator('button[name="place"]').click();
  // an order above the confirmation size asks first: confirm it
  const confirm = ticket.locator('button[name="confirm-place"]');
  await poll('the ticket to answer or ask for a confirmation', 5000, async () => (await outcome.getAttribute('data-answers')) !== before || (await confirm.count()) > 0);
  if ((await outcome.getAttribute('data-answers')) === before && (await confirm.count()) > 0) {
    if (o.confirm === false) return { text: (await ticket.locator('[data-testid="ticket-confirm"]').textContent()) ?? '', orderId: null, status: 'confirming' };
    await confirm.click();
  }
  await poll('the ticket to answer', 5000, async () => (await outcome.getAttribute('data-answers')) !== before);
  return { text: (await outcome.textContent()) ?? '', orderId: await outcome.getAttribute('data-order-id'), status: await outcome.getAttribute('data-status') };
}

/** Waits two animation frames: the layout after a resize or a state change has been drawn. */
export async function nextFrames(page: Page): Promise<void> {
  await page.$eval('body', (body) => new Promise<void>((done) => {
    const win = body.ownerDocument.defaultView;
    if (!win) return done();
    win.requestAnimationFrame(() => win.requestAnimationFrame(() => done()));
  }));
}

/** My orders shows working orders only by default: show the filled, cancelled and rejected ones too. */
export async function showAllOrders(page: Page): Promise<void> {
  const openOnly = page.locator('[data-testid="orders"] input[name="open-only"]');
  if (await openOnly.isChecked()) await openOnly.uncheck();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Everything that makes a layout unusable at the current size, as readable strings. */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.$$eval('section.panel', (panels) => {
    const problems: string[] = [];
    const doc = panels[0]?.ownerDocument;
    const vw = doc?.defaultView?.innerWidth ?? 0;
    const pageWidth = doc?.documentElement.scrollWidth ?? 0;
    if (pageWidth > vw + 1) problems.push(`page scrolls sideways: ${pageWidth} > ${vw}`);
    for (const panel of panels) {
      const id = panel.getAttribute('data-testid') ?? '?';
      const body = panel.querySelector('.panel-body');
      if (body && body.scrollWidth > body.clientWidth + 1) problems.push(`${id}: content cut off (${body.scrollWidth} > ${body.clientWidth})`);
      const box = panel.getBoundingClientRect();
      if (box.left < -1 || box.right > vw + 1) problems.push(`${id}: outside the window (${box.left}..${box.right})`);
      const controls = panel.querySelectorAll('input, select, button');
      for (let i = 0; i < controls.length; i++) {
        const el = controls.item(i);
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue; // hidden
        if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`${id}: ${el.getAttribute('name') ?? el.textContent} overflows its panel (${r.left}..${r.right} vs ${box.left}..${box.right})`);
      }
    }
    return problems;
  });
}
