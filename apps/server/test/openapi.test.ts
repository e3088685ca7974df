/**
 * /api/v1/openapi.json against the routes the server really registered (demo mode: all of them):
 * every route is documented with its method, and every documented operation exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** `/api/v1/orders/:id` → `/api/v1/orders/{id}` */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

test('the OpenAPI document matches the registered routes, both ways', async () => {
  const server = await startServer({ JWT_SECRET: '' });
  try {
    const res = await server.http('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    // HEAD and OPTIONS are Fastify's and CORS's own; the dashboard's page and assets are not API
    const registered = server.app.routes
      .filter((r) => METHODS.includes(r.method.toLowerCase()) && r.url !== '/' && !r.url.startsWith('/assets/') && r.url !== '/api/v1/openapi.json')
      .map((r) => `${r.method.toUpperCase()} ${openApiPath(r.url)}`);
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
    assert.ok(registered.includes('POST /api/v1/publish/batch'));
    assert.deepEqual([...new Set(registered)].sort(), [...new Set(documented)].sort());
  } finally {
    await server.close();
  }
});
