/**
 * Starts a target on a free port with the gateway's env contract: the two baselines from
 * bench/dist, the gateway from apps/server/dist/main.js (after `npm run build`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkEntry, spawnTracked, stopChild } from '../lib/children.js';
import { freePort } from '../lib/free-port.js';
import { repoRoot } from '../lib/paths.js';
import type { RunningTarget, TargetName } from './target.js';
import { waitListening } from './wait-listening.js';


/**
 * The checkout whose build the bench runs by default: this one, or another built checkout named
 * by `BENCH_SERVER_ROOT` (every scenario then measures that version).
 */
export const serverRoot: string = process.env['BENCH_SERVER_ROOT'] || repoRoot;

/**
 * The gateway's entry point in a checkout: the default one, or another built checkout
 * (`BENCH_BEFORE_ROOT`: an earlier version, measured in the same run as this one).
 */
export function gatewayMain(root: string = serverRoot): string {
  return join(root, 'apps/server/dist/main.js');
}
const HOST = '127.0.0.1';

export function gatewayBuilt(root: string = serverRoot): boolean {
  return existsSync(gatewayMain(root));
}

/** The gateway's env for benchmarking: no simulator, quiet logs, limits out of the way. */
export function gatewayEnv(port: number, jwtSecret: string, publishApiKey: string, dataDir: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST,
    JWT_SECRET: jwtSecret,
    PUBLISH_API_KEY: publishApiKey,
    SIMULATOR: 'off',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    MAX_CONNECTIONS_PER_USER: '100000',
    MAX_EVENTS_PER_SECOND: '1000',
    AUTH_FAILURES_PER_ADDRESS: '1000000',
    MAX_UNAUTHENTICATED_PER_ADDRESS: '1000000',
    REST_REQUESTS_PER_MINUTE_PER_ADDRESS: '10000000',
    REST_REQUESTS_PER_MINUTE_PER_USER: '10000000',
  };
}

export async function startTarget(name: TargetName, extraEnv: Record<string, string> = {}, root: string = serverRoot): Promise<RunningTarget> {
  const port = await freePort(HOST);
  const baseUrl = `http://${HOST}:${port}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const publishApiKey = randomBytes(16).toString('hex');
  let dataDir: string | null = null;

  const child = (() => {
    if (name === 'gateway') {
      if (!gatewayBuilt(root)) throw new Error(`gateway not built: ${gatewayMain(root)} is missing (npm run build)`);
      dataDir = mkdtempSync(join(tmpdir(), 'qx-bench-'));
      // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway
      const nodeArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
      return spawnTracked(process.execPath, [...nodeArgs, gatewayMain(root)], {
        cwd: root,
        env: { ...process.env, ...gatewayEnv(port, jwtSecret, publishApiKey, dataDir), ...extraEnv },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    }
    const entry = name === 'raw-ws' ? 'baselines/raw-ws-server' : 'baselines/plain-socketio-server';
    return forkEntry(entry, { PORT: String(port), HOST, JWT_SECRET: jwtSecret, PUBLISH_API_KEY: publishApiKey, ...extraEnv });
  })();

  const cleanup = (): void => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitListening(child, baseUrl, name);
  } catch (error) {
    await stopChild(child);
    cleanup();
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: no pid`);
  return {
    name,
    baseUrl,
    pid,
    jwtSecret,
    publishApiKey,
    hasOrders: name === 'gateway',
    hasBackpressurePolicy: name === 'gateway',
    stop: async () => {
      await stopChild(child, 5000);
      cleanup();
    },
  };
}
