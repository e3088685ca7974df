/**
 * The TypeScript SDK never gives up silently (issue 19): a gateway restart with a new key is
 * survived with one fresh token; every wait is bounded (reconnection giving up, a malformed URL,
 * requests waiting for authentication, the caller's AbortSignal); close() ends what is in flight
 * at once; order calls are idempotent by clientOrderId across a timeout and a retry (flatten too);
 * errors have one shape (codes, fields, retry-after) whatever the input. Real gateways on port 0;
 * a "slow network" is the real fetch with its answers held back, so the gateway does the work and
 * the client does not hear of it in time. Order calls travel over REST while the client is not
 * connected (a connected one sends them over the socket: client-sdk-trading.test.ts), so the
 * clients here that are about slow REST answers do not connect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { QuantEnergxClient, QuantEnergxError, type FetchLike, type OrderRequestBody, type QuantEnergxClientOptions } from '@qx/client';
import { startServer, until, type TestServer } from './helpers.js';

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves with what `promise` rejected with, and how long that took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: QuantEnergxError; ms: number }> {
  const start = Date.now();
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof QuantEnergxError, `a QuantEnergxError, not ${String(err)}`);
    return { error: err, ms: Date.now() - start };
  }
  throw new Error('expected a rejection');
}

/**
 * The real fetch, with the answers to the first `slow` calls that `match` held back `delayMs` (or
 * until the call is aborted): the request reaches the gateway, its answer comes too late.
 */
