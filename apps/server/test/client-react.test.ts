/**
 * The React hook (`@qx/client/react`) in Chromium against a real gateway, bundled from the
 * workspace sources: a token function passed inline (a new function on every render) is a
 * provider, called when a token is needed, not on every render; credentials refused for good end
 * in the hook's `auth-error` state with the SDK's code; a url the client cannot use is an error in
 * the state, not an exception from an effect; the market status of the followed commodities is in
 * the state (a halt shows at once, and that the market does not accept orders).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM, poll, skipWithoutChromium, watchErrors } from './browser.js';
import { startServer } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The page: three components, each with the hook as an application would write it. */
const PAGE = `
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useQuantEnergxWebSocket } from '@qx/client/react';

const params = new URLSearchParams(location.search);
const url = params.get('gateway');
const calls = { live: 0, refused: 0 };
const renders = { live: 0 };
Object.assign(window, { calls, renders });

async function devToken(userId) {
  const res = await fetch(url + '/api/v1/auth/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  return (await res.json()).token;
}

function Live() {
  renders.live++;
  // re-rendered every few ms, as a busy screen is
  const [tick, setTick] = useState(0);
  useEffect(() => { const t = setInterval(() => setTick((n) => n + 1), 5); return () => clearInterval(t); }, []);
  const state = useQuantEnergxWebSocket(url, 'react-inline', () => { calls.live++; return devToken('react-inline'); }, { commodities: ['crude_oil'] });
  const crude = state.marketStatus.crude_oil;
  return <>
    <p id="live">{state.status}:{state.authenticated ? 'yes' : 'no'}:{tick > 0 ? 'ticking' : ''}</p>
    <p id="status">{crude ? crude.status + ':' + crude.reason : 'none'}:{state.acceptsOrders('crude_oil') ? 'accepts' : 'refuses'}</p>
  </>;
}

function Refused() {
  const state = useQuantEnergxWebSocket(url, 'react-refused', () => { calls.refused++; return 'not-a-jwt'; }, { privateStreams: false, commodities: [] });
  return <p id="refused">{state.status}:{state.error ? state.error.code : ''}</p>;
}

function BadUrl() {
  const state = useQuantEnergxWebSocket('not a url', 'react-bad', 'a.b.c');
  return <p id="bad">{state.error ? state.error.code : 'none'}</p>;
}

createRoot(document.getElementById('root')).render(<><Live /><Refused /><BadUrl /></>);
`;

test('the React hook: an inline token function is called when a token is needed, not on every render; refusals are coded states', { skip: skipWithoutChromium }, async (t) => {
  const server = await startServer({ JWT_SECRET: '' }); // demo mode: tokens from the dev sign-in, as the page asks
  t.after(() => server.close());
  const bundled = await build({
    stdin: { contents: PAGE, loader: 'jsx', resolveDir: ROOT },
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    conditions: ['source'],
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const script = bundled.outputFiles[0]!.text;
  const web: Server = createServer((req, res) => {
    if ((req.url ?? '').startsWith('/bundle.js')) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/bundle.js"></script>');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    web.closeAllConnections();
    web.close();
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const { port } = web.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/?gateway=${encodeURIComponent(server.url)}`);
  const text = (id: string) => page.locator(`#${id}`).innerText().catch(() => '');

  await poll('the live hook to be connected', 10_000, async () => (await text('live')).startsWith('connected:yes:ticking'));
  // busy: fifty renders or more (a second's worth on a quiet machine), and still the one token it needed
  const counts = () => page.evaluate(() => {
    const w = globalThis as unknown as { calls: { live: number; refused: number }; renders: { live: number } };
    return { calls: { ...w.calls }, renders: { ...w.renders } };
  });
  const rendersBefore = (await counts()).renders.live;
  await poll('fifty re-renders', 15_000, async () => (await counts()).renders.live - rendersBefore >= 50);
  const { calls, renders } = await counts();
  assert.ok(renders.live - rendersBefore >= 50, `re-rendered ${renders.live - rendersBefore} times`);
  assert.equal(calls.live, 1, `getToken called ${calls.live} times`);
  assert.match(await text('live'), /^connected:yes/);

  // market status: open, then an operator's halt shows at once (and that orders would be refused), then open again
  await poll('the status snapshot', 10_000, async () => (await text('status')).startsWith('open:'));
  assert.match(await text('status'), /:accepts$/);
  const risk = await server.http('/api/v1/auth/dev-token', { method: 'POST', json: { userId: 'react-risk', roles: ['risk'] } });
  const halt = await server.http('/api/v1/admin/market/crude_oil/halt', { method: 'POST', token: risk.body.token, json: { reason: 'Exchange incident' } });
  assert.equal(halt.status, 200, JSON.stringify(halt.body));
  await poll('the halt in the hook', 10_000, async () => (await text('status')) === 'halted:Exchange incident:refuses');
  assert.equal((await server.http('/api/v1/admin/market/crude_oil/reopen', { method: 'POST', token: risk.body.token })).status, 200);
  await poll('reopened in the hook', 10_000, async () => /^open:.*:accepts$/.test(await text('status')));

  // refused for good after one fresh token: a fatal state with the SDK's code
  await poll('the refused hook to say why', 10_000, async () => (await text('refused')) === 'auth-error:INVALID_TOKEN');
  assert.equal((await counts()).calls.refused, 2);
  // a url the client cannot use: an error in the state, and the rest of the page lives on
  assert.equal(await text('bad'), 'INVALID_OPTIONS');
  assert.deepEqual(errors, []);
});
