import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';

export interface HealthDeps {
  metrics: Metrics;
  /** false while starting or shutting down, or when the store cannot be read */
  ready: () => boolean;
  /** what this node is (role, node id, engine leadership), shown by /health */
  info?: (() => Record<string, unknown> | undefined) | undefined;
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/health', () => ({ status: 'ok', ...deps.info?.() }));
  app.get('/ready', (_request, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' })));
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
