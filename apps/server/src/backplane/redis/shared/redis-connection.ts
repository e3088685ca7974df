/**
 * Redis connections for the cluster parts (node-redis 5), on one Redis or a Redis Cluster: the one
 * place that knows which. Every part takes a `RedisSource` — a URL (`redis://` or
 * `redis+cluster://`, see redis-url.ts), a node-redis client or cluster the caller made, or a
 * `RedisConnection` — and opens the connections it needs of its own: pub/sub and blocking
 * commands (BLPOP) each need a connection nothing else writes on, so those are always duplicates.
 *
 * What the parts use is the same on both: per-key commands (`commands`, routed by key on a
 * cluster), scripts whose keys share a slot (`eval`, routed by the first key), sharded pub/sub
 * (`sSubscribe`: Redis 7 has SSUBSCRIBE/SPUBLISH on one node too), the plain connection serving a
 * key (`clientFor`, for CLIENT ID/UNBLOCK and BLPOP), a scan over every master, and one
 * `reconnected` event after an outage, once every subscription is held again.
 *
 * node-redis reconnects by itself and crashes the process on an 'error' event nobody listens to,
 * so every client made here has a listener that logs (once per outage). Its cluster client
 * refreshes its view of the cluster only when a node answers MOVED/ASK (node-redis issue 2806): a
 * master that dies answers nothing, and its replica's promotion would go unseen, commands queued
 * for the dead node for ever and its sharded subscriptions lost. So a cluster connection that
 * sees a node fail asks the cluster for its slots again until every node it uses is back, and
 * subscribes its channels again on the masters that now own them. Its commands to a node that is
 * down fail at once rather than wait in a queue (the parts retry; other shards' work goes on).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import calculateSlot from 'cluster-key-slot';
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import type { Logger } from 'pino';
import { parseRedisUrl } from './redis-url.js';

export type RedisClient = RedisClientType;
export type RedisCluster = RedisClusterType;

/** The per-key commands the parts use: the same methods on one Redis and on a cluster (routed by the key there). */
export type RedisCommands = Pick<
  RedisClientType,
  'get' | 'set' | 'getDel' | 'del' | 'exists' | 'hSet' | 'hDel' | 'hGet' | 'sAdd' | 'sRem' | 'sMembers' | 'sRandMemberCount' | 'lPush' | 'rPush' | 'pExpire' | 'sPublish'
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
/** while a cluster node is away, its slots are asked for again this often (a replica's promotion is seen within it) */
const HEAL_EVERY_MS = 250;
const SCAN_COUNT = 1000;

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

/** One Redis node (node-redis `createClient`). */
export class SingleConnection extends RedisConnection {
  readonly mode = 'single';
  private readyOnce: boolean;

  constructor(
    readonly client: RedisClient,
    owned: boolean,
    logger: Logger,
  ) {
    super(owned, logger);
    this.readyOnce = client.isReady;
    client.on('ready', () => {
      // the first 'ready' was the initial connect; later ones follow a reconnect (subscriptions renewed by then)
      if (!this.readyOnce) {
        this.readyOnce = true;
        return;
      }
      if (!this.closed) this.emit('reconnected', undefined);
    });
  }

  get commands(): RedisCommands {
    return this.client;
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  async open(): Promise<void> {
    if (!this.client.isOpen) await this.client.connect();
  }

  clientFor(): Promise<RedisClient> {
    return Promise.resolve(this.client);
  }

  async scan(pattern: string): Promise<string[]> {
    const out: string[] = [];
    for await (const keys of this.client.scanIterator({ MATCH: pattern, COUNT: SCAN_COUNT })) out.push(...keys);
    return out;
  }

  sSubscribe(channel: string, listener: PubSubListener): Promise<void> {
    return this.client.sSubscribe(channel, listener);
  }

  sUnsubscribe(channel: string, listener: PubSubListener): Promise<void> {
    return this.client.sUnsubscribe(channel, listener);
  }

  duplicate(name: string): RedisConnection {
    const client = this.client.duplicate({ name });
    watchErrors(client, this.logger.child({ redis: name }));
    return new SingleConnection(client, true, this.logger);
  }

  destroy(): void {
    this.closed = true;
    if (this.client.isOpen) this.client.destroy();
  }

  protected async close(): Promise<void> {
    this.client.removeAllListeners('ready');
    if (this.client.isOpen) await this.client.close();
  }

  protected send(_key: string | undefined, args: string[]): Promise<unknown> {
    return this.client.sendCommand(args);
  }
}

/** A Redis Cluster (node-redis `createCluster`). */
export class ClusterConnection extends RedisConnection {
  readonly mode = 'cluster';
  /** sharded subscriptions, to renew on the masters that own them after a failover */
  private readonly subscriptions = new Map<string, Set<PubSubListener>>();
  private healing = false;
  private again = false;
  private down = false;
  private announced = false;

