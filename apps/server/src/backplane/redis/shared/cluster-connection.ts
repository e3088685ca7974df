/**
 * A Redis Cluster (node-redis `createCluster`) as a RedisConnection. node-redis's cluster client
 * refreshes its view of the cluster only when a node answers MOVED/ASK (node-redis issue 2806): a
 * master that dies answers nothing, and its replica's promotion would go unseen, commands queued
 * for the dead node for ever and its sharded subscriptions lost. So a cluster connection that
 * sees a node fail asks the cluster for its slots again until every node it uses is back, and
 * subscribes its channels again on the masters that now own them. Its commands to a node that is
 * down fail at once rather than wait in a queue (redis-connection.ts sets `disableOfflineQueue`:
 * the parts retry, and other shards' work goes on).
 */
import calculateSlot from 'cluster-key-slot';
import type { Logger } from 'pino';
import { backendErrors } from '../../../metrics.js';
import { RedisConnection, SCAN_COUNT, sleep, withTimeout, type PubSubListener, type RedisClient, type RedisCluster, type RedisCommands } from './connection.js';

/** while a cluster node is away, its slots are asked for again this often (a replica's promotion is seen within it) */
const HEAL_EVERY_MS = 250;

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
    if (err) backendErrors.redis.inc();
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
