/**
 * The trading screen (apps/dashboard, built by Vite) at `/`: index.html at `/`, its hashed
 * bundles under `/assets/`. Nothing else is claimed, so `/api`, `/socket.io`, `/health`,
 * `/ready` and `/metrics` keep their own routes and unknown paths keep the JSON 404. When the
 * dashboard has not been built, `/` says how to build it.
 *
 * A Fastify plugin (default export), so app.ts registers it with `http.register(import(...))`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** apps/dashboard/dist, from this file in apps/server/src/http/routes (tsx) or apps/server/dist/http/routes. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../../dashboard/dist/', import.meta.url));

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QuantEnergx Realtime</title></head>
<body style="font:14px system-ui,sans-serif;background:#0b0e13;color:#d6dde8;padding:40px">
<h1 style="font-size:18px">QuantEnergx Realtime</h1>
<p>The gateway is running, but the dashboard has not been built.</p>
<p>Run <code>npm run build</code> (or <code>npm run build -w @qx/dashboard</code>) and reload.</p>
<p>API: <code>/api/v1</code> · health: <a style="color:#f0b429" href="/health">/health</a></p>
</body></html>
`;

// the screen talks only to its own origin; nothing inline runs
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface DashboardOptions {
  /** the built dashboard (index.html and assets/); default: apps/dashboard/dist */
  dir?: string;
}

export default async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions = {}): Promise<void> {
  const dir = opts.dir ?? DEFAULT_DASHBOARD_DIR;

  // content-hashed file names: cached for good
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
    // a folder is not a file: the catalogue's 404, not a 403
    allowedPath: (pathname) => !pathname.endsWith('/'),
  });

  // read per request (a few hundred bytes), so a rebuild is picked up without a restart
  app.get('/', async (_request, reply) => {
    let html: string;
    try {
      html = await readFile(join(dir, 'index.html'), 'utf8');
    } catch {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .send(html);
  });
}
