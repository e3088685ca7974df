/**
 * How many authenticated sockets each user has across the cluster (MAX_CONNECTIONS_PER_USER
 * counts them together). Each node keeps its own counts in memory — the truth for this node —
 * and mirrors them into a hash of its own in Redis (`HSET user <absolute count>`, so a late or
 * repeated write cannot drift). A node is alive while its heartbeat key exists (renewed every
 * `heartbeatMs`, expiring after `leaseMs`): counts ignore the hashes of nodes that stopped
 * heartbeating, and the next count deletes them. A node whose heartbeat key was gone (Redis
 * restarted, or it was paused longer than the lease) writes its whole hash again.
 *
 * The scripts read keys they compute (one per node), so this needs a single Redis, not a cluster.
 */
import type { Logger } from 'pino';
import { LuaScript, openRedis, type OpenedRedis, type RedisSource } from './redis-connection.js';

const PREFIX = 'qx:presence:';
const NODES = `${PREFIX}nodes`;
const aliveKey = (node: string) => `${PREFIX}alive:${node}`;
const usersKey = (node: string) => `${PREFIX}users:${node}`;

/** Sum of `user` over the other live nodes; dead nodes are removed on the way. ARGV: prefix, self, user. */
const OTHERS = `
local function others(prefix, self, user)
  local total = 0
  for _, node in ipairs(redis.call('SMEMBERS', prefix .. 'nodes')) do
    if node ~= self then
      if redis.call('EXISTS', prefix .. 'alive:' .. node) == 1 then
        total = total + (tonumber(redis.call('HGET', prefix .. 'users:' .. node, user)) or 0)
      else
        redis.call('DEL', prefix .. 'users:' .. node)
        redis.call('SREM', prefix .. 'nodes', node)
      end
    end
  end
  return total
end
`;

const COUNT = new LuaScript(`${OTHERS}
return others(ARGV[1], ARGV[2], ARGV[3])`);

/** ARGV: prefix, self, user, this node's count now, limit. Admits (writes count+1) when the cluster total is below the limit. */
const TRY_ADD = new LuaScript(`${OTHERS}
local total = others(ARGV[1], ARGV[2], ARGV[3]) + tonumber(ARGV[4])
if total >= tonumber(ARGV[5]) then return {0, total} end
redis.call('HSET', ARGV[1] .. 'users:' .. ARGV[2], ARGV[3], tonumber(ARGV[4]) + 1)
return {1, total + 1}`);