function slowNetwork(match: (url: string, method: string) => boolean, slow: number, delayMs: number) {
  const calls: { url: string; method: string; body: string | undefined }[] = [];
  let left = slow;
  const fetchFn: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET';
    calls.push({ url, method, body: init?.body });
    const held = match(url, method) && left-- > 0;
    const res = await fetch(url, { ...init, signal: held ? null : (init?.signal ?? null) });
    if (held) {
      await new Promise<void>((resolve, reject) => {
        const signal = init?.signal;
        if (signal?.aborted) return reject(signal.reason as Error);
        const timer = setTimeout(resolve, delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
    }
    return res;
  };
  return { fetchFn, calls };
}

function sdk(server: TestServer, userId: string, opts: Partial<QuantEnergxClientOptions> = {}): QuantEnergxClient {
  return new QuantEnergxClient({
    url: server.url,
    userId,
    getToken: () => server.sign(userId),
    reconnection: { delayMs: 50, delayMaxMs: 200 },
    requestTimeoutMs: 3000,
    ...opts,
  });
}

test('a gateway restart with a new key: one fresh token from getToken and the client is back; a token refused again ends it, saying why', async (t) => {
  // demo mode: each start signs with a new random key, so the token held before the restart is refused after it
  let server = await startServer({ JWT_SECRET: '', RECOVERY_WINDOW_MS: '0' });
  const port = server.port;
  t.after(() => server.close());
  let tokensIssued = 0;
  const client = new QuantEnergxClient({
    url: server.url,
    userId: 'restart-user',
    getToken: async () => {
      tokensIssued++;
      const res = await server.http('/api/v1/auth/dev-token', { method: 'POST', json: { userId: 'restart-user' } });
      return (res.body as { token: string }).token;
    },
    reconnection: { delayMs: 50, delayMaxMs: 200 },
    requestTimeoutMs: 3000,
  });
  t.after(() => client.close());
  const authErrors: string[] = [];
  const failures: QuantEnergxError[] = [];
  client.on('auth-error', (e) => authErrors.push(e.code));
  client.on('failed', (e) => failures.push(e));
  await client.connect();
  await client.subscribeOrders();
  assert.equal(tokensIssued, 1);

  await server.close();
  server = await startServer({ JWT_SECRET: '', RECOVERY_WINDOW_MS: '0' }, { port });
  await until(() => client.authenticated, 10_000, 'the client to be back, authenticated');
  assert.deepEqual(authErrors, ['INVALID_TOKEN']);
  assert.equal(tokensIssued, 2);
  assert.ok((await client.ping()).timestamp > 0);
  assert.deepEqual(client.subscriptions().orders, ['restart-user']);
  // an order placed now arrives on the restored subscription
  const updates: string[] = [];
  client.on('order-update', (e) => updates.push(e.payload.status));
  const placed = await client.placeOrder({ commodity: 'crude_oil', side: 'buy', type: 'limit', price: 70, quantity: 1 });
  assert.equal(placed.status, 'new');
  await until(() => updates.length === 1, 3000, 'the order-update');
  assert.deepEqual(failures, []);

  // a getToken that only ever has a refused token: one fresh try, then the client stops and says why
  for (const authMode of ['handshake', 'event'] as const) {
    let asked = 0;
    const refused = new QuantEnergxClient({ url: server.url, userId: 'u1', getToken: () => (asked++, 'not-a-jwt'), authMode, reconnection: { delayMs: 50 } });
    const { error } = await rejection(refused.connect());
    assert.equal(error.code, 'INVALID_TOKEN', authMode);
    assert.match(error.message, /refused again with a fresh token/);
    assert.equal(asked, 2, `${authMode}: the token, then one fresh one`);
    // later requests say why too, not "Call connect() first"
    const { error: again } = await rejection(refused.ping());
    assert.deepEqual([again.code, again.event], ['INVALID_TOKEN', 'ping']);
    // connect() called again after giving up is a new attempt: it may ask getToken for a fresh token again
    const { error: retried } = await rejection(refused.connect());
    assert.equal(retried.code, 'INVALID_TOKEN', authMode);
    assert.equal(asked, 3, `${authMode}: the token held is refused again, then a new connect() asks for one fresh token (2 without it)`);
    refused.close();
  }
});

test('every wait is bounded: reconnection giving up, a malformed URL, requests waiting for authentication, connect timeouts and AbortSignals', async () => {
  const url = `http://127.0.0.1:${await deadPort()}`;
  const options = { url, userId: 'u1', token: 'a.b.c', requestTimeoutMs: 1000, reconnection: { delayMs: 50, delayMaxMs: 100, jitter: 0 } };

  // socket.io gives up after its attempts: connect() rejects, and so does what follows
  const giving = new QuantEnergxClient({ ...options, reconnection: { ...options.reconnection, attempts: 2 } });
  const failed = new Promise<QuantEnergxError>((resolve) => giving.once('failed', resolve));
  const gaveUp = await rejection(giving.connect());
  assert.equal(gaveUp.error.code, 'CONNECT_FAILED');
  assert.match(gaveUp.error.message, /Could not reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(3 attempts\)/);
  assert.ok(gaveUp.ms < 5000, `gave up after ${gaveUp.ms} ms`);
  assert.equal((await failed).code, 'CONNECT_FAILED');
  assert.equal((await rejection(giving.ping())).error.code, 'CONNECT_FAILED');
  giving.close();

  // a URL that cannot be connected to is refused at once
  for (const bad of ['ht!tp://x', 'localhost 3001', '', 'ftp://host']) {
    assert.throws(() => new QuantEnergxClient({ ...options, url: bad }), (e: unknown) => e instanceof QuantEnergxError && e.code === 'INVALID_OPTIONS' && e.field === 'url');
  }

  // the gateway stays down: a request waits for authentication no longer than its time limit
  const waiting = new QuantEnergxClient(options);
  const connecting = rejection(waiting.connect({ timeoutMs: 2500 }));
  const ping = await rejection(waiting.ping());
  assert.equal(ping.error.code, 'REQUEST_TIMEOUT');
  assert.match(ping.error.message, /ping: not connected .*within 1000 ms/);
  assert.ok(ping.ms >= 950 && ping.ms < 1800, `ping settled after ${ping.ms} ms`);
  // the caller's signal ends a request sooner
  const aborted = await rejection(waiting.subscribeMarket('crude_oil', { signal: AbortSignal.timeout(100) }));
  assert.deepEqual([aborted.error.code, aborted.error.event], ['ABORTED', 'subscribe-market']);
  assert.ok(aborted.ms < 600, `aborted after ${aborted.ms} ms`);
  // connect() settles at its own limit, and the client stops trying
  const timedOut = await connecting;
  assert.equal(timedOut.error.code, 'REQUEST_TIMEOUT');
  assert.match(timedOut.error.message, /connect: not authenticated within 2500 ms/);
  assert.equal(waiting.socket.active, false);
  assert.equal((await rejection(waiting.ping())).error.code, 'NOT_CONNECTED');
  const controller = new AbortController();
  const abortedConnect = rejection(waiting.connect({ signal: controller.signal }));
  controller.abort();
  assert.equal((await abortedConnect).error.code, 'ABORTED');
  waiting.close();
});

test('close() ends what is in flight at once: socket requests and order calls', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const net = slowNetwork((url) => url.includes('/trading/orders'), 10, 4000);
  const client = sdk(server, 'closer', { fetch: net.fetchFn, requestTimeoutMs: 5000 });
  // placed before connecting: over REST, whose answer is held back
  const placing = rejection(client.placeOrder({ commodity: 'crude_oil', side: 'buy', type: 'limit', price: 70, quantity: 1 }));
  await until(() => net.calls.some((c) => c.method === 'POST'), 3000, 'the order sent');
  await client.connect();
  // close() right after the ping is written to the socket, before its answer can come back
  client.socket.onAnyOutgoing((event) => {
    if (event === 'ping') queueMicrotask(() => client.close());
  });
  const pinging = rejection(client.ping());
  for (const [what, { error, ms }] of [['ping', await pinging], ['placeOrder', await placing]] as const) {
    assert.equal(error.code, 'CLIENT_CLOSED', what);
    assert.ok(ms < 1000, `${what}: ${error.message} after ${ms} ms`);
  }
});

test('order calls over a slow network: REQUEST_TIMEOUT, and a retry with the same clientOrderId never trades twice (place, flatten, cancel)', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const token = await server.sign('maker');
  const place = async (userId: string, order: Record<string, unknown>) =>
    (await server.http('/api/v1/trading/orders', { method: 'POST', token: userId === 'maker' ? token : await server.sign(userId), json: order })).body.order;
  const myOrders = async () => (await server.http('/api/v1/trading/orders', { token: await server.sign('slow') })).body.orders as { id: string; clientOrderId: string }[];

  // no retries: the time limit is a REQUEST_TIMEOUT (not "HTTP_ERROR ... aborted due to timeout")
  const once = slowNetwork((url, method) => method === 'PATCH' && url.includes('/trading/orders/'), 1, 2000);
  const strict = sdk(server, 'slow', { fetch: once.fetchFn, requestTimeoutMs: 500, orderRetries: 0 });
  t.after(() => strict.close());
  const resting = await strict.placeOrder({ commodity: 'brent', side: 'buy', type: 'limit', price: 78, quantity: 10 });
  assert.match(resting.clientOrderId ?? '', /^qx-[0-9a-f]{24}$/, 'a clientOrderId was generated');
  const timedOut = await rejection(strict.amendOrder(resting.id, { quantity: 5 }));
  assert.equal(timedOut.error.code, 'REQUEST_TIMEOUT');
  assert.match(timedOut.error.message, /PATCH \/api\/v1\/trading\/orders\/ord-\d+: no answer within 500 ms/);

  // the first answer is lost: the order is placed once, and the retry answers it
  const net = slowNetwork((url, method) => method === 'POST', 1, 2000);
  const client = sdk(server, 'slow', { fetch: net.fetchFn, requestTimeoutMs: 500 });
  t.after(() => client.close());
  const body: OrderRequestBody = { commodity: 'crude_oil', side: 'buy', type: 'limit', price: 70, quantity: 3 };
  const placed = await client.placeOrder(body);
  const posts = net.calls.filter((c) => c.method === 'POST');
  assert.equal(posts.length, 2, 'sent again after the timeout');
  assert.equal(posts[0]?.body, posts[1]?.body, 'with the same clientOrderId');
  assert.equal(placed.clientOrderId, (JSON.parse(posts[0]!.body!) as { clientOrderId: string }).clientOrderId);
  assert.deepEqual((await myOrders()).filter((o) => o.clientOrderId === placed.clientOrderId).map((o) => o.id), [placed.id]);

  // flatten: the first answer is lost after it filled; the retry finds the position flat and still answers that order
  await place('maker', { commodity: 'gasoline', side: 'sell', type: 'limit', price: 2.5, quantity: 20 });
  await client.placeOrder({ commodity: 'gasoline', side: 'buy', type: 'market', quantity: 20 }).catch(() => undefined);
  await place('maker', { commodity: 'gasoline', side: 'buy', type: 'limit', price: 2.4, quantity: 20 });
  const flatNet = slowNetwork((url) => url.endsWith('/flatten'), 1, 2000);
  const flattener = sdk(server, 'slow', { fetch: flatNet.fetchFn, requestTimeoutMs: 500 });
  t.after(() => flattener.close());
  const flat = await flattener.flatten('gasoline');
  assert.deepEqual([flat.side, flat.quantity, flat.status], ['sell', 20, 'filled']);
  assert.equal(flatNet.calls.filter((c) => c.url.endsWith('/flatten')).length, 2);
  const flattens = (await myOrders()).filter((o) => o.clientOrderId === flat.clientOrderId);
  assert.deepEqual(flattens.map((o) => o.id), [flat.id], 'one flatten order, not two');
  const positions = (await server.http('/api/v1/trading/positions', { token: await server.sign('slow') })).body.positions as { commodity: string; netQuantity: number }[];
  assert.equal(positions.find((p) => p.commodity === 'gasoline')?.netQuantity, 0);

  // cancel: the first answer is lost; the retry's "no longer open" is the cancel asked for
  const cancelNet = slowNetwork((url, method) => method === 'DELETE', 1, 2000);
  const canceller = sdk(server, 'slow', { fetch: cancelNet.fetchFn, requestTimeoutMs: 500 });
  t.after(() => canceller.close());
  const cancelled = await canceller.cancelOrder(placed.id);
  assert.deepEqual([cancelled.id, cancelled.status, cancelNet.calls.filter((c) => c.method === 'DELETE').length], [placed.id, 'cancelled', 2]);
  // a cancel refused on its first attempt is still refused
  assert.equal((await rejection(canceller.cancelOrder(placed.id))).error.code, 'ORDER_NOT_CANCELLABLE');
});

