/**
 * How many authenticated sockets each user has across the cluster (MAX_CONNECTIONS_PER_USER
 * counts them together). Each node keeps its own sockets in memory — the truth for this node —
 * and mirrors them into the user's hash in Redis (socket id → node id; one key per user, so on a
 * Redis Cluster every script touches one slot). Sockets are counted by id, so a socket recovered
 * on another node (Socket.IO keeps its id) while its old node's entry is still there counts once
 * (the node that admits it takes the entry over).
 *
 * A node is alive while its heartbeat key exists (renewed every `heartbeatMs`, expiring after
 * `leaseMs`). Each heartbeat also reads which nodes have stopped heartbeating — outside the
 * scripts, which cannot read keys of other slots — and passes them to every script, which drops
 * their entries from the user's hash it touches and does not count them. Each node lists the users
 * it has sockets of (`users:<node>`), so the nodes still alive clear a dead node's entries from
 * every user's hash, a batch per heartbeat, and then forget it. A node whose heartbeat key was gone
 * (Redis restarted, or it was paused longer than the lease and counted dead) writes its entries
 * again, and once more at the next heartbeat (another node may have cleared them in between).
 */
import type { Logger } from 'pino';
import { LuaScript, openRedis, withTimeout, type RedisConnection, type RedisSource } from '../shared/redis-connection.js';
import { PRESENCE_LEASE_MS, aliveKey, presenceNodes } from '../shared/node-liveness.js';

export const presenceKeys = {
  /** the user's sockets: socket id → node id */
  user: (userId: string): string => `qx:presence:{${userId}}`,
  /** a node's heartbeat (expires after the lease) */
  alive: aliveKey,
  /** the users a node has sockets of (where its entries are) */
  users: (node: string): string => `qx:presence:users:${node}`,
  /** every node that heartbeats, or did and has not been cleared yet */
  nodes: presenceNodes,
} as const;

/** dead nodes' users cleared per heartbeat */
const CLEAR_BATCH = 500;

/**
 * KEYS: the user's hash. ARGV: this node, the dead nodes (space-separated), this node's sockets of
 * the user (space-separated), a socket to admit ('' for none), the limit, write ('1': make the
 * hash hold this node's sockets; '0': only count). Entries of dead nodes are dropped; with write,
 * this node's entries that it no longer has are dropped, and its sockets written (unless another
 * live node holds one: recovered there). Returns {admitted (1|0), the user's sockets on the live
 * nodes, the admitted one included}.
 */
