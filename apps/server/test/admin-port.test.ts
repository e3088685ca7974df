/**
 * ADMIN_PORT: /metrics, /health and /ready served on a listener of their own (ADMIN_HOST,
 * 127.0.0.1 by default) and not on the public port, where the API and Socket.IO stay; without it,
 * everything on the public port as before. (The gateway and engine roles: deploy.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { connected, readMetric, startServer } from './helpers.js';
import { runProcess, describeRun } from './run-process.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('ADMIN_PORT set: the internal endpoints answer there (on 127.0.0.1), the public port answers them 404 and keeps the API and Socket.IO', async () => {
  const server = await startServer({ ADMIN_PORT: '0' });
  try {
    const admin = server.app.internal.url;
    assert.ok(admin, 'the admin listener is up');
    assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(admin).port, String(server.port));

    for (const path of ['/metrics', '/health', '/ready']) {
      const res = await server.http(path);
      assert.equal(res.status, 404, `public ${path}`);
      assert.equal(res.body.error.code, 'NOT_FOUND');
    }
    assert.deepEqual(await (await fetch(`${admin}/health`)).json(), { status: 'ok' });
    const ready = await fetch(`${admin}/ready`);
    assert.equal(ready.status, 200);
    const metrics = await fetch(`${admin}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);

    // the public side is unchanged: a socket connects and authenticates, REST answers
    const socket = await server.authed('admin-port-user');
    await connected(socket);
    const token = await server.sign('admin-port-user');
    assert.equal((await server.http('/api/v1/market/commodities', { token })).status, 200);
    assert.equal(readMetric(await (await fetch(`${admin}/metrics`)).text(), 'qx_authenticated_sockets'), 1, 'the admin /metrics counts the public sockets');
    // and the admin side serves nothing else
    const api = await fetch(`${admin}/api/v1/market/commodities`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(api.status, 404);
    assert.equal((await fetch(`${admin}/socket.io/?EIO=4&transport=polling`)).status, 404);
  } finally {
    await server.close();
  }
});

test('ADMIN_PORT unset: /metrics, /health and /ready stay on the public port, no other listener', async () => {
  const server = await startServer();
  try {
    assert.equal(server.app.internal.url, null);
    for (const path of ['/metrics', '/health', '/ready']) assert.equal((await server.http(path)).status, 200, path);
  } finally {
    await server.close();
  }
});

test('--check-config shows the admin listener; ADMIN_PORT equal to PORT is refused (exit 2, naming it)', async () => {
  const run = (env: Record<string, string>) =>
    runProcess(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/server/src/main.ts', '--check-config'], {
      cwd: ROOT,
      env: { JWT_SECRET: 'x'.repeat(32), PUBLISH_API_KEY: 'k'.repeat(16), ...env },
      timeoutMs: 30_000,
    });
  const [ok, same] = await Promise.all([run({ PORT: '8080', ADMIN_PORT: '9464' }), run({ PORT: '8080', ADMIN_PORT: '8080' })]);
  assert.equal(ok.code, 0, describeRun('--check-config', ok));
  assert.match(ok.output, /"admin": \{\s+"port": 9464,\s+"host": "127\.0\.0\.1"\s+\}/);
  assert.equal(same.code, 2, describeRun('--check-config', same));
  assert.match(same.output, /ADMIN_PORT: must differ from PORT \(both 8080\)/);
});
