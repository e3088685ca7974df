/**
 * Entry point: the only place that reads process.env and the command line, and listens. Bad
 * configuration stops the process with every problem listed; SIGTERM/SIGINT close it gracefully.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { buildServer } from './app.js';
import { parseConfig, type Config } from './config.js';
import { StartupError } from './startup-error.js';
import { openEngineParts } from './backplane/redis/engine/engine-parts.js';
import { openRedisBackplane } from './backplane/redis/gateway/redis-backplane.js';
import { buildEngineNode, buildEngineServer } from './backplane/redis/engine/engine-server.js';
import { Metrics } from './metrics.js';
import { maskRedisUrl } from './backplane/redis/shared/redis-url.js';
import { tracingSettings } from './tracing/settings.js';
import { setUpTracing } from './tracing/setup.js';

const USAGE = `Usage: node apps/server/dist/main.js [--check-config] [--help]

Starts the QuantEnergx Realtime server. Every setting is an environment variable (see the
README's configuration table).

Options:
  --check-config  validate the environment, print the effective configuration (secrets masked)
                  and any warnings, then exit (0: valid, 2: invalid)
  -h, --help      print this help and exit
`;

let args: { help?: boolean; 'check-config'?: boolean };
try {
  args = parseArgs({ options: { help: { type: 'boolean', short: 'h' }, 'check-config': { type: 'boolean' } }, strict: true }).values;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const parsed = parseConfig(process.env, (path) => readFileSync(path, 'utf8'), () => `${hostname()}-${process.pid}`);
const traces = tracingSettings(process.env);
if (!parsed.ok || 'errors' in traces) {
  const errors = [...(parsed.ok ? [] : parsed.errors), ...('errors' in traces ? traces.errors : [])];
  process.stderr.write(`Invalid configuration:\n${errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(2);
}
const config = parsed.config;
if (args['check-config']) {
  // validate and show the effective configuration (secrets masked) and the warnings a start prints, then stop
  const shown = JSON.parse(JSON.stringify(config)) as { auth: Record<string, unknown>; publishApiKey?: string; cluster: Record<string, string> | null };
  if (shown.auth['secret']) shown.auth['secret'] = '***';
  if (shown.cluster) {
    shown.cluster['databaseUrl'] = maskPassword(shown.cluster['databaseUrl'] ?? '');
    shown.cluster['redisUrl'] = maskRedisUrl(shown.cluster['redisUrl'] ?? '');
  }
  if (shown.publishApiKey) shown.publishApiKey = '***';
  for (const warning of parsed.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\nconfiguration ok\n`);
  process.exit(0);
}
/** What main runs: a single process, a cluster gateway (or gateway + engine), or a cluster engine. */
interface Runnable {
  readonly logger: Logger;
  readonly publishApiKey?: string;
  listen(): Promise<unknown>;
  close(): Promise<void>;
}

/** Cluster mode: connect to PostgreSQL and Redis first (a message naming which one fails), then build the role. */
async function buildCluster(config: Config, onFatal: () => void): Promise<Runnable> {
  const cluster = config.cluster!;
  const logger = pino({ level: config.logLevel, base: { service: 'quantenergx-realtime', role: config.role, nodeId: cluster.nodeId } });
  const opened = async <T>(what: string, open: () => Promise<T>): Promise<T> => {
    try {
      return await open();
    } catch (err) {
      throw new StartupError('DATABASE_URL / REDIS_URL', `${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  if (config.role === 'engine') {
    const parts = await opened('cannot reach PostgreSQL or Redis', () => openEngineParts(cluster, logger));
    return buildEngineServer(config, parts, { logger });
  }
  // one registry: the engine's metrics (ROLE=all) and the gateway's on the same /metrics
  const metrics = new Metrics();
  if (config.role === 'gateway') {
    const backplane = await opened('cannot reach PostgreSQL or Redis', () => openRedisBackplane({ config, logger, metrics }));
    return buildServer(config, { logger, backplane, metrics, onFatal });
  }
  // ROLE=all in a cluster: a gateway and an engine (leader or standby) in one process
  const engineParts = await opened('cannot reach PostgreSQL or Redis', () => openEngineParts(cluster, logger));
  const engine = buildEngineNode(config, engineParts, { logger, metrics });
  let backplane;
  try {
    backplane = await opened('cannot reach PostgreSQL or Redis', () => openRedisBackplane({ config, logger, metrics, engine }));
  } catch (err) {
    await engineParts.close();
    throw err;
  }
  const gateway = buildServer(config, { logger, backplane, metrics, onFatal });
  return {
    logger,
    publishApiKey: gateway.publishApiKey,
    async listen() {
      engine.start();
      return gateway.listen();
    },
    async close() {
      await gateway.close();
      await engine.close();
      await engineParts.close();
    },
  };
}

// if the store cannot be written, stop: a restart restores a state that matches it
let app: Runnable;
try {
  app = config.cluster ? await buildCluster(config, () => void stop('store failure', 1)) : buildServer(config, { onFatal: () => void stop('store failure', 1) });
} catch (err) {
  // the operator's problem (a data folder in use, unwritable, full; a database out of reach): one line naming the setting
  if (!(err instanceof StartupError)) throw err;
  process.stderr.write(`Cannot start: ${err.message}\n`);
  process.exit(1);
}

for (const warning of parsed.warnings) app.logger.warn(warning);
// OpenTelemetry traces, when an OTLP endpoint is set (nothing of it is loaded otherwise)
const stopTracing = await setUpTracing(traces, { nodeId: config.nodeId, role: config.role, logger: app.logger });
if (!config.publishApiKey && app.publishApiKey) app.logger.warn({ publishApiKey: app.publishApiKey }, 'the random PUBLISH_API_KEY of this run');

let stopping = false;
async function stop(signal: string, exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownGraceMs + 1000);
  force.unref();
  try {
    await app.close();
    await stopTracing?.();
    process.exit(exitCode);
  } catch (err) {
    app.logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('uncaughtException', (err) => {
  app.logger.fatal({ err }, 'uncaught exception');
  void stop('uncaughtException', 1);
});
process.on('unhandledRejection', (err) => {
  app.logger.error({ err }, 'unhandled rejection');
});

try {
  await app.listen();
} catch (err) {
  app.logger.fatal({ err }, 'could not listen');
  process.exit(1);
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db` */
function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '***';
  }
}
