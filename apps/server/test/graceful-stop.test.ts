/**
 * Issue 10 item 2: a graceful stop on SIGTERM. The real process stops accepting, answers the
 * requests in flight, tells every socket `disconnect-reason SHUTDOWN` whatever its transport
 * (WebSocket, HTTP long-polling, polling upgraded to WebSocket), then closes and exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import { PUBLISH_KEY, SECRET, once, sleep, until } from './helpers.js';
import { spawnServer } from './spawn.js';

const SHUTDOWN = { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' };

/**
 * Resolves once the server has read what was sent to it before: a request on another connection is
 * answered after the server's event loop has taken every byte that reached it earlier.
 */
async function serverCaughtUp(url: string): Promise<void> {
  assert.equal((await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })).status, 200);
}

/** Resolves once nothing listens on `port` any more (a connection is refused), polling; rejects after `ms`. */
async function stoppedListening(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const probe = tcpConnect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', () => resolve(true));
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`still listening on ${port} after ${ms} ms`);
    await sleep(20);
  }
}

/** A POST whose body arrives in two halves: `finish()` sends the second; resolves with the answer. */
function slowPost(url: string, path: string, token: string, body: unknown) {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  let finish!: () => void;
  let halfSent!: () => void;
  const sent = new Promise<void>((resolve) => (halfSent = resolve));
  const answered = new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest(
      new URL(path, url),
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${token}` } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as unknown }));
      },
    );
    req.on('error', reject);
    req.write(text.slice(0, half), () => halfSent());
    finish = () => req.end(text.slice(half));
  });
  return { answered, sent, finish: () => finish() };
}

/** One HTTP request on a new TCP connection (as a proxy without upstream keep-alive sends a poll). */
function once1(url: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(url), { method, agent: false, headers: body ? { 'content-type': 'text/plain;charset=UTF-8' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('SIGTERM: a polling client between two polls (each on a new connection) still collects SHUTDOWN', async () => {
  const server = await spawnServer({ JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, DATA_DIR: ':memory:', SHUTDOWN_GRACE_MS: '10000' }, 60_000);
  try {
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const open = await once1(base, 'GET');
    const sid = (JSON.parse(open.text.slice(1)) as { sid: string }).sid;
    const session = `${base}&sid=${sid}`;
    const token = await new SecretTokenVerifier(SECRET).sign('stop-raw-polling', { ttlSeconds: 600 });
    assert.equal((await once1(session, 'POST', `40${JSON.stringify({ token })}`)).text, 'ok');
    let received = '';
    while (!received.includes('"auth-success"')) received += (await once1(session, 'GET')).text;
    // no poll is pending now: the notice must wait for the next one, which comes once the stop has begun
    server.child.kill('SIGTERM');
    await until(() => server.logs.some((l) => l.includes('"msg":"shutting down"')), 10_000, 'the stop to begin');
    const packets: string[] = [];
    while (!packets.some((p) => p.startsWith('42["disconnect-reason"') || p === '1')) {
      const poll = await once1(session, 'GET');
      assert.equal(poll.status, 200, poll.text);
      packets.push(...poll.text.split('\x1e'));
    }
    const notice = packets.find((p) => p.startsWith('42["disconnect-reason"'));
    assert.ok(notice, `no notice before the close: ${packets.join(' ')}`);
    assert.deepEqual(JSON.parse(notice.slice(2)), ['disconnect-reason', SHUTDOWN]);
    assert.equal(await server.exited, 0);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('SIGTERM: polling, upgraded and WebSocket clients are told SHUTDOWN; a request in flight is answered; exit 0', async () => {
  const server = await spawnServer({ JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, DATA_DIR: ':memory:', SHUTDOWN_GRACE_MS: '10000' }, 60_000);
  const signer = new SecretTokenVerifier(SECRET);
  const sockets: Socket[] = [];
  const client = async (userId: string, transports: ('polling' | 'websocket')[]) => {
    const socket = connect(server.url, { transports, reconnection: false, forceNew: true, auth: { token: await signer.sign(userId, { ttlSeconds: 600 }) } });
    sockets.push(socket);
    await once(socket, 'auth-success', 10_000);
    return socket;
  };
  try {
    const ws = await client('stop-ws', ['websocket']);
    const polling = await client('stop-polling', ['polling']);
    const upgraded = await client('stop-upgraded', ['polling', 'websocket']);
    await until(() => upgraded.io.engine.transport.name === 'websocket', 10_000, 'the upgrade');
    assert.equal(polling.io.engine.transport.name, 'polling');
    const reasons = [ws, polling, upgraded].map((s) => once(s, 'disconnect-reason', 15_000));
    const closed = [ws, polling, upgraded].map((s) => once(s, 'disconnect', 15_000));

    const token = await signer.sign('stop-trader', { ttlSeconds: 600 });
    const inFlight = slowPost(server.url, '/api/v1/trading/orders', token, { commodity: 'brent', side: 'buy', type: 'limit', quantity: 1, price: 79.5, clientOrderId: 'in-flight-1' });
    // the headers and the first half are at the server (read before the answer to a later request)
    await inFlight.sent;
    await serverCaughtUp(server.url);

    server.child.kill('SIGTERM');
    for (const reason of reasons) assert.deepEqual(await reason, SHUTDOWN);
    // stopped accepting: a new request is refused (503, or no longer listening), never served
    const late = await fetch(`${server.url}/api/v1/trading/orders`, { headers: { authorization: `Bearer ${token}` } }).then(
      async (res) => ({ status: res.status, body: (await res.json()) as any }),
      () => null,
    );
    if (late !== null) {
      assert.equal(late.status, 503);
      assert.equal(late.body.error.code, 'SERVICE_UNAVAILABLE');
    }
    // the request in flight is still answered, in full
    inFlight.finish();
    const answer = await inFlight.answered;
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.order.status, 'new');
    for (const c of closed) await c;
    assert.equal(await server.exited, 0);
  } finally {
    for (const s of sockets) s.disconnect();
    server.child.kill('SIGKILL');
  }
});

/** A POST on a keep-alive agent: the status and body, or the connection error's code. */
function post(agent: Agent, url: string, path: string, token: string, body: unknown): Promise<{ status: number; body: any } | { error: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = httpRequest(
      new URL(path, url),
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${token}` } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as unknown }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(text);
  });
}