/** KEYS: alive, nodes. ARGV: self, leaseMs. Returns 1 when the node was alive already. */
const HEARTBEAT = new LuaScript(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return existed`);

export interface ClusterPresenceOptions {
  redis: RedisSource;
  logger: Logger;
  nodeId: string;
  /** heartbeat period (default 1000 ms) */
  heartbeatMs?: number;
  /** a node that has not heartbeaten for this long counts as dead (default 5000 ms) */
  leaseMs?: number;
  /** how long a count may wait for Redis before it fails (tryAdd: decides on this node's count) (default 1000 ms) */
  timeoutMs?: number;
}

export interface AddResult {
  ok: boolean;
  /** the user's sockets across the cluster (including this one when admitted) */
  count: number;
  /** Redis could not be asked: decided on this node's count alone */
  degraded?: boolean;
}

export class ClusterPresence {
  private readonly local = new Map<string, number>();
  private readonly admitting = new Map<string, Promise<void>>();
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** a mirror write failed: rewrite the whole hash at the next heartbeat */
  private dirty = false;
  private beating = false;
  private closed = false;

  private constructor(
    private readonly conn: OpenedRedis,
    private readonly opts: ClusterPresenceOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? 5000;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    if (!(this.leaseMs > this.heartbeatMs)) throw new RangeError('leaseMs must exceed heartbeatMs');
  }

  static async open(opts: ClusterPresenceOptions): Promise<ClusterPresence> {
    const presence = new ClusterPresence(await openRedis(opts.redis, opts.logger, 'qx-presence'), opts);
    await presence.heartbeat();
    presence.timer = setInterval(() => void presence.heartbeat(), presence.heartbeatMs);
    presence.timer.unref();
    return presence;
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  /** This node's sockets of `userId`. */
  localCount(userId: string): number {
    return this.local.get(userId) ?? 0;
  }

  /** The user's sockets on every live node (rejects when Redis does not answer within timeoutMs). */
  async count(userId: string): Promise<number> {
    const others = Number(await withTimeout(COUNT.run(this.conn.client, [], [PREFIX, this.opts.nodeId, userId]), this.timeoutMs));
    return others + this.localCount(userId);
  }

  /**
   * Admits one more socket of `userId` when the cluster holds fewer than `limit` (atomic across
   * nodes). When Redis does not answer within timeoutMs, decides on this node's count and says so
   * (`degraded`); the mirror is rewritten once Redis is back.
   */
  tryAdd(userId: string, limit: number): Promise<AddResult> {
    // one admission per user at a time on this node: each must see the count the one before left
    const previous = this.admitting.get(userId) ?? Promise.resolve();
    const next = previous.then(() => this.admit(userId, limit));
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.admitting.set(userId, tail);
    void tail.then(() => {
      if (this.admitting.get(userId) === tail) this.admitting.delete(userId);
    });
    return next;
  }

  private async admit(userId: string, limit: number): Promise<AddResult> {
    const mine = this.localCount(userId);
    try {
      const reply = TRY_ADD.run(this.conn.client, [], [PREFIX, this.opts.nodeId, userId, String(mine), String(limit)]);
      const [ok, count] = (await withTimeout(reply, this.timeoutMs)) as [number, number];
      if (ok === 1) this.local.set(userId, this.localCount(userId) + 1);
      // another add/remove on this node raced the script: the mirror is rewritten at the next heartbeat
      if (this.localCount(userId) !== mine + ok) this.dirty = true;
      return { ok: ok === 1, count: Number(count) };
    } catch (err) {
      this.opts.logger.warn({ userId, err: (err as Error).message }, 'presence: redis unavailable, counting this node only');
      if (mine >= limit) return { ok: false, count: mine, degraded: true };
      this.local.set(userId, mine + 1);
      this.dirty = true;
      return { ok: true, count: mine + 1, degraded: true };
    }
  }

  /** One more socket of `userId` on this node, whatever the limit. */
  add(userId: string): void {
    this.local.set(userId, this.localCount(userId) + 1);
    this.mirror(userId);
  }

  /** One socket of `userId` on this node fewer. */
  remove(userId: string): void {
    const n = this.localCount(userId) - 1;
    if (n <= 0) this.local.delete(userId);
    else this.local.set(userId, n);
    this.mirror(userId);
  }

  /** Node ids whose heartbeat is current. */
  async liveNodes(): Promise<string[]> {
    const nodes = await this.conn.client.sMembers(NODES);
    const alive = await Promise.all(nodes.map((n) => this.conn.client.exists(aliveKey(n))));
    return nodes.filter((_, i) => alive[i] === 1).sort();
  }

  /** Stops heartbeating and removes this node's entries (a clean shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    try {
      if (this.conn.client.isReady) {
        const removal = this.conn.client.multi().del(aliveKey(this.opts.nodeId)).del(usersKey(this.opts.nodeId)).sRem(NODES, this.opts.nodeId).exec();
        await withTimeout(removal, 1000);
      }
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'presence: could not remove this node (its entries expire)');
    }
    await this.conn.release();
  }

  private mirror(userId: string): void {
    const n = this.localCount(userId);
    const write = n > 0 ? this.conn.client.hSet(usersKey(this.opts.nodeId), userId, n) : this.conn.client.hDel(usersKey(this.opts.nodeId), userId);
    write.catch(() => {
      this.dirty = true;
    });
  }

  private async heartbeat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      const existed = Number(await HEARTBEAT.run(this.conn.client, [aliveKey(this.opts.nodeId), NODES], [this.opts.nodeId, String(this.leaseMs)]));
      if (existed === 0 || this.dirty) await this.rewrite(existed === 0);
    } catch (err) {
      this.dirty = true;
      this.opts.logger.debug({ err: (err as Error).message }, 'presence heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /** Writes this node's whole hash again (after Redis lost it, or after failed writes). */
  private async rewrite(lost: boolean): Promise<void> {
    this.dirty = false;
    const multi = this.conn.client.multi().del(usersKey(this.opts.nodeId));
    if (this.local.size) multi.hSet(usersKey(this.opts.nodeId), Object.fromEntries([...this.local].map(([u, n]) => [u, String(n)])));
    try {
      await multi.exec();
      if (lost && this.local.size) this.opts.logger.info({ users: this.local.size }, 'presence: this node was gone from redis; counts written again');
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
