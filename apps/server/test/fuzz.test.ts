/**
 * Fuzzing with fast-check: thousands of generated bad inputs at every client event (with and
 * without an ack, before and after authentication) and at every REST endpoint. Every one gets a
 * coded answer, nothing is dropped, and the process stays up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ErrorCode } from '@qx/protocol';
import type { Socket } from 'socket.io-client';
import { ANSWER_EVENTS, PUBLISH_KEY, connected, marketUpdate, request, startServer, until, type TestServer } from './helpers.js';

const CODES = new Set(Object.keys(ErrorCode));
const CLIENT_EVENTS = [
  'authenticate',
  'join-trading',
  'leave-trading',
  'subscribe-market',
  'unsubscribe-market',
  'subscribe-orders',
  'unsubscribe-orders',
  'subscribe-compliance',
  'unsubscribe-compliance',
  'ping',
  'resume',
];
const ANSWERS = ANSWER_EVENTS;

function nest(depth: number, leaf: unknown, asObject: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/** Bad inputs of every kind; each stays under Engine.IO's hard frame limit (1 MB). */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, '', ' ', '0', 'null', '[]', '{}'),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 2000, maxLength: 20_000 }),
  fc.array(fc.string({ maxLength: 12 }), { maxLength: 40 }),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => (i % 2 ? 'crude_oil' : i))),
  fc.tuple(fc.integer({ min: 1, max: 2500 }), fc.boolean()).map(([d, o]) => nest(d, 'crude_oil', o)),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"admin":true,"roles":["admin"]}}') as unknown,
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as unknown,
    JSON.parse('{"__proto__":"x","userId":"u","token":"t"}') as unknown,
    JSON.parse('{"orders-fz":1,"__proto__":{"toString":1}}') as unknown,
    JSON.parse('["__proto__","constructor","prototype"]') as unknown,
  ),
  fc.record({ userId: fc.anything(), token: fc.anything() }),
  fc.record({ userId: fc.string({ maxLength: 300 }), token: fc.string({ maxLength: 300 }) }),
  fc.dictionary(fc.string({ maxLength: 30 }), fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })), { maxKeys: 40 }),
  fc.uint8Array({ maxLength: 3000 }),
  fc.anything({ maxDepth: 4, withBigInt: false, withMap: false, withSet: false, withTypedArray: true, withNullPrototype: true }),
);

function isCodedAck(ack: any): boolean {
  if (ack === null || typeof ack !== 'object') return false;
  if (ack.ok === true) return true;
  return ack.ok === false && CODES.has(ack.error?.code) && typeof ack.error?.message === 'string' && ack.error.message.length > 0;
}

let server: TestServer;
let demo: TestServer;
before(async () => {
  const limits = {
    MAX_EVENTS_PER_SECOND: '100000',
    AUTH_FAILURES_PER_SOCKET: '1000',
    AUTH_FAILURES_PER_ADDRESS: '10000000',
    MAX_PAYLOAD_BYTES: '8192',
    MAX_SUBSCRIPTIONS_PER_SOCKET: '10000',
    MAX_CONNECTIONS_PER_USER: '1000',
  };
  server = await startServer(limits);
  demo = await startServer({ ...limits, JWT_SECRET: '' });
});
after(async () => {
  await server.close();
  await demo.close();
});

async function fuzzSocket(socket: Socket, runs: number): Promise<number> {
  let unanswered = 0;
  let answered = 0;
  socket.onAny((event: string) => {
    if (ANSWERS.has(event)) answered++;
  });
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...CLIENT_EVENTS, 'no-such-event', '__proto__', 'constructor', 'toString'), junk, fc.boolean(), async (event, payload, withAck) => {
      if (!socket.connected) throw new Error('socket was disconnected');
      sent++;
      if (withAck) {
        const ack = await request(socket, event, payload);
        assert.ok(isCodedAck(ack), `${event}: ${JSON.stringify(ack)}`);
      } else {
        socket.emit(event, payload);
      }
    }),
    { numRuns: runs },
  );
  await until(() => answered === sent, 10_000, `answers (${answered}/${sent})`).catch(() => (unanswered = sent - answered));
  return unanswered;
}