const SOCKETS = new LuaScript(`
local key, self, new, write = KEYS[1], ARGV[1], ARGV[4], ARGV[6] == '1'
local dead, mine = {}, {}
for node in string.gmatch(ARGV[2], '%S+') do dead[node] = true end
for id in string.gmatch(ARGV[3], '%S+') do mine[id] = true end
local seen, n = {}, 0
local flat = redis.call('HGETALL', key)
for i = 1, #flat, 2 do
  local id, node = flat[i], flat[i + 1]
  if dead[node] then
    redis.call('HDEL', key, id)
  elseif node == self then
    if write and not mine[id] and id ~= new then redis.call('HDEL', key, id) end
  elseif not seen[id] then
    seen[id] = true
    n = n + 1
  end
end
for id in pairs(mine) do
  if not seen[id] then
    seen[id] = true
    n = n + 1
  end
end
if new ~= '' and not seen[new] then
  if n >= tonumber(ARGV[5]) then return {0, n} end
  n = n + 1
end
if write then
  for id in pairs(mine) do
    local owner = redis.call('HGET', key, id)
    if not owner or owner == self then redis.call('HSET', key, id, self) end
  end
  if new ~= '' then redis.call('HSET', key, new, self) end
end
return {1, n}`);

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
  /** each user's writes on this node, one at a time (each sends this node's sockets as they are when it runs) */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** nodes whose heartbeat was gone at the last heartbeat (their entries neither count nor stay) */
  private dead: string[] = [];
  /** a mirror write failed: write every entry again at the next heartbeat */
  private dirty = false;
  private beating = false;
  private watching = false;
  private closed = false;

  private constructor(
    private readonly conn: RedisConnection,
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
    const [, n] = (await withTimeout(this.sockets(userId, { write: false }), this.timeoutMs)) as [number, number];
    return Number(n);
  }

  /**
   * Admits socket `socketId` of `userId` when the cluster holds fewer than `limit` of the user's
   * sockets, or counts that socket already (atomic across nodes). When Redis does not answer
   * within timeoutMs, decides on this node's count and says so (`degraded`); the mirror is
   * rewritten once Redis is back.
   */
  tryAdd(userId: string, socketId: string, limit: number): Promise<AddResult> {
    return this.serial(userId, () => this.admit(userId, socketId, limit));
  }

  /**
   * Runs `write` after the user's writes before it on this node: each must see the sockets the one
   * before left (a write with an older list would drop a socket just admitted).
   */
  private serial<T>(userId: string, write: () => Promise<T>): Promise<T> {
    const previous = this.writing.get(userId) ?? Promise.resolve();
    const next = previous.then(write);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.writing.set(userId, tail);
    void tail.then(() => {
      if (this.writing.get(userId) === tail) this.writing.delete(userId);
    });
    return next;
  }

  private async admit(userId: string, socketId: string, limit: number): Promise<AddResult> {
    const mine = this.ids(userId);
    if (this.local.get(userId)?.has(socketId)) return { ok: true, count: this.localCount(userId) };
    if (!this.local.has(userId)) this.list(userId);
    try {
      const reply = this.sockets(userId, { write: true, admit: socketId, limit, mine });
      const [ok, count] = (await withTimeout(reply, this.timeoutMs)) as [number, number];
      if (ok === 1) this.set(userId).add(socketId);
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
    if (!this.local.has(userId)) this.list(userId);
    this.set(userId).add(socketId);
    this.mirror(userId);
  }

  /** Socket `socketId` of `userId` is gone from this node. */
  remove(userId: string, socketId: string): void {
    const set = this.local.get(userId);
    if (!set?.delete(socketId)) return;
    if (set.size === 0) {
      this.local.delete(userId);
      this.conn.commands.sRem(presenceKeys.users(this.opts.nodeId), userId).catch(() => undefined);
    }
    this.mirror(userId);
  }

  private set(userId: string): Set<string> {
    let set = this.local.get(userId);
    if (!set) this.local.set(userId, (set = new Set()));
    return set;
  }

  /** Lists the user as one this node has entries of (before they are written: a node that dies leaves none unlisted). */
  private list(userId: string): void {
    this.conn.commands.sAdd(presenceKeys.users(this.opts.nodeId), userId).catch(() => {
      this.dirty = true;
    });
  }

  /** Runs the SOCKETS script on the user's hash. */
  private sockets(userId: string, o: { write: boolean; admit?: string; limit?: number; mine?: string }): Promise<unknown> {
    const args = [this.opts.nodeId, this.dead.join(' '), o.mine ?? this.ids(userId), o.admit ?? '', String(o.limit ?? 0), o.write ? '1' : '0'];
    return SOCKETS.run(this.conn, [presenceKeys.user(userId)], args);
  }

  /** this node's sockets of the user, space-separated (as stored) */
  private ids(userId: string): string {
    return [...(this.local.get(userId) ?? [])].join(' ');
  }

  /** Node ids whose heartbeat is current. */
  async liveNodes(): Promise<string[]> {
    const nodes = await this.conn.commands.sMembers(presenceKeys.nodes);
    const alive = await Promise.all(nodes.map((n) => this.conn.commands.exists(presenceKeys.alive(n))));
    return nodes.filter((_, i) => alive[i] === 1).sort();
  }

  /** Stops heartbeating and removes this node's entries (a clean shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    try {
      if (this.conn.isReady) {
        const self = this.opts.nodeId;
        const users = [...this.local.keys()];
        this.local.clear();
        const removal = Promise.all([
          ...users.map((u) => this.sockets(u, { write: true, mine: '' })),
          this.conn.commands.del(presenceKeys.alive(self)),
          this.conn.commands.del(presenceKeys.users(self)),
          this.conn.commands.sRem(presenceKeys.nodes, self),
        ]);
        await withTimeout(removal, 1000);
      }
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'presence: could not remove this node (its entries are cleared after its lease)');
    }
    await this.conn.release();
  }

  private mirror(userId: string): void {
    this.serial(userId, () => this.sockets(userId, { write: true })).catch(() => {
      this.dirty = true;
    });
  }

  private async heartbeat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      const self = this.opts.nodeId;
      const before = await this.conn.commands.set(presenceKeys.alive(self), '1', { expiration: { type: 'PX', value: this.leaseMs }, GET: true });
      await this.conn.commands.sAdd(presenceKeys.nodes, self);
      const lost = before === null;
      if (lost || this.dirty) {
        // after a loss, once more at the next heartbeat: a node that counted this one dead may clear what is written now
        this.dirty = lost;
        await this.rewrite(lost);
      }
    } catch (err) {
      this.dirty = true;
      this.opts.logger.debug({ err: (err as Error).message }, 'presence heartbeat failed');
    } finally {
      this.beating = false;
    }
    // beside the heartbeat, so that clearing a dead node's many entries never delays this node's renewal
    if (!this.watching && !this.closed) {
      this.watching = true;
      this.watchNodes()
        .catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'presence: reading the other nodes failed'))
        .finally(() => (this.watching = false));
    }
  }

  /** Finds the nodes whose heartbeat is gone, clears a batch of their entries, and counts them out from now on. */
  private async watchNodes(): Promise<void> {
    const self = this.opts.nodeId;
    const nodes = (await this.conn.commands.sMembers(presenceKeys.nodes)).filter((n) => n !== self);
    const alive = await Promise.all(nodes.map((n) => this.conn.commands.exists(presenceKeys.alive(n))));
    const dead = nodes.filter((_, i) => alive[i] === 0);
    for (const node of dead) {
      try {
        await this.clear(node);
      } catch (err) {
        this.opts.logger.debug({ node, err: (err as Error).message }, 'presence: clearing a dead node failed (retried)');
      }
    }
    this.dead = dead;
  }

  /** Drops a dead node's entries from a batch of its users' hashes; forgets the node once none is left. */
  private async clear(node: string): Promise<void> {
    const users = await this.conn.commands.sRandMemberCount(presenceKeys.users(node), CLEAR_BATCH);
    if (users.length === 0) {
      await this.conn.commands.sRem(presenceKeys.nodes, node);
      return;
    }
    const dead = [...new Set([...this.dead, node])].join(' ');
    await Promise.all(users.map((u) => SOCKETS.run(this.conn, [presenceKeys.user(u)], [this.opts.nodeId, dead, this.ids(u), '', '0', '0'])));
    // the last member removed deletes the list
    await this.conn.commands.sRem(presenceKeys.users(node), users);
  }

  /** Writes every entry of this node again (after Redis lost them, or after failed writes). */
  private async rewrite(lost: boolean): Promise<void> {
    const self = this.opts.nodeId;
    const users = [...this.local.keys()];
    try {
      if (users.length) await this.conn.commands.sAdd(presenceKeys.users(self), users);
      await Promise.all(users.map((u) => this.serial(u, () => this.sockets(u, { write: true }))));
      if (lost && users.length) this.opts.logger.info({ users: users.length }, 'presence: this node was gone from redis; its entries written again');
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
