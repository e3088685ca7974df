/**
 * Token refresh: `getToken` is called for the first token, again before each one expires (at
 * most `refreshLeadMs` early), after the gateway says "Token expired", and when you call
 * `refreshToken()` (e.g. your app's session changed). The fresh token is sent with `authenticate`
 * on the same connection: no reconnect, no lost subscriptions.
 *
 *   QX_URL=http://localhost:3001 npx tsx examples/token-refresh.ts
 */
import { QuantEnergxClient } from '@qx/client';

const url = process.env['QX_URL'] ?? 'http://localhost:3001';
const userId = process.env['QX_USER'] ?? 'user-123';
let issued = 0;
const getToken = async (): Promise<string> => {
  issued += 1;
  const res = await fetch(`${url}/api/v1/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  return ((await res.json()) as { token: string }).token;
};

const client = new QuantEnergxClient({ url, userId, getToken, refreshLeadMs: 30_000 });
client.on('authenticated', (a) => console.log('authenticated until', a.expiresAt));
client.on('auth-error', (err) => console.log('auth-error', err.code)); // TOKEN_EXPIRED is handled by the client

await client.connect();
await client.subscribeOrders();
const socketId = client.socket.id;
await client.refreshToken();
console.log('tokens issued:', issued, '- refreshes:', client.stats.tokenRefreshes);
console.log('same connection:', client.socket.id === socketId, '- still subscribed to', client.subscriptions().orders.join(','));
client.close();