test('socket events: every generated bad input gets a coded answer, unauthenticated', async () => {
  const socket = server.client();
  await connected(socket);
  assert.equal(await fuzzSocket(socket, 800), 0);
  assert.equal(socket.connected, true);
});

test('socket events: every generated bad input gets a coded answer, authenticated', async () => {
  const socket = await server.authed('fz', { roles: ['trader'] });
  assert.equal(await fuzzSocket(socket, 800), 0);
  assert.equal(socket.connected, true);
  // still works, and nothing leaked into authorization: an unknown user's orders stay forbidden
  assert.equal((await request(socket, 'subscribe-orders', 'fz')).ok, true);
  assert.equal((await request(socket, 'subscribe-orders', 'someone-else')).error.code, 'FORBIDDEN');
  assert.equal(({} as Record<string, unknown>)['admin'], undefined);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/xml',
  'garbage',
);
const body = fc.oneof(
  junk.map((v) => JSON.stringify(v) ?? 'undefined'),
  fc.record({ event: fc.constantFrom('market-update', 'trade-update', 'order-update', 'system-alert', 'compliance-alert', 'x'), payload: junk, userId: fc.option(junk) }).map((v) =>
    JSON.stringify(v),
  ),
  fc.record({ userId: junk, roles: junk }).map((v) => JSON.stringify(v)),
  printable,
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '{"a":1', '[1,2', 'null', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\u0000', '\ufeff{}'),
);

async function expectCoded(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (res.status === 202 || res.status === 200) return;
  assert.ok(res.status >= 400 && res.status < 500, `${what}: HTTP ${res.status} ${text.slice(0, 200)}`);
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    assert.fail(`${what}: not JSON: ${text.slice(0, 200)}`);
  }
  assert.ok(CODES.has(parsed?.error?.code), `${what}: ${text.slice(0, 200)}`);
  assert.equal(typeof parsed.error.message, 'string');
}

test('REST: publish, events and dev-token answer every generated bad input with a coded 4xx', async () => {
  const token = await server.sign('fz-rest');
  await fc.assert(
    fc.asyncProperty(body, contentTypes, fc.constantFrom(`Bearer ${PUBLISH_KEY}`, `Bearer ${PUBLISH_KEY}`, 'Bearer x', ''), async (b, type, auth) => {
      const headers: Record<string, string> = { 'content-type': type };
      if (auth) headers['authorization'] = auth;
      const res = await fetch(`${server.url}/api/v1/publish`, { method: 'POST', headers, body: b });
      await expectCoded(res, `publish ${b.slice(0, 80)}`);
    }),
    { numRuns: 150 },
  );
  const param = fc.oneof(printable, fc.constantFrom('orders-fz-rest', 'system', '-1', '1e400', 'NaN', '0x10', '999999999999999999999', '__proto__'), fc.string({ maxLength: 30 }));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom('stream', 'after', 'limit', '__proto__', 'constructor', 'x', 'stream[]'), param), { maxLength: 5 }),
      fc.constantFrom(`Bearer ${token}`, `Bearer ${token}`, 'Bearer garbage', 'Basic abc', ''),
      async (pairs, auth) => {
        const query = new URLSearchParams(pairs).toString();
        const res = await fetch(`${server.url}/api/v1/events?${query}`, { headers: auth ? { authorization: auth } : {} });
        await expectCoded(res, `events ?${query}`);
      },
    ),
    { numRuns: 150 },
  );
  await fc.assert(
    fc.asyncProperty(body, contentTypes, async (b, type) => {
      const res = await fetch(`${demo.url}/api/v1/auth/dev-token`, { method: 'POST', headers: { 'content-type': type }, body: b });
      await expectCoded(res, `dev-token ${b.slice(0, 80)}`);
    }),
    { numRuns: 150 },
  );
});

test('after all that, both servers still serve: /health, a publish, a sign-in', async () => {
  for (const s of [server, demo]) {
    assert.equal((await s.http('/health')).status, 200);
    assert.equal((await s.publish(marketUpdate())).status, 202);
    const socket = await s.authed('fz-final');
    assert.equal((await request(socket, 'subscribe-market', ['crude_oil'])).ok, true);
  }
  const dev = await demo.http('/api/v1/auth/dev-token', { method: 'POST', json: { userId: 'fz-final', roles: ['trader'] } });
  assert.equal(dev.status, 200);
});
