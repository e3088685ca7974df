/**
 * The internal endpoints: `/metrics`, `/health` and `/ready`. Without ADMIN_PORT they are routes of
 * the public server, as they always were. With it they are served only by a listener of their own
 * on ADMIN_HOST:ADMIN_PORT (as Centrifugo's internal port) — where Prometheus and an orchestrator's
 * probes reach them and the internet does not — and the public port answers them 404.
 *
 * What the node says of itself in them is also a metric: its readiness (`qx_ready`); what its
 * deployment adds (an engine's leadership, the data folder's free space) the backplane registers.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { installErrorHandlers } from './errors.js';
import { healthRoutes, type HealthDeps } from './routes/health.js';

export interface InternalEndpoints {
  /** where the admin listener answers once listening (null without ADMIN_PORT, or before listen) */
  readonly url: string | null;
  /** starts the admin listener (nothing to do without ADMIN_PORT) */
  listen(): Promise<void>;
  close(): Promise<void>;
}

export function internalEndpoints(
  publicHttp: FastifyInstance,
  config: Pick<Config, 'admin' | 'role'>,
  deps: HealthDeps & { logger: Logger },
): InternalEndpoints {
  deps.metrics.trackReadiness(config.role, deps.ready);
  const admin = config.admin;
  if (!admin) {
    healthRoutes(publicHttp, deps);
    return { url: null, listen: () => Promise.resolve(), close: () => Promise.resolve() };
  }
  const logger = deps.logger.child({ part: 'admin' });
  const http = Fastify({ loggerInstance: logger.child({}, { level: logger.levelVal > 40 ? logger.level : 'warn' }) }) as unknown as FastifyInstance;
  installErrorHandlers(http, deps.metrics);
  healthRoutes(http, deps);
  let url: string | null = null;
  return {
    get url() {
      return url;
    },
    async listen() {
      await http.listen({ port: admin.port, host: admin.host });
      const { port } = http.server.address() as AddressInfo;
      const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host;
      url = `http://${host}:${port}`;
      logger.info({ port, host: admin.host }, 'internal endpoints listening (/metrics, /health, /ready)');
    },
    async close() {
      await http.close();
    },
  };
}