  constructor(
    readonly cluster: RedisCluster,
    owned: boolean,
    logger: Logger,
  ) {
    super(owned, logger);
    const trouble = (err?: Error) => this.trouble(err);
    cluster.on('node-error', trouble);
    cluster.on('node-reconnecting', () => trouble());
    // a channel whose slot moved could not be subscribed on its new master
    cluster.on('sharded-shannel-moved-error', trouble);
    cluster.on('error', trouble);
  }

  get commands(): RedisCommands {
    return this.cluster;
  }

  get isReady(): boolean {
    return this.cluster.isOpen && !this.down;
  }

  async open(): Promise<void> {
    if (!this.cluster.isOpen) await this.cluster.connect();
  }

  async clientFor(key: string): Promise<RedisClient> {
    return (await this.cluster._slots.getClientAndSlotNumber(key, false)).client;
  }

  async scan(pattern: string): Promise<string[]> {
    const out: string[] = [];
    for (const master of this.cluster.masters) {
      const client = await this.cluster.nodeClient(master);
      for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: SCAN_COUNT })) out.push(...keys);
    }
    return out;
  }

  async sSubscribe(channel: string, listener: PubSubListener): Promise<void> {
    let set = this.subscriptions.get(channel);
    if (!set) this.subscriptions.set(channel, (set = new Set()));
    set.add(listener);
    try {
      await this.cluster.sSubscribe(channel, listener);
    } catch (err) {
      // wanted all the same: the next heal subscribes it
      this.trouble(err as Error);
      throw err;
    }
  }

  async sUnsubscribe(channel: string, listener: PubSubListener): Promise<void> {
    const set = this.subscriptions.get(channel);
    set?.delete(listener);
    if (set?.size === 0) this.subscriptions.delete(channel);
    await this.cluster.sUnsubscribe(channel, listener);
  }

  duplicate(name: string): RedisConnection {
    // connects to a node only when a command or subscription needs it
    const defaults = { ...this.cluster._options.defaults, name };
    const cluster = this.cluster.duplicate({ minimizeConnections: true, defaults });
    return new ClusterConnection(cluster, true, this.logger.child({ redis: name }));
  }

  destroy(): void {
    this.closed = true;
    if (this.cluster.isOpen) this.cluster.destroy();
  }

  protected async close(): Promise<void> {
    if (this.cluster.isOpen) await this.cluster.close();
  }

  protected send(key: string | undefined, args: string[]): Promise<unknown> {
    return this.cluster.sendCommand(key, false, args);
  }

  /** A node failed (or a subscription could not be made): heal, in the background. */
  private trouble(err?: Error): void {
    if (this.closed || !this.cluster.isOpen) return;
    if (!this.down) {
      this.down = true;
      this.announced = true;
      this.logger.warn({ err: err?.message }, 'redis cluster node lost; refreshing the cluster topology');
    }
    if (this.healing) {
      this.again = true;
      return;
    }
    void this.heal();
  }

  /**
   * Until every node this connection uses answers: ask the cluster for its slots again (a dead
   * master's replica takes its slots over; the dead node's connections are dropped, failing what
   * was queued for it), subscribe every channel again on the master that owns it, and wait.
   */
  private async heal(): Promise<void> {
    this.healing = true;
    // the channels whose subscription was not held at some point: messages on them may be missed
    const missed = new Set<string>();
    const note = () => {
      for (const channel of this.subscriptions.keys()) if (!this.held(channel)) missed.add(channel);
    };
    try {
      for (let round = 0; !this.closed; round++) {
        this.again = false;
        note();
        await this.refresh();
        note();
        const subscribed = await this.resubscribe();
        if (subscribed && !this.again && this.healthy()) break;
        await sleep(Math.min(50 * 2 ** round, HEAL_EVERY_MS));
      }
    } finally {
      this.healing = false;
    }
    if (this.closed) return;
    this.down = false;
    if (this.announced) {
      this.announced = false;
      this.logger.info({ channels: missed.size }, 'redis cluster connection back');
    }
    this.emit('reconnected', [...missed]);
  }

  /** whether `channel` is subscribed on a connected client of the master that owns it now */
  private held(channel: string): boolean {
    const pubSub = this.cluster.slots[calculateSlot(channel)]?.master.pubSub;
    return pubSub !== undefined && pubSub.connectPromise === undefined && pubSub.client.isReady && pubSub.client.getPubSubListeners('SHARDED').has(channel);
  }

  private async refresh(): Promise<void> {
    // any connection of this cluster client tells node-redis where to ask (a dead one: it asks the seeds)
    const clients = this.cluster.masters.flatMap((m) => [m.client, m.pubSub?.client]).filter((c): c is RedisClient => c !== undefined);
    const start = clients.find((c) => c.isReady) ?? clients[0];
    if (!start) return;
    try {
      await this.cluster._slots.rediscover(start);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'redis cluster topology refresh failed');
    }
  }

  /** Subscribes the wanted channels that are not held; true when every attempt succeeded. */
  private async resubscribe(): Promise<boolean> {
    const attempts: Promise<void>[] = [];
    for (const [channel, listeners] of this.subscriptions) {
      if (this.held(channel)) continue;
      for (const listener of listeners) attempts.push(withTimeout(this.cluster.sSubscribe(channel, listener), 1000));
    }
    const results = await Promise.allSettled(attempts);
    return results.every((r) => r.status === 'fulfilled');
  }

  private healthy(): boolean {
    if (!this.cluster.isOpen) return false;
    for (const master of this.cluster.masters) {
      if (master.client && !master.client.isReady) return false;
      if (master.pubSub && (master.pubSub.connectPromise || !master.pubSub.client.isReady)) return false;
    }
    for (const channel of this.subscriptions.keys()) if (!this.held(channel)) return false;
    return true;
  }
}

