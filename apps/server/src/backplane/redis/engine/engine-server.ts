/**
 * ROLE=engine: the trading core and the simulated market, leader or standby, with HTTP for
 * `/health` (role, node id, leader, term), `/ready` (200 only while leading and restored) and
 * `/metrics`. Built like the gateway: `buildEngineServer` returns something to listen and close.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from '../../../config.js';
import { Metrics } from '../../../metrics.js';
import { internalEndpoints, type InternalEndpoints } from '../../../http/internal-endpoints.js';
import { installErrorHandlers } from '../../../http/errors.js';
import { EngineNode } from './engine-node.js';
import type { EngineParts } from './engine-parts.js';

export interface EngineApp {
  readonly config: Config;
  readonly http: FastifyInstance;
  readonly node: EngineNode;
  readonly logger: Logger;
  /** /metrics, /health and /ready: on the public port, or on ADMIN_PORT when it is set */
  readonly internal: InternalEndpoints;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

/** The engine node alone (also run inside a ROLE=all cluster node, beside the gateway). */
export function buildEngineNode(config: Config, parts: EngineParts, deps: { logger: Logger; metrics: Metrics; now?: () => number }): EngineNode {
  const node = new EngineNode({
    config,
    cluster: parts.cluster,
    store: parts.store,
    leadership: parts.leadership,
    bus: parts.bus,
    redis: parts.redis,
    commands: parts.commands,
    metrics: deps.metrics,
    logger: deps.logger.child({ part: 'engine' }),
    now: deps.now ?? Date.now,
  });
  deps.metrics.trackEngine(() => node.leader);
  return node;
}

export function buildEngineServer(config: Config, parts: EngineParts, deps: { logger?: Logger; now?: () => number } = {}): EngineApp {
  const logger = deps.logger ?? pino({ level: config.logLevel, base: { service: 'quantenergx-realtime', role: 'engine' } });
  const metrics = new Metrics();
  const node = buildEngineNode(config, parts, { logger, metrics, ...(deps.now ? { now: deps.now } : {}) });
  const http = Fastify({
    loggerInstance: logger.child({ part: 'http' }, { level: logger.levelVal > 40 ? logger.level : 'warn' }),
  }) as unknown as FastifyInstance;
  installErrorHandlers(http, metrics);
  const internal = internalEndpoints(http, config, {
    metrics,
    logger,
    ready: () => node.ready,
    info: () => ({ role: 'engine', nodeId: parts.cluster.nodeId, leader: node.leader, term: node.term }),
  });
  let closed = false;
  return {
    config,
    http,
    node,
    logger,
    internal,
    async listen(port = config.port, host = config.host) {
      await internal.listen();
      node.start();
      await http.listen({ port, host });
      const address = http.server.address() as AddressInfo;
      logger.info({ port: address.port, host, role: 'engine', nodeId: parts.cluster.nodeId }, 'listening');
      return { port: address.port, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}` };
    },
    async close() {
      if (closed) return;
      closed = true;
      await node.close();
      await http.close();
      await internal.close();
      await parts.close();
    },
  };
}
