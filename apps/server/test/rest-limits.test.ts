/**
 * REST limits: requests a minute per address and per user (@fastify/rate-limit, the coded 429
 * body), bearer and publish-key failures counted per address without ever refusing a valid
 * credential, and the client address taken behind proxies with proxy-addr semantics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers.js';

test('requests a minute per address: the coded 429 with Retry-After; health and the publish API are not limited', async () => {
  const server = await startServer({ REST_REQUESTS_PER_MINUTE_PER_ADDRESS: '5' });
  try {
    const token = await server.sign('r-addr');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.http('/api/v1/market/commodities', { token })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const body = (await res.json()) as { error: { code: string; message: string } };
    // the wait in the body too (ms), the same as the header's
    const retryAfterMs = Number(res.headers.get('retry-after')) * 1000;
    assert.deepEqual(body, { error: { code: 'RATE_LIMITED', message: 'At most 5 requests a minute from one address', retryAfterMs } });
    assert.equal((await server.http('/health')).status, 200);
    assert.equal((await server.http('/ready')).status, 200);
    assert.equal((await server.publish({ event: 'system-alert', payload: { alertType: 'x', severity: 'info', message: 'm' } })).status, 202);
  } finally {
    await server.close();
  }
});

test('requests a minute per user: one user over the limit does not slow another', async () => {
  const server = await startServer({ REST_REQUESTS_PER_MINUTE_PER_USER: '3' });
  try {
    const busy = await server.sign('r-busy');
    const calm = await server.sign('r-calm');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await server.http('/api/v1/trading/positions', { token: busy })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await server.http('/api/v1/trading/orders', { token: busy });
    const { retryAfterMs, ...error } = limited.body.error as { retryAfterMs: number };
    assert.deepEqual(error, { code: 'RATE_LIMITED', message: 'At most 3 requests a minute per user' });
    assert.ok(retryAfterMs >= 1000 && retryAfterMs <= 60_000, `retryAfterMs ${retryAfterMs}`);
    assert.equal((await server.http('/api/v1/trading/positions', { token: calm })).status, 200);
  } finally {
    await server.close();
  }
});

test('bearer and publish-key failures are counted per address: past the limit slowed, a valid credential still served', async () => {
  const DELAY = 250;
  const server = await startServer({ AUTH_FAILURES_PER_ADDRESS: '3', AUTH_FAILURE_DELAY_MS: String(DELAY) });
  try {
    const codes: string[] = [];
    for (let i = 0; i < 2; i++) codes.push((await server.http('/api/v1/trading/positions', { token: `bad-${i}` })).body.error.code);
    codes.push((await server.publish({ event: 'system-alert', payload: {} }, 'wrong-key')).body.error.code);
    assert.deepEqual(codes, ['INVALID_TOKEN', 'INVALID_TOKEN', 'UNAUTHORIZED']);
    let start = Date.now();
    const limited = await server.http('/api/v1/trading/positions', { token: 'bad-3' });
    assert.ok(Date.now() - start >= DELAY - 20, 'answered late');
    assert.deepEqual([limited.status, limited.body.error.code], [429, 'AUTH_RATE_LIMITED']);
    start = Date.now();
    assert.equal((await server.publish({ event: 'system-alert', payload: {} }, 'wrong-again')).body.error.code, 'AUTH_RATE_LIMITED');
    assert.ok(Date.now() - start >= DELAY - 20, 'answered late');
    // valid credentials from the same address: answered at once
    start = Date.now();
    assert.equal((await server.http('/api/v1/trading/positions', { token: await server.sign('r-valid') })).status, 200);
    assert.equal((await server.publish({ event: 'system-alert', payload: { alertType: 'x', severity: 'info', message: 'm' } })).status, 202);
    assert.ok(Date.now() - start < DELAY, 'valid credentials are not delayed');
  } finally {
    await server.close();
  }
});

test('behind TRUST_PROXY=true the REST limit counts the nearest untrusted address, whatever the client wrote', async () => {
  const server = await startServer({ TRUST_PROXY: 'true', REST_REQUESTS_PER_MINUTE_PER_ADDRESS: '3' });
  try {
    const get = (xff: string) => fetch(`${server.url}/api/v1/openapi.json`, { headers: { 'x-forwarded-for': xff } }).then((r) => r.status);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await get(`10.9.${i}.1, 198.51.100.1`));
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    // another client (as the proxy saw it) is not limited, even when the first one writes its address
    assert.equal(await get('198.51.100.1, 198.51.100.2'), 200);
    assert.equal(await get('198.51.100.2'), 200);
  } finally {
    await server.close();
  }
});
