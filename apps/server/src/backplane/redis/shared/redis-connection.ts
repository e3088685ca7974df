/**
 * Redis connections for the cluster parts (node-redis 5). Every part takes a `RedisSource` — a URL
 * or a client the caller already made — and opens the connections it needs of its own: pub/sub
 * and blocking commands (BLPOP) each need a connection nothing else writes on, so those are always
 * `duplicate()`s. node-redis reconnects by itself and crashes the process on an 'error' event
 * nobody listens to, so every client made here has a listener that logs (once per outage).
 */
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from 'pino';
import { backendErrors } from '../../../metrics.js';

export type Redis = RedisClientType;
/** a `redis://` URL, or a client (connected or not) that the caller owns */
export type RedisSource = string | Redis;

export interface Clock {
  /** epoch milliseconds */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Retry quickly at first, then every 2 s, for ever: a cluster node outlives a Redis restart. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 6), 2000);
}

const CLOSE_TIMEOUT_MS = 1000;

export interface OpenedRedis {
  client: Redis;
  /** closes the client if it was opened here (a caller's client is left alone) */
  release(): Promise<void>;
}

/**
 * Opens `source` for a part named `name`: a URL becomes a new client; a caller's client is used
 * as it is (connected first if it is not); `duplicate` makes a connection of its own either way.
 */
export async function openRedis(source: RedisSource, logger: Logger, name: string, opts: { duplicate?: boolean } = {}): Promise<OpenedRedis> {
  let client: Redis;
  let owned: boolean;
  if (typeof source === 'string') {
    client = createClient({ url: source, name, socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5000 } });
    owned = true;
  } else if (opts.duplicate) {
    client = source.duplicate({ name });
    owned = true;
  } else {
    client = source;
    owned = false;
  }
  if (owned) watchErrors(client, logger.child({ redis: name }));
  if (!client.isOpen) await client.connect();
  return {
    client,
    async release() {
      if (!owned || !client.isOpen) return;
      client.removeAllListeners('ready');
      // close() waits for pending commands, which never finish while Redis is away
      if (!client.isReady) {
        client.destroy();
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)));
      const closed = client.close().then(
        () => 'closed' as const,
        () => 'failed' as const,
      );
      const how = await Promise.race([closed, timeout]);
      clearTimeout(timer);
      if (how !== 'closed' && client.isOpen) client.destroy();
    },
  };
}

/** Logs the first error of each outage, and when the connection is back. */
export function watchErrors(client: Redis, logger: Logger): void {
  let down = false;
  client.on('error', (err: Error) => {
    backendErrors.redis.inc();
    if (down) return;
    down = true;
    logger.warn({ err: err.message }, 'redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('redis connection back');
  });
}

/**
 * Runs a Lua script by SHA1, loading it on NOSCRIPT (a restarted Redis has an empty script cache).
 * Returns the script's raw reply.
 */
export class LuaScript {
  private sha: string | null = null;

  constructor(readonly source: string) {}

  async run(client: Redis, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    if (this.sha !== null) {
      try {
        return await client.sendCommand(['EVALSHA', this.sha, String(keys.length), ...keys, ...args]);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
    }
    this.sha = await client.sendCommand<string>(['SCRIPT', 'LOAD', this.source]);
    return client.sendCommand(['EVALSHA', this.sha, String(keys.length), ...keys, ...args]);
  }
}
