/**
 * Connect with a token provider, follow market data and your own orders, place an order and watch
 * its `order-update` arrive.
 *
 *   QX_URL=http://localhost:3001 npx tsx examples/quickstart.ts
 *
 * Tokens come from the demo server's dev sign-in (`npm start` without JWT_SECRET); in production,
 * `getToken` asks your own identity service.
 */
import { QuantEnergxClient, type Envelope } from '@qx/client';

const url = process.env['QX_URL'] ?? 'http://localhost:3001';
const userId = process.env['QX_USER'] ?? 'user-123';

async function getToken(): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/dev-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  if (!res.ok) throw new Error(`dev-token: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

const client = new QuantEnergxClient({ url, userId, getToken });
client.on('market-update', (e) => console.log('market', e.payload.commodity, e.payload.price));
const firstOrder = new Promise<Envelope<'order-update'>>((resolve) => client.once('order-update', resolve));
const firstMarket = new Promise<Envelope<'market-update'>>((resolve) => client.once('market-update', resolve));

const auth = await client.connect(); // resolves once authenticated
console.log('authenticated as', auth.userId);
await client.subscribeMarket(['crude_oil', 'natural_gas']);
await client.subscribeTradingUpdates(); // join-trading + subscribe-orders

// idempotent: a clientOrderId is generated, and a retry after a timeout answers the same order
const order = await client.placeOrder({ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 10, price: 70 });
console.log('order placed:', order.id, order.status, order.clientOrderId);
const update = await firstOrder;
console.log('order-update', update.seq, update.payload.status, update.payload.remainingQuantity);
// the order changed crude_oil's best bid, so its market data is published (if it was not yet)
await firstMarket;
const crude = client.market.get('crude_oil');
console.log('crude_oil last price', crude?.price, 'best bid', crude?.bid);
client.close();
