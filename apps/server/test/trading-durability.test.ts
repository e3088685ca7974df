/**
 * Orders, trades and positions survive a restart and a kill -9: every order that was answered
 * 201 is there afterwards, with its fills; open orders are back in the book with their priority.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';
import { SECRET } from './helpers.js';
import { spawnServer, type SpawnedServer } from './spawn.js';

const signer = new SecretTokenVerifier(SECRET);
const env = (dataDir: string) => ({ JWT_SECRET: SECRET, DATA_DIR: dataDir, PUBLISH_API_KEY: 'durability-key-0123456789' });

async function call(server: SpawnedServer, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function allOrders(server: SpawnedServer, token: string): Promise<any[]> {
  const orders: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await call(server, token, 'GET', `/api/v1/trading/orders?limit=500${cursor ? `&before=${cursor}` : ''}`);
    assert.equal(page.status, 200);
    orders.push(...page.body.orders);
    cursor = page.body.nextCursor;
  } while (cursor);
  return orders;
}

test('a restart restores open orders in the book, positions and id counters', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-restart-'));
  try {
    const alice = await signer.sign('alice', { ttlSeconds: 600 });
    const bob = await signer.sign('bob', { ttlSeconds: 600 });
    let server = await spawnServer(env(dataDir));
    const first = await call(server, alice, 'POST', '/api/v1/trading/orders', { commodity: 'brent', side: 'sell', type: 'limit', quantity: 300, price: 80 });
    const second = await call(server, alice, 'POST', '/api/v1/trading/orders', { commodity: 'brent', side: 'sell', type: 'limit', quantity: 200, price: 80 });
    const fill = await call(server, bob, 'POST', '/api/v1/trading/orders', { commodity: 'brent', side: 'buy', type: 'limit', quantity: 100, price: 80 });
    assert.equal(fill.body.order.status, 'filled');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, 'graceful stop');

    server = await spawnServer(env(dataDir));
    try {
      const book = await call(server, bob, 'GET', '/api/v1/market/brent/book?depth=5');
      assert.deepEqual(book.body.asks, [{ price: 80, quantity: 400, orders: 2 }]);
      const positions = await call(server, bob, 'GET', '/api/v1/trading/positions');
      assert.deepEqual(positions.body.positions.map((p: any) => [p.commodity, p.netQuantity]), [['brent', 100]]);
      // time priority survived: the first resting order fills first
      const more = await call(server, bob, 'POST', '/api/v1/trading/orders', { commodity: 'brent', side: 'buy', type: 'limit', quantity: 250, price: 80 });
      assert.equal(more.body.order.status, 'filled');
      const a1 = await call(server, alice, 'GET', `/api/v1/trading/orders/${first.body.order.id}`);
      const a2 = await call(server, alice, 'GET', `/api/v1/trading/orders/${second.body.order.id}`);
      assert.equal(a1.body.order.status, 'filled');
      assert.equal(a2.body.order.filledQuantity, 50);
      assert.notEqual(more.body.order.id, fill.body.order.id, 'order ids do not restart');
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('kill -9 in the middle of an order flood loses no order that got a 201', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-kill9-'));
  try {
    const users = ['u1', 'u2'];
    const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await signer.sign(u, { ttlSeconds: 600 })] as const)));
    let server = await spawnServer(env(dataDir));
    const accepted = new Map<string, { userId: string; id: string }>();
    let sent = 0;
    let killed = false;
    const worker = async (w: number) => {
      for (let i = 0; i < 200 && !killed; i++) {
        const userId = users[(w + i) % 2]!;
        const side = (w + i) % 2 === 0 ? 'buy' : 'sell';
        sent++;
        try {
          const res = await call(server, tokens[userId]!, 'POST', '/api/v1/trading/orders', {
            commodity: 'crude_oil', side, type: 'limit', quantity: 10, price: 75, clientOrderId: `w${w}-${i}`,
          });
          if (res.status === 201) accepted.set(res.body.order.id, { userId, id: res.body.order.id });
        } catch {
          return; // the server is gone
        }
        if (accepted.size >= 150 && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));
    await server.exited;
    assert.ok(killed, 'the server was killed mid-flood');
    assert.ok(accepted.size >= 150);

    server = await spawnServer(env(dataDir));
    try {
      let trades = 0;
      for (const userId of users) {
        const orders = await allOrders(server, tokens[userId]!);
        const ids = new Set(orders.map((o) => o.id));
        for (const a of accepted.values()) if (a.userId === userId) assert.ok(ids.has(a.id), `order ${a.id} of ${userId} survived`);
        const filled = orders.filter((o) => o.filledQuantity > 0);
        const userTrades = (await call(server, tokens[userId]!, 'GET', '/api/v1/trading/trades?limit=500')).body.trades as any[];
        trades += userTrades.length;
        const tradedQty = userTrades.reduce((s, t) => s + t.quantity, 0);
        const filledQty = filled.reduce((s, o) => s + o.filledQuantity, 0);
        assert.equal(tradedQty, filledQty, `${userId}: fills and trades agree`);
        const position = (await call(server, tokens[userId]!, 'GET', '/api/v1/trading/positions')).body.positions.find((p: any) => p.commodity === 'crude_oil');
        const net = userTrades.reduce((s, t) => s + (t.side === 'buy' ? t.quantity : -t.quantity), 0);
        assert.equal(position?.netQuantity ?? 0, net, `${userId}: position equals the sum of fills`);
      }
      assert.ok(trades > 0, 'the flood traded');
      void sent;
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
