/**
 * What the Redis parts use of a connection, the same on one Redis and on a Redis Cluster (see
 * redis-connection.ts, which opens one, and single-connection.ts / cluster-connection.ts): per-key
 * commands (`commands`, routed by key on a cluster), scripts whose keys share a slot (`eval`,
 * routed by the first key), sharded pub/sub (`sSubscribe`: Redis 7 has SSUBSCRIBE/SPUBLISH on one
 * node too), the plain connection serving a key (`clientFor`, for CLIENT ID/UNBLOCK and BLPOP), a
 * scan over every master, and one `reconnected` event after an outage, once every subscription is
 * held again.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RedisClientType, RedisClusterType } from 'redis';
import type { Logger } from 'pino';
import { backendErrors } from '../../../metrics.js';

export type RedisClient = RedisClientType;
export type RedisCluster = RedisClusterType;

/** The per-key commands the parts use: the same methods on one Redis and on a cluster (routed by the key there). */
export type RedisCommands = Pick<
  RedisClientType,
  'get' | 'set' | 'getDel' | 'del' | 'exists' | 'sAdd' | 'sRem' | 'sMembers' | 'sRandMemberCount' | 'lPush' | 'pExpire' | 'sPublish'
>;

export type PubSubListener = (message: string, channel: string) => void;

/** a URL (`redis://`, `rediss://`, `redis+cluster://`, `rediss+cluster://`), a client or cluster the caller owns, or a connection */
export type RedisSource = string | RedisClient | RedisCluster | RedisConnection;

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
/** keys asked for per SCAN step */
export const SCAN_COUNT = 1000;

/** A Lua script, run by SHA1 and sent whole on NOSCRIPT (a restarted Redis, or a node that has not seen it yet). */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script (its keys must share one slot); returns its raw reply. */
  run(conn: RedisConnection, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return conn.eval(this, keys, args);
  }
}

export interface RedisConnectionEvents {
  /**
   * The connection was lost and is back, with every sharded subscription held again: what was
   * published meanwhile on `channels` is missed (undefined: on any channel; a cluster names the
   * channels of the shards that were away).
   */
  reconnected: [channels: readonly string[] | undefined];
}

/** One Redis or a Redis Cluster, as the parts use it. */
export abstract class RedisConnection extends EventEmitter<RedisConnectionEvents> {
  abstract readonly mode: 'single' | 'cluster';
  /** per-key commands (keys of one slot per command on a cluster) */
  abstract readonly commands: RedisCommands;
  /** connected, and (a cluster) every node it uses is reachable */
  abstract readonly isReady: boolean;
  protected closed = false;
  /** the parts using it (see acquire); an owned connection closes when the last one releases it */
  private users = 1;

  protected constructor(
    protected readonly owned: boolean,
    protected readonly logger: Logger,
  ) {
    super();
  }

  /** Runs a script whose keys share one slot (on a cluster: on the master of the first key). */
  async eval(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const n = String(keys.length);
    try {
      return await this.send(keys[0], ['EVALSHA', script.sha, n, ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    }
    // EVAL caches the script on that node for the next EVALSHA
    return this.send(keys[0], ['EVAL', script.source, n, ...keys, ...args]);
  }

  /** The plain connection that serves `key` (one Redis: the client; a cluster: the one to the key's master). */
  abstract clientFor(key: string): Promise<RedisClient>;

  /** Every key matching `pattern`, on every master (for rare listings, never on a hot path). */
  abstract scan(pattern: string): Promise<string[]>;

  /** SSUBSCRIBE `channel` (held across reconnects and, on a cluster, moved with its slot). */
  abstract sSubscribe(channel: string, listener: PubSubListener): Promise<void>;

  abstract sUnsubscribe(channel: string, listener: PubSubListener): Promise<void>;

  /** A new connection to the same Redis, of its own (not connected yet: see `open`). */
  abstract duplicate(name: string): RedisConnection;

  /** Connects (a no-op when it is already). */
  abstract open(): Promise<void>;

  /** Drops the connection at once (pending commands fail). */
  abstract destroy(): void;

  /** One more part uses this connection (each part releases it once). */
  acquire(): this {
    this.users++;
    return this;
  }

  /**
   * Closes the connection once every part that uses it has released it, if it was opened here (a
   * caller's client is left alone).
   */
  async release(): Promise<void> {
    if (this.users > 0) this.users--;
    if (this.users > 0 || !this.owned || this.closed) return;
    this.closed = true;
    this.removeAllListeners('reconnected');
    // close() waits for pending commands, which never finish while Redis is away
    if (!this.isReady) {
      this.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)));
    const closed = this.close().then(
      () => 'closed' as const,
      () => 'failed' as const,
    );
    const how = await Promise.race([closed, timeout]);
    clearTimeout(timer);
    if (how !== 'closed') this.destroy();
  }

  protected abstract close(): Promise<void>;

  protected abstract send(key: string | undefined, args: string[]): Promise<unknown>;
}

/** Logs the first error of each outage, and when the connection is back. */
export function watchErrors(client: RedisClient, logger: Logger): void {
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

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
