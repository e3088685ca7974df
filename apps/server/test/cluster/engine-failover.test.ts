/**
 * Cluster test 3: kill -9 the engine leader in the middle of an order flood. The standby leads
 * and accepts orders again; every order answered 201 exists afterwards with its fills; every order answered 503
 * never executed later; each user's order stream is numbered 1..N with no gap and no duplicate;
 * order ids are never reused; a clientOrderId retry returns the original order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, until } from '../helpers.js';
import { startCluster, type Cluster } from './cluster.js';

interface Sent {
  clientOrderId: string;
  userId: string;
  status: number;
  orderId?: string;
  sentAt: number;
  answeredAt: number;
}

async function readStream(cluster: Cluster, url: string, token: string, stream: string): Promise<any[]> {
  const events: any[] = [];
  let after = 0;
  for (;;) {
    const page = await cluster.http(url, `/api/v1/events?stream=${stream}&after=${after}&limit=1000`, { token });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    events.push(...page.body.events);
    if (!page.body.hasMore) return events;
    after = page.body.events.at(-1).seq;
  }
}

test('cluster: kill -9 of the engine leader mid-flood loses no 201 order, and the standby takes over', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster(t, { gateways: 2, engines: 2 });
  if (!cluster) return;
  const first = await cluster.leader();
  const users = ['alice', 'bob'];
  const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await cluster.sign(u)] as const)));
  const sent: Sent[] = [];
  let n = 0;
  let stop = false;
  t.after(() => {
    stop = true; // a failed assertion must not leave the load running (the test file would never exit)
  });
  // two traders crossing at one price through both gateways: resting sells, filling buys
  const trader = async (userId: string, side: 'buy' | 'sell', gateway: number) => {
    while (!stop) {
      const clientOrderId = `${userId}-${n++}`;
      const url = cluster.gateways[gateway % cluster.gateways.length]!.url;
      gateway++;
      const sentAt = Date.now();
      const res = await cluster
        .http(url, '/api/v1/trading/orders', {
          method: 'POST',
          token: tokens[userId]!,
          json: { commodity: 'power', side, type: 'limit', quantity: 1, price: 60, timeInForce: 'gtc', clientOrderId },
        })
        .catch(() => ({ status: 0, body: null }));
      sent.push({ clientOrderId, userId, status: res.status, orderId: res.body?.order?.id, sentAt, answeredAt: Date.now() });
      if (res.status !== 201) await sleep(20);
    }
  };
  const flood = [trader('alice', 'sell', 0), trader('bob', 'buy', 1), trader('alice', 'sell', 1), trader('bob', 'buy', 0)];
  // kill once the flood is flowing (a count, not a time: the machine may be slow)
  const flowing = Date.now();
  while (sent.filter((s) => s.status === 201).length < 20 && Date.now() - flowing < 60_000) await sleep(50);
  const before = sent.filter((s) => s.status === 201).length;
  assert.ok(before >= 20, `orders flowed before the kill (${before})`);
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  const second = await cluster.leader(10_000);
  assert.notEqual(second.name, first.name);
  let firstAfter: Sent | undefined;
  // the first order sent after the kill that was accepted (answers already on their way do not count)
  while (!(firstAfter = sent.find((s) => s.status === 201 && s.sentAt > killedAt)) && Date.now() - killedAt < 30_000) await sleep(20);
  assert.ok(firstAfter, 'orders are accepted again');
  const failoverMs = firstAfter.answeredAt - killedAt;
  t.diagnostic(`engine fail-over: first 201 ${failoverMs} ms after kill -9`);
  // the 5 s goal is measured by the fail-over benchmark (docs/benchmarks.md) on a quiet machine; here,
  // on a shared CI machine, the bound only catches a take-over that does not happen in time at all
  assert.ok(failoverMs < 15_000, `first order accepted ${failoverMs} ms after the kill`);
  // the flood goes on under the new leader for a while (a count, not a time)
  const resumedAt = firstAfter.answeredAt;
  const acceptedAfter = () => sent.filter((s) => s.status === 201 && s.sentAt > resumedAt).length;
  await until(() => acceptedAfter() >= 20, 30_000, 'orders accepted under the new leader');
  stop = true;
  await Promise.all(flood);

  const accepted = sent.filter((s) => s.status === 201);
  const refused = sent.filter((s) => s.status !== 201);
  assert.ok(refused.every((s) => s.status === 503 || s.status === 0), `only 503s while no engine led: ${JSON.stringify(refused.filter((s) => s.status !== 503 && s.status !== 0).slice(0, 3))}`);
  t.diagnostic(`${accepted.length} orders answered 201, ${refused.length} answered 503 during the fail-over`);

  // every 201 order exists, under its id, with its clientOrderId, through either gateway
  const gw = cluster.gateways[1]!.url;
  const all = new Map<string, any>();
  for (const userId of users) {
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await cluster.http(gw, `/api/v1/trading/orders?limit=500${cursor ? `&before=${cursor}` : ''}`, { token: tokens[userId]! });
      assert.equal(page.status, 200);
      for (const o of page.body.orders) {
        assert.ok(!all.has(o.id), `order id ${o.id} used twice`);
        all.set(o.id, o);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
  }
  for (const s of accepted) {
    const o = all.get(s.orderId!);
    assert.ok(o, `201 order ${s.orderId} (${s.clientOrderId}) exists`);
    assert.equal(o.clientOrderId, s.clientOrderId);
  }
  // a 503 order was not executed later: if it exists at all it was created before its 503 answer
  const byClientId = new Map([...all.values()].map((o) => [o.clientOrderId as string, o]));
  for (const s of refused) {
    const o = byClientId.get(s.clientOrderId);
    if (o) assert.ok(Date.parse(o.createdAt) <= s.answeredAt, `order ${s.clientOrderId} answered ${s.status} executed later`);
  }
  // fills: every filled quantity has its trades
  for (const userId of users) {
    const trades: any[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await cluster.http(gw, `/api/v1/trading/trades?limit=500${cursor ? `&before=${cursor}` : ''}`, { token: tokens[userId]! });
      trades.push(...page.body.trades);
      cursor = page.body.nextCursor;
    } while (cursor);
    const filled = [...all.values()].filter((o) => o.userId === userId).reduce((sum, o) => sum + (o.filledQuantity as number), 0);
    const traded = trades.reduce((sum, tr) => sum + (tr.quantity as number), 0);
    assert.equal(traded, filled, `${userId}: trades add up to the filled quantity`);
    // the order stream: 1..N, no gap, no duplicate
    const events = await readStream(cluster, gw, tokens[userId]!, `orders-${userId}`);
    const seqs = events.map((e) => e.seq as number);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), `${userId}: order stream numbered without gap or duplicate`);
    t.diagnostic(`${userId}: ${seqs.length} order events, ${trades.length} trades checked`);
  }
  // a retry by clientOrderId after the fail-over returns the original
  const original = accepted.find((s) => s.answeredAt < killedAt)!;
  const retry = await cluster.http(cluster.gateways[0]!.url, '/api/v1/trading/orders', {
    method: 'POST',
    token: tokens[original.userId]!,
    json: { commodity: 'power', side: original.userId === 'alice' ? 'sell' : 'buy', type: 'limit', quantity: 1, price: 60, timeInForce: 'gtc', clientOrderId: original.clientOrderId },
  });
  assert.equal(retry.status, 201);
  assert.equal(retry.body.order.id, original.orderId);
});
