/**
 * The contract suites' harness: the same tests, looped over both backplanes (as colyseus' DRIVERS).
 *
 * - `in-process`: SQLite in a temporary DATA_DIR, the trading core in this process.
 * - `redis`: a redis-server of its own, a fresh PostgreSQL database, an engine node started here
 *   (openEngineParts + buildEngineNode, waited for until it leads) and gateway backplanes on them
 *   (more can be added: two gateways sharing presence, sessions and control). Skipped with a
 *   message when redis-server or PostgreSQL is missing; required when CI=true.
 *
 * Each node's backplane is started with a recording GatewayPort: what `deliver` and `control`
 * were handed, in order. The simulator is off: every event is the test's own.
 */
import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { describeStream, roomOfStream } from '@qx/protocol';
import { parseConfig, type Config } from '../../src/config.js';
import { Metrics } from '../../src/metrics.js';
import type { Backplane, BusEvent, ControlMessage, GatewayPort } from '../../src/backplane/backplane.js';
import { openInProcessBackplane } from '../../src/backplane/in-process/in-process-backplane.js';
import { openRedisBackplane } from '../../src/backplane/redis/gateway/redis-backplane.js';
import { openEngineParts, type EngineParts } from '../../src/backplane/redis/engine/engine-parts.js';
import { buildEngineNode } from '../../src/backplane/redis/engine/engine-server.js';
import type { EngineNode } from '../../src/backplane/redis/engine/engine-node.js';
import { RedisTestServer, redisServerMissing } from '../redis-test-server.js';
import { createTestDatabase, pgUnavailable, PG_ADMIN_URL, type TestDatabase } from '../pg-test-db.js';
import { startTcpProxy, type TcpProxy } from '../cluster/tcp-proxy.js';

export const SECRET = 'contract-secret-that-is-long-enough-0123456789';
export const PUBLISH_KEY = 'contract-publish-key-0123456789';

/** What a backplane handed its gateway, in order. */
export class RecordingPort implements GatewayPort {
  readonly events: BusEvent[] = [];
  readonly controls: ControlMessage[] = [];

  readonly deliver = (events: readonly BusEvent[]): void => {
    for (const e of events) this.events.push(e);
  };

  readonly control = (message: ControlMessage): void => {
    this.controls.push(message);
  };

  /** the events of one stream, in the order delivered */
  of(stream: string): BusEvent[] {
    return this.events.filter((e) => e.stream === stream);
  }

  seqs(stream: string): number[] {
    return this.of(stream).map((e) => e.seq);
  }
}

/** One gateway node: its backplane and what it was handed. */
export interface Node {
  readonly id: string;
  readonly backplane: Backplane;
  readonly port: RecordingPort;
  readonly config: Config;
}