/**
 * Opens `source` for a part named `name`: a URL becomes a new connection; a caller's client,
 * cluster or connection is used as it is (connected first if it is not); `duplicate` makes a
 * connection of its own either way.
 */
export async function openRedis(source: RedisSource, logger: Logger, name: string, opts: { duplicate?: boolean } = {}): Promise<RedisConnection> {
  const log = logger.child({ redis: name });
  let conn: RedisConnection;
  if (typeof source === 'string') conn = connectionForUrl(source, name, log);
  else if (source instanceof RedisConnection) conn = opts.duplicate ? source.duplicate(name) : source.acquire();
  else {
    const wrapped = isCluster(source) ? new ClusterConnection(source, false, log) : new SingleConnection(source, false, log);
    conn = opts.duplicate ? wrapped.duplicate(name) : wrapped;
  }
  await conn.open();
  return conn;
}

function connectionForUrl(url: string, name: string, logger: Logger): RedisConnection {
  const target = parseRedisUrl(url);
  if ('error' in target) throw new Error(`bad Redis URL: ${target.error}`);
  const socket = { reconnectStrategy: reconnectDelay, connectTimeout: 5000 };
  if (target.mode === 'single') {
    const client = createClient({ url, name, socket }) as RedisClient;
    watchErrors(client, logger);
    return new SingleConnection(client, true, logger);
  }
  const cluster = createCluster({
    rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
    defaults: {
      name,
      // a command for a node that is down fails at once (queued, it would wait for the failover)
      disableOfflineQueue: true,
      socket: { ...socket, ...(target.tls ? { tls: true as const } : {}) },
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
    },
  }) as unknown as RedisCluster;
  return new ClusterConnection(cluster, true, logger);
}

function isCluster(source: RedisClient | RedisCluster): source is RedisCluster {
  return '_slots' in source;
}

/** Logs the first error of each outage, and when the connection is back. */
export function watchErrors(client: RedisClient, logger: Logger): void {
  let down = false;
  client.on('error', (err: Error) => {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