test('errors have one shape: codes with their field, QuantEnergxErrors for bad input, the wait of RATE_LIMITED, and the token is the application\'s too', async (t) => {
  const server = await startServer({ MAX_EVENTS_PER_SECOND: '5' });
  t.after(() => server.close());
  const client = sdk(server, 'shape');
  t.after(() => client.close());
  await client.connect();

  for (const [what, call, field] of [
    ['subscribeMarket', () => client.subscribeMarket(['crude_oil', 'unobtainium']), 'commodities'],
    ['subscribeMarket (one)', () => client.subscribeMarket('unobtainium'), 'commodities'],
    ['subscribeTrades', () => client.subscribeTrades(['unobtainium']), 'commodities'],
    ['subscribeBook', () => client.subscribeBook('unobtainium'), 'commodity'],
  ] as const) {
    const { error } = await rejection(call());
    assert.deepEqual([error.code, error.field], ['UNKNOWN_COMMODITY', field], what);
  }
  await until(() => client.authenticated, 3000, 'a token for the rate limiter to refill');
  await new Promise((r) => setTimeout(r, 1100));

  // untyped JavaScript: coded rejections, never a TypeError
  const untyped = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [method, args, code] of [
    ['subscribeMarket', [42], 'INVALID_PAYLOAD'],
    ['subscribeTrades', [{ commodity: 'crude_oil' }], 'INVALID_PAYLOAD'],
    ['subscribeBook', [null], 'INVALID_PAYLOAD'],
    ['subscribeOrders', [7], 'INVALID_PAYLOAD'],
    ['placeOrder', ['crude_oil'], 'INVALID_ORDER'],
    ['cancelOrder', [undefined], 'INVALID_PAYLOAD'],
  ] as const) {
    const { error } = await rejection(untyped[method]!.apply(client, [...args]));
    assert.equal(error.code, code, `${method}(${JSON.stringify(args)})`);
  }
  assert.throws(
    () => new QuantEnergxClient({ url: server.url, userId: 'u1' }),
    (e: unknown) => e instanceof QuantEnergxError && e.code === 'TOKEN_UNAVAILABLE',
  );
  // a getToken that fails: TOKEN_UNAVAILABLE with the cause
  const broken = new QuantEnergxClient({ url: server.url, userId: 'u1', getToken: () => Promise.reject(new Error('identity service down')) });
  const { error: unavailable } = await rejection(broken.connect());
  assert.equal(unavailable.code, 'TOKEN_UNAVAILABLE');
  assert.match(unavailable.message, /identity service down/);
  broken.close();

  // RATE_LIMITED says when to come back
  const answers = await Promise.allSettled(Array.from({ length: 12 }, () => client.ping()));
  const limited = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as QuantEnergxError] : []));
  assert.ok(limited.length > 0, 'some pings were refused');
  for (const e of limited) {
    assert.equal(e.code, 'RATE_LIMITED');
    assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs >= 1 && e.retryAfterMs <= 200, `retryAfterMs ${e.retryAfterMs}`);
  }

  // the token the client holds, for the application's own REST calls
  const token = await client.accessToken();
  assert.equal((await server.http('/api/v1/trading/positions', { token })).status, 200);
});
