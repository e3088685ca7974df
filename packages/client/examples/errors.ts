/**
 * Coded errors: every request returns a promise that rejects with a `QuantEnergxError` whose
 * `code` comes from the gateway's catalogue (or the client's own: REQUEST_TIMEOUT, CLIENT_CLOSED...).
 *
 *   QX_URL=http://localhost:3001 npx tsx examples/errors.ts
 */
import { QuantEnergxClient, QuantEnergxError } from '@qx/client';

const url = process.env['QX_URL'] ?? 'http://localhost:3001';
const userId = process.env['QX_USER'] ?? 'user-123';
const getToken = async (): Promise<string> => {
  const res = await fetch(`${url}/api/v1/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  return ((await res.json()) as { token: string }).token;
};

const client = new QuantEnergxClient({ url, userId, getToken });
// every request-error the gateway sends is also an event (handy for logging)
client.on('request-error', (err) => console.log('request-error event:', err.code, err.event));
await client.connect();

async function attempt(what: string, request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
    console.log(what, 'ok');
  } catch (err) {
    if (!(err instanceof QuantEnergxError)) throw err;
    switch (err.code) {
      case 'UNKNOWN_COMMODITY':
      case 'FORBIDDEN':
        console.log(what, 'refused:', err.code, `(field ${err.field ?? '-'}):`, err.message);
        break;
      default:
        throw err;
    }
  }
}

await attempt('subscribe unobtainium', () => client.subscribeMarket(['unobtainium']));
await attempt("subscribe to someone else's orders", () => client.subscribeOrders('another-user'));
await attempt('subscribe crude_oil', () => client.subscribeMarket('crude_oil'));
client.close();
// a closed client rejects at once
await client.ping().catch((err: QuantEnergxError) => console.log('after close:', err.code));

// credentials the gateway refuses end connect() with the auth error
const refused = new QuantEnergxClient({ url, userId, token: 'not-a-jwt', reconnection: { attempts: 0 } });
await refused.connect().catch((err: QuantEnergxError) => console.log('bad token:', err.code));
refused.close();
