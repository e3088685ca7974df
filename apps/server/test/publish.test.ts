/**
 * `POST /api/v1/publish`: back-end services send every data event of the protocol to its rooms,
 * authenticated with PUBLISH_API_KEY and validated like everything else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PUBLISH_KEY, complianceAlert, marketSeq, marketUpdate, orderUpdate, startServer, systemAlert, tradeUpdate, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startServer({ MAX_PAYLOAD_BYTES: '1024', PUBLISH_MAX_PAYLOAD_BYTES: '4096' });
});
after(() => server.close());

test('each data event is accepted: 202 {event, stream, seq}', async () => {
  const systemBefore = server.app.publisher.lastSeq('system');
  const cases: [unknown, unknown][] = [
    [marketUpdate('power', 50), { event: 'market-update', stream: 'market-power', seq: marketSeq(server, 'power') + 1 }],
    [tradeUpdate('p-user'), { event: 'trade-update', stream: 'trading-p-user', seq: 1 }],
    [orderUpdate('p-user'), { event: 'order-update', stream: 'orders-p-user', seq: 1 }],
    [orderUpdate('p-user'), { event: 'order-update', stream: 'orders-p-user', seq: 2 }],
    [complianceAlert('p-user'), { event: 'compliance-alert', stream: 'compliance-p-user', seq: 1 }],
    [systemAlert(), { event: 'system-alert', stream: 'system', seq: systemBefore + 1 }],
  ];
  for (const [body, expected] of cases) assert.deepEqual(await server.publish(body), { status: 202, body: expected });
  // userId may be left out of the request when the payload has it
  const { userId: _omit, ...noTopLevelUser } = orderUpdate('p-user');
  assert.deepEqual((await server.publish(noTopLevelUser)).body, { event: 'order-update', stream: 'orders-p-user', seq: 3 });
});

test('a wrong or missing key is 401', async () => {
  const crude = marketSeq(server, 'crude_oil');
  for (const key of ['', 'wrong', `${PUBLISH_KEY}x`, PUBLISH_KEY.slice(1)]) {
    const res = await server.publish(marketUpdate(), key);
    assert.equal(res.status, 401, key);
    assert.equal(res.body.error.code, 'UNAUTHORIZED');
  }
  const none = await server.http('/api/v1/publish', { method: 'POST', json: marketUpdate() });
  assert.deepEqual([none.status, none.body.error.code], [401, 'UNAUTHORIZED']);
  const basic = await server.http('/api/v1/publish', { method: 'POST', json: marketUpdate(), headers: { authorization: `Basic ${PUBLISH_KEY}` } });
  assert.equal(basic.status, 401);
  assert.equal(marketSeq(server, 'crude_oil'), crude);
});

test('bad input is 400 with error.field naming the field at fault', async () => {
  const m = marketUpdate();
  const cases: [unknown, string, string][] = [
    [{ payload: m.payload }, 'INVALID_PAYLOAD', 'event'],
    [{ event: 'market-crash', payload: m.payload }, 'INVALID_PAYLOAD', 'event'],
    [{ event: 'pong', payload: {} }, 'INVALID_PAYLOAD', 'event'],
    [{ event: 'market-update', payload: { ...m.payload, price: -1 } }, 'INVALID_PAYLOAD', 'payload.price'],
    [{ event: 'market-update', payload: { ...m.payload, price: '75' } }, 'INVALID_PAYLOAD', 'payload.price'],
    [{ event: 'market-update', payload: { ...m.payload, commodity: undefined } }, 'INVALID_PAYLOAD', 'payload.commodity'],
    [{ event: 'market-update' }, 'INVALID_PAYLOAD', 'payload'],
    [{ event: 'market-update', payload: 'x' }, 'INVALID_PAYLOAD', 'payload'],
    [{ ...orderUpdate('u1'), payload: { ...orderUpdate('u1').payload, status: 'exploded' } }, 'INVALID_PAYLOAD', 'payload.status'],
    [{ ...orderUpdate('u1'), userId: 'u2' }, 'INVALID_PAYLOAD', 'userId'],
    [{ ...orderUpdate('u1'), userId: 'bad user id!' }, 'INVALID_PAYLOAD', 'userId'],
    [{ ...tradeUpdate('u1'), payload: { ...tradeUpdate('u1').payload, side: 'hold' } }, 'INVALID_PAYLOAD', 'payload.side'],
    [{ ...tradeUpdate('u1'), payload: { ...tradeUpdate('u1').payload, executionTime: 'yesterday' } }, 'INVALID_PAYLOAD', 'payload.executionTime'],
    [{ ...complianceAlert('u1'), payload: { ...complianceAlert('u1').payload, type: 'OTHER' } }, 'INVALID_PAYLOAD', 'payload.type'],
    [{ ...systemAlert(), payload: { ...systemAlert().payload, severity: 'apocalyptic' } }, 'INVALID_PAYLOAD', 'payload.severity'],
    [{ ...m, extra: 1 }, 'INVALID_PAYLOAD', 'extra'],
    [{ ...m, payload: { ...m.payload, extra: 1 } }, 'INVALID_PAYLOAD', 'payload.extra'],
    [marketUpdate('gold'), 'UNKNOWN_COMMODITY', 'payload.commodity'],
    [{ ...tradeUpdate('u1'), payload: { ...tradeUpdate('u1').payload, commodity: 'gold' } }, 'UNKNOWN_COMMODITY', 'payload.commodity'],
    [{ ...systemAlert(), payload: { ...systemAlert().payload, affectedCommodities: ['crude_oil', 'unobtainium'] } }, 'UNKNOWN_COMMODITY', 'payload.affectedCommodities'],
  ];
  for (const [body, code, field] of cases) {
    const res = await server.publish(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.code, code, JSON.stringify(body));
    assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    assert.equal(typeof res.body.error.message, 'string');
  }
  assert.equal(server.app.publisher.lastSeq('orders-u1'), 0);
  assert.equal(server.app.publisher.lastSeq('trading-u1'), 0);
});

test('non-JSON, empty and oversize bodies get a coded 4xx', async () => {
  const auth = { authorization: `Bearer ${PUBLISH_KEY}` };
  const cases: [{ body: string; headers: Record<string, string> }, number, string][] = [
    [{ body: '{"event":', headers: { ...auth, 'content-type': 'application/json' } }, 400, 'INVALID_PAYLOAD'],
    [{ body: '', headers: { ...auth, 'content-type': 'application/json' } }, 400, 'INVALID_PAYLOAD'],
    [{ body: 'event=market-update', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [{ body: 'hello', headers: { ...auth, 'content-type': 'text/plain' } }, 400, 'INVALID_PAYLOAD'],
    [{ body: '{"__proto__":{"x":1},"event":"market-update"}', headers: { ...auth, 'content-type': 'application/json' } }, 400, 'INVALID_PAYLOAD'],
    [{ body: JSON.stringify({ ...systemAlert(), pad: 'x'.repeat(5000) }), headers: { ...auth, 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE'],
  ];
  for (const [init, status, code] of cases) {
    const res = await server.http('/api/v1/publish', { method: 'POST', ...init });
    assert.equal(res.status, status, init.body.slice(0, 40));
    assert.equal(res.body.error.code, code);
    assert.equal(typeof res.body.error.message, 'string');
  }
});