test('SIGTERM under a stream of orders on keep-alive connections: every request is answered 201 or 503, none is cut, every 201 exists after a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-stop-rest-'));
  const env = { JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: '10000' };
  const signer = new SecretTokenVerifier(SECRET);
  let server = await spawnServer(env, 60_000);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const accepted: { orderId: string; token: string }[] = [];
    let signalled = false;
    // 8 desks, each sending its next order as soon as the last is answered, until it is told to go away
    const desk = async (n: number): Promise<string> => {
      const token = await signer.sign(`stop-desk-${n}`, { ttlSeconds: 600 });
      for (let i = 0; i < 10_000; i++) {
        const answer = await post(agent, server.url, '/api/v1/trading/orders', token, { commodity: 'brent', side: i % 2 ? 'sell' : 'buy', type: 'limit', quantity: 1, price: i % 2 ? 90 : 70, clientOrderId: `desk-${n}-${i}` });
        if ('error' in answer) return `${signalled ? 'after' : 'before'} SIGTERM, order ${i}: connection error ${answer.error}`;
        if (answer.status === 201) accepted.push({ orderId: answer.body.order.id as string, token });
        else if (answer.status === 503 && answer.body.error?.code === 'SERVICE_UNAVAILABLE') return 'SERVICE_UNAVAILABLE';
        else return `order ${i}: ${answer.status} ${JSON.stringify(answer.body)}`;
      }
      return 'never told';
    };
    let ended = 0;
    const desks = Array.from({ length: 8 }, (_, n) => desk(n).finally(() => ended++));
    await until(() => accepted.length >= 200 || ended > 0, 30_000, '200 orders accepted');
    if (ended > 0) assert.fail(`a desk stopped before the SIGTERM: ${await Promise.race(desks)}`);
    signalled = true;
    server.child.kill('SIGTERM');
    const ends = await Promise.all(desks);
    // each desk's last answer is the coded refusal: no order was left without an answer
    assert.deepEqual(ends, ends.map(() => 'SERVICE_UNAVAILABLE'));
    assert.equal(await server.exited, 0);
    agent.destroy();

    server = await spawnServer(env, 60_000);
    const missing: string[] = [];
    for (const { orderId, token } of accepted) {
      const res = await fetch(`${server.url}/api/v1/trading/orders/${orderId}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) missing.push(`${orderId}: ${res.status}`);
    }
    assert.deepEqual(missing, [], `of ${accepted.length} orders answered 201`);
  } finally {
    agent.destroy();
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM with a polling POST half-sent, then handshake retries on the same keep-alive connection: the process still exits 0 within 5 s', async () => {
  const server = await spawnServer({ JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, DATA_DIR: ':memory:', SHUTDOWN_GRACE_MS: '10000' }, 60_000);
  // one connection, reused for every request, as a browser's polling transport does
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let exited = false;
  void server.exited.then(() => (exited = true));
  const send = (method: 'GET' | 'POST', url: string, body?: string) => {
    let finish = () => undefined as void;
    let firstByteSent = () => undefined as void;
    const sent = new Promise<void>((resolve) => (firstByteSent = resolve));
    const answered = new Promise<{ status: number | string; text: string }>((resolve) => {
      const req = httpRequest(new URL(url), { method, agent, headers: body ? { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', text: '' }));
      if (body === undefined) req.end();
      else {
        req.write(body.slice(0, 1), () => firstByteSent());
        finish = () => void req.end(body.slice(1));
      }
    });
    return { answered, sent, finish: () => finish() };
  };
  try {
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const open = await send('GET', base).answered;
    const sid = (JSON.parse(open.text.slice(1)) as { sid: string }).sid;
    // a POST whose body is still arriving when the server stops: the request is in flight
    const post = send('POST', `${base}&sid=${sid}`, '40');
    await post.sent;
    await serverCaughtUp(server.url);
    const stoppedAt = Date.now();
    server.child.kill('SIGTERM');
    // the stop closes the sessions, then stops listening: only then does the body's rest arrive
    await stoppedListening(server.port, 10_000);
    post.finish();
    await post.answered; // answered or cut: the server may have closed the session under it
    // then the client retries its handshake on the same connection until it is turned away
    const retries: (number | string)[] = [];
    while (!exited && retries.length < 200) {
      retries.push((await send('GET', base).answered).status);
      await sleep(50);
    }
    assert.equal(await server.exited, 0, `the stop was forced; retries ${retries.join(',')}`);
    const took = Date.now() - stoppedAt;
    assert.ok(took < 5000, `the process took ${took} ms to exit (grace 10 s)`);
  } finally {
    agent.destroy();
    server.child.kill('SIGKILL');
  }
});
