/**
 * How many authenticated sockets each user has across the cluster (MAX_CONNECTIONS_PER_USER
 * counts them together). Each node keeps its own sockets in memory — the truth for this node —
 * and mirrors them into a hash of its own in Redis (`HSET user "<socket ids>"`, the whole set, so a
 * late or repeated write cannot drift). Sockets are counted by id, so a socket recovered on another
 * node (Socket.IO keeps its id) while its old node's entry is still there counts once. A node is
 * alive while its heartbeat key exists (renewed every `heartbeatMs`, expiring after `leaseMs`):
 * counts ignore the hashes of nodes that stopped heartbeating, and the next count deletes them. A
 * node whose heartbeat key was gone (Redis restarted, or it was paused longer than the lease)
 * writes its whole hash again.
 *
 * The scripts read keys they compute (one per node), so this needs a single Redis, not a cluster.
 */
import type { Logger } from 'pino';
import { LuaScript, openRedis, type OpenedRedis, type RedisSource } from '../shared/redis-connection.js';

import { PRESENCE_LEASE_MS, PRESENCE_PREFIX as PREFIX, aliveKey, presenceNodes as NODES } from '../shared/node-liveness.js';

const usersKey = (node: string) => `${PREFIX}users:${node}`;
/**
 * The user's socket ids over the live nodes other than `self`, plus `mine` (space-separated), as a
 * set and its size; dead nodes are removed on the way.
 */
const SOCKETS = `
local function sockets(prefix, self, user, mine)
  local seen, n = {}, 0
  local function take(ids)
    for id in string.gmatch(ids, '%S+') do
      if not seen[id] then seen[id] = true; n = n + 1 end
    end
  end
  for _, node in ipairs(redis.call('SMEMBERS', prefix .. 'nodes')) do
    if node ~= self then
      if redis.call('EXISTS', prefix .. 'alive:' .. node) == 1 then
        local ids = redis.call('HGET', prefix .. 'users:' .. node, user)
        if ids then take(ids) end
      else
        redis.call('DEL', prefix .. 'users:' .. node)
        redis.call('SREM', prefix .. 'nodes', node)
      end
    end
  end
  take(mine)
  return seen, n
end
`;

/** ARGV: prefix, self, user, this node's sockets of the user. */
const COUNT = new LuaScript(`${SOCKETS}
local _, n = sockets(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return n`);

/**
 * ARGV: prefix, self, user, this node's sockets of the user, the new socket, limit. Admits (writes
 * this node's sockets with the new one) when the cluster holds fewer than the limit, or already
 * counts that socket (recovered here from a node whose entry is still there).
 */
const TRY_ADD = new LuaScript(`${SOCKETS}
local seen, n = sockets(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if not seen[ARGV[5]] then
  if n >= tonumber(ARGV[6]) then return {0, n} end
  n = n + 1
end
redis.call('HSET', ARGV[1] .. 'users:' .. ARGV[2], ARGV[3], ARGV[4] .. ' ' .. ARGV[5])
return {1, n}`);

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
  private readonly local = new Map<string, Set<string>>();
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
    this.leaseMs = opts.leaseMs ?? PRESENCE_LEASE_MS;
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

  /** how long a killed node's sockets keep counting, at most */
  get lease(): number {
    return this.leaseMs;
  }

  /** This node's sockets of `userId`. */
  localCount(userId: string): number {
    return this.local.get(userId)?.size ?? 0;
  }

  /** The user's sockets on every live node (rejects when Redis does not answer within timeoutMs). */
  async count(userId: string): Promise<number> {
    return Number(await withTimeout(COUNT.run(this.conn.client, [], [PREFIX, this.opts.nodeId, userId, this.ids(userId)]), this.timeoutMs));
  }

  /**
   * Admits socket `socketId` of `userId` when the cluster holds fewer than `limit` of the user's
   * sockets, or counts that socket already (atomic across nodes). When Redis does not answer
   * within timeoutMs, decides on this node's count and says so (`degraded`); the mirror is
   * rewritten once Redis is back.
   */
  tryAdd(userId: string, socketId: string, limit: number): Promise<AddResult> {
    // one admission per user at a time on this node: each must see the sockets the one before left
    const previous = this.admitting.get(userId) ?? Promise.resolve();
    const next = previous.then(() => this.admit(userId, socketId, limit));
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

  private async admit(userId: string, socketId: string, limit: number): Promise<AddResult> {
    const mine = this.ids(userId);
    if (this.local.get(userId)?.has(socketId)) return { ok: true, count: this.localCount(userId) };
    try {
      const reply = TRY_ADD.run(this.conn.client, [], [PREFIX, this.opts.nodeId, userId, mine, socketId, String(limit)]);
      const [ok, count] = (await withTimeout(reply, this.timeoutMs)) as [number, number];
      if (ok === 1) this.set(userId).add(socketId);
      // a removal on this node raced the script: write this node's sockets again
      if (ok === 1 && this.ids(userId) !== `${mine} ${socketId}`.trim()) this.mirror(userId);
      return { ok: ok === 1, count: Number(count) };
    } catch (err) {
      this.opts.logger.warn({ userId, err: (err as Error).message }, 'presence: redis unavailable, counting this node only');
      if (this.localCount(userId) >= limit) return { ok: false, count: this.localCount(userId), degraded: true };
      this.set(userId).add(socketId);
      this.dirty = true;
      return { ok: true, count: this.localCount(userId), degraded: true };
    }
  }

  /** Socket `socketId` of `userId` on this node, whatever the limit. */
  add(userId: string, socketId: string): void {
    this.set(userId).add(socketId);
    this.mirror(userId);
  }

  /** Socket `socketId` of `userId` is gone from this node. */
  remove(userId: string, socketId: string): void {
    const set = this.local.get(userId);
    if (!set?.delete(socketId)) return;
    if (set.size === 0) this.local.delete(userId);
    this.mirror(userId);
  }

  private set(userId: string): Set<string> {
    let set = this.local.get(userId);
    if (!set) this.local.set(userId, (set = new Set()));
    return set;
  }

  /** this node's sockets of the user, space-separated (as stored) */
  private ids(userId: string): string {
    return [...(this.local.get(userId) ?? [])].join(' ');
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
    const ids = this.ids(userId);
    const write = ids ? this.conn.client.hSet(usersKey(this.opts.nodeId), userId, ids) : this.conn.client.hDel(usersKey(this.opts.nodeId), userId);
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
    if (this.local.size) multi.hSet(usersKey(this.opts.nodeId), Object.fromEntries([...this.local.keys()].map((u) => [u, this.ids(u)])));
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
