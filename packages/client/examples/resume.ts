/**
 * Nothing lost, nothing doubled: the connection drops, orders change meanwhile, and after the
 * automatic reconnect every `order-update` arrives once and in `seq` order (the client resumes
 * each private stream from its last seq; what the gateway no longer holds in memory is read from
 * `GET /api/v1/events`).
 *
 *   QX_URL=http://localhost:3001 npx tsx examples/resume.ts
 */
import { QuantEnergxClient } from '@qx/client';

const url = process.env['QX_URL'] ?? 'http://localhost:3001';
const userId = process.env['QX_USER'] ?? `resume-${Date.now()}`;
const getToken = async (): Promise<string> => {
  const res = await fetch(`${url}/api/v1/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  return ((await res.json()) as { token: string }).token;
};
const placeOrder = async (price: number): Promise<void> => {
  const res = await fetch(`${url}/api/v1/trading/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await getToken()}` },
    body: JSON.stringify({ commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price }),
  });
  if (res.status !== 201) throw new Error(`order refused: HTTP ${res.status}`);
};

const client = new QuantEnergxClient({ url, userId, getToken, reconnection: { delayMs: 100, delayMaxMs: 1000 } });
const seqs: number[] = [];
client.on('order-update', (e) => seqs.push(e.seq));
client.on('disconnect', (d) => console.log('disconnected:', d.reason, '- reconnecting:', d.willReconnect));
client.on('connect', (c) => console.log('connected; session recovered by Socket.IO:', c.recovered));

await client.connect();
await client.subscribeOrders();
await placeOrder(70);

const wait = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 1500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error('timed out');
};
await wait(() => seqs.length === 1);

client.socket.io.engine.close(); // the network drops (the client reconnects by itself)
await wait(() => !client.connected);
await placeOrder(70.01); // published while this client is away
await placeOrder(70.02);
await wait(() => seqs.length === 3 && client.authenticated);
await placeOrder(70.03);
await wait(() => seqs.length === 4);

console.log('order-update seqs:', seqs.join(','));
console.log('stream positions:', JSON.stringify(client.positions()));
console.log('duplicates dropped:', client.stats.duplicatesDropped, 'events lost:', client.stats.eventsLost);
client.close();