export interface Deployment {
  readonly kind: 'in-process' | 'redis';
  /** the gateway nodes: one in-process (one process is the deployment), as many as opened in a cluster */
  readonly nodes: readonly Node[];
  /**
   * Another gateway node of the same deployment (a cluster), or null (one process has one).
   * `cuttable`: its Redis connections go through a TCP proxy the test can cut. `start: false`:
   * its backplane is not started (for `buildServer` to start with its own gateway).
   */
  addNode(opts?: { cuttable?: boolean; start?: boolean }): Promise<(Node & { proxy: TcpProxy | null }) | null>;
  /** the node's config with `env` on top (for a gateway built on top of the node's backplane) */
  configFor(node: Node, env?: Record<string, string>): Config;
  /**
   * Makes the system of record refuse every commit that writes an event of `stream` (a trigger
   * in the database: the transaction fails as on a constraint violation); resolves with the undo.
   */
  refuse(stream: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface Driver {
  readonly name: 'in-process' | 'redis';
  /** why it cannot run here, or null */
  unavailable(): Promise<string | null>;
  open(opts?: { env?: Record<string, string> }): Promise<Deployment>;
}

const logger: Logger = pino({ level: process.env['TEST_LOG'] ?? 'silent' });

function config(env: Record<string, string>): Config {
  const parsed = parseConfig({ JWT_SECRET: SECRET, PUBLISH_API_KEY: PUBLISH_KEY, SIMULATOR: 'off', LOG_LEVEL: 'silent', HOST: '127.0.0.1', ...env });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

/** Polls `fn` until it holds; throws after `ms`. */
async function waitFor(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const inProcess: Driver = {
  name: 'in-process',
  unavailable: () => Promise.resolve(null),
  async open(opts = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'qx-contract-'));
    const cfg = config({ DATA_DIR: dataDir, ...opts.env });
    const backplane = openInProcessBackplane(cfg, { logger, metrics: new Metrics(), now: Date.now, onFatal: (err) => logger.error({ err }, 'store failed') });
    const port = new RecordingPort();
    try {
      await backplane.start(port);
    } catch (err) {
      await backplane.close();
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    const node: Node = { id: 'in-process', backplane, port, config: cfg };
    const db = backplane.local!.db;
    let triggers = 0;
    return {
      kind: 'in-process',
      nodes: [node],
      addNode: () => Promise.resolve(null),
      configFor: (_node, env = {}) => config({ DATA_DIR: dataDir, ...opts.env, ...env }),
      refuse(stream) {
        const name = `qx_refuse_${++triggers}`;
        db.exec(`CREATE TRIGGER ${name} BEFORE INSERT ON events WHEN NEW.stream = ${sqlString(stream)} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
        return Promise.resolve(() => Promise.resolve(void db.exec(`DROP TRIGGER IF EXISTS ${name}`)));
      },
      async close() {
        await backplane.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const redis: Driver = {
  name: 'redis',
  async unavailable() {
    return redisServerMissing() ?? (await pgUnavailable().then((e) => (e === null ? null : `PostgreSQL not reachable at ${PG_ADMIN_URL}: ${e}`)));
  },
  async open(opts = {}) {
    const missing = await this.unavailable();
    if (missing !== null) throw new Error(`the Redis backplane needs redis-server and PostgreSQL: ${missing}`);
    const cleanups: (() => Promise<unknown>)[] = [];
    const closeAll = async () => {
      for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => logger.warn({ err }, 'contract cleanup failed'));
    };
    try {
      const server = await RedisTestServer.start();
      cleanups.push(() => server.stop());
      const db: TestDatabase = await createTestDatabase();
      cleanups.push(() => db.drop());
      const env = (nodeId: string, redisUrl: string, extra: Record<string, string> = {}) =>
        config({ DATABASE_URL: db.url, REDIS_URL: redisUrl, NODE_ID: nodeId, ROLE: 'gateway', ...opts.env, ...extra });
      // the engine leader, in this process
      const engineConfig = env('engine-1', server.url, { ROLE: 'engine' });
      const parts: EngineParts = await openEngineParts(engineConfig.cluster!, logger);
      cleanups.push(() => parts.close());
      const engine: EngineNode = buildEngineNode(engineConfig, parts, { logger, metrics: new Metrics() });
      cleanups.push(() => engine.close());
      engine.start();
      await waitFor(() => engine.ready, 30_000, 'the engine to lead');

      const nodes: Node[] = [];
      const open = async (cuttable: boolean, start: boolean): Promise<Node & { proxy: TcpProxy | null }> => {
        const id = `gateway-${nodes.length + 1}`;
        let proxy: TcpProxy | null = null;
        if (cuttable) {
          const p = await startTcpProxy(server.port);
          proxy = p;
          cleanups.push(() => p.close());
        }
        const cfg = env(id, proxy ? `redis://127.0.0.1:${proxy.port}` : server.url);
        const backplane = await openRedisBackplane({ config: cfg, logger, metrics: new Metrics() });
        cleanups.push(() => backplane.close());
        const port = new RecordingPort();
        if (start) await backplane.start(port);
        const node = { id, backplane, port, config: cfg, proxy };
        nodes.push(node);
        return node;
      };
      await open(false, true);
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      cleanups.push(() => admin.end());
      let triggers = 0;
      return {
        kind: 'redis',
        nodes,
        addNode: (o = {}) => open(o.cuttable ?? false, o.start ?? true),
        configFor: (node, extra = {}) => env(node.id, node.config.cluster!.redisUrl, extra),
        async refuse(stream) {
          const name = `qx_refuse_${++triggers}`;
          await admin.query(
            `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.stream = ${sqlString(stream)} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER ${name} BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION ${name}();`,
          );
          return async () => void (await admin.query(`DROP TRIGGER IF EXISTS ${name} ON events; DROP FUNCTION IF EXISTS ${name}();`));
        },
        close: closeAll,
      };
    } catch (err) {
      await closeAll();
      throw err;
    }
  },
};

export const DRIVERS: readonly Driver[] = [inProcess, redis];

/** A string literal for SQL (the tests' own stream names). */
function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * Test options for a driver: skipped with the reason when its services are missing, except in CI
 * (CI=true), where it runs and fails saying what is missing.
 */
export async function skipUnlessAvailable(driver: Driver): Promise<{ skip?: string }> {
  const why = await driver.unavailable();
  return why === null || process.env['CI'] === 'true' ? {} : { skip: why };
}

/**
 * One `describe` per driver, sharing one deployment opened before its tests and closed after.
 * A driver whose services are missing is skipped with the reason (in CI it fails instead).
 */
export async function forEachBackplane(title: string, body: (deployment: () => Deployment, driver: Driver) => void, opts: { env?: Record<string, string> } = {}): Promise<void> {
  // every driver's suite registered at once, after the one wait: a suite registered after an await
  // that the first suite outlives is never run under --test-force-exit (and nothing says so)
  const skips = await Promise.all(DRIVERS.map((driver) => skipUnlessAvailable(driver)));
  for (const [i, driver] of DRIVERS.entries()) {
    describe(`${title}: ${driver.name}`, skips[i] ?? {}, () => {
      let deployment: Deployment | null = null;
      before(async () => {
        deployment = await driver.open(opts);
      });
      after(async () => {
        await deployment?.close();
      });
      body(() => {
        if (!deployment) throw new Error(`the ${driver.name} deployment did not open`);
        return deployment;
      }, driver);
    });
  }
}

/** Waits until `predicate` holds (polling), at most `ms`. */
export const until = waitFor;

/** The parsed envelope of a delivered event. */
export function envelopeOf(e: { envelope: string }): { type: string; seq: number; userId?: string; payload: Record<string, unknown> } {
  return JSON.parse(e.envelope) as { type: string; seq: number; userId?: string; payload: Record<string, unknown> };
}

/** Makes `node` receive `streams` (a room joined here) and resolves with where each starts. */
export async function followStreams(node: Node, streams: readonly string[]): Promise<number[]> {
  // a book stream reaches a node through the rooms of its depths
  for (const s of streams) node.backplane.feed.listen(describeStream(s)?.kind === 'book' ? `${s}-10` : roomOfStream(s));
  return Promise.all(streams.map((s) => node.backplane.feed.follow(s)));
}
