/**
 * A cluster of two gateways (the engine leader in this process, see backplanes.ts): an operator's
 * disconnect sent while one gateway's Redis connections are cut is not lost to that gateway — once
 * it reconnects, the user's socket there is closed with USER_DISCONNECTED, and only theirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { buildServer, type QxApp } from '../../src/app.js';
import { SecretTokenVerifier } from '../../src/auth/token-verifier.js';
import { DRIVERS, PUBLISH_KEY, SECRET, skipUnlessAvailable, until, type Deployment } from './backplanes.js';

const redis = DRIVERS.find((d) => d.name === 'redis')!;
const skip = await skipUnlessAvailable(redis);
const logger = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

async function gateway(deployment: Deployment, cuttable: boolean): Promise<{ app: QxApp; url: string; cut: () => void; restore: () => void }> {
  const node = (await deployment.addNode({ cuttable, start: false }))!;
  const app = buildServer(deployment.configFor(node), { backplane: node.backplane, logger });
  const { url } = await app.listen(0, '127.0.0.1');
  return { app, url, cut: () => node.proxy?.down(), restore: () => node.proxy?.up() };
}

async function signedIn(url: string, userId: string): Promise<{ socket: Socket; reasons: { code: string }[] }> {
  const token = await new SecretTokenVerifier(SECRET, {}).sign(userId, { roles: [], ttlSeconds: 600 });
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  const reasons: { code: string }[] = [];
  socket.on('disconnect-reason', (r: { code: string }) => reasons.push(r));
  let ok = false;
  socket.once('auth-success', () => (ok = true));
  await until(() => ok, 10_000, `${userId} signed in`);
  return { socket, reasons };
}

test('a disconnect-user sent while a gateway’s Redis connections are cut closes the user’s socket there once it reconnects', { ...skip, timeout: 90_000 }, async (t) => {
  const deployment = await redis.open();
  const open: (() => unknown)[] = [() => deployment.close()];
  // closed in reverse (node:test runs after-hooks in the order they were added)
  t.after(async () => {
    for (const close of open.reverse()) await close();
  });
  const one = await gateway(deployment, false);
  open.push(() => one.app.close());
  const two = await gateway(deployment, true);
  open.push(() => two.app.close());
  const kicked = await signedIn(two.url, 'kick-me');
  const bystander = await signedIn(two.url, 'stay');
  open.push(() => kicked.socket.disconnect(), () => bystander.socket.disconnect());

  two.cut();
  const res = await fetch(`${one.url}/api/v1/users/kick-me/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${PUBLISH_KEY}` } });
  assert.equal(res.status, 202, await res.text());
  // the cut gateway did not hear of it: its socket is still open
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(kicked.socket.connected, true, 'not told while cut off');

  const restoredAt = Date.now();
  two.restore();
  await until(() => !kicked.socket.connected, 20_000, 'the socket on the cut gateway closed after its reconnect');
  t.diagnostic(`closed ${Date.now() - restoredAt} ms after the reconnect could start`);
  assert.deepEqual(kicked.reasons.map((r) => r.code), ['USER_DISCONNECTED']);
  // the same message reached the bystander's gateway: a round trip shows its socket still served
  assert.equal(((await bystander.socket.timeout(3000).emitWithAck('ping')) as { ok: boolean }).ok, true);
  assert.equal(bystander.socket.connected, true, 'another user is untouched');
  assert.deepEqual(bystander.reasons, []);
});
