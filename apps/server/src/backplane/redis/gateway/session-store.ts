/**
 * Socket.IO connection-state-recovery sessions in Redis, so a client whose gateway crashed is
 * recovered on another one. Socket.IO persists a session only when a socket closes cleanly, which a
 * crash never does (socket.io-redis-streams-adapter issue 27); so the gateway saves the session on
 * every change (join, leave, authentication), with the recovery window as TTL, and `take` reads
 * and deletes it in one command (GETDEL: a session is restored once, on one node).
 *
 * Saves of one session are coalesced: while one is in flight, only the newest state waits. The
 * sessions of sockets still connected are kept alive (PEXPIRE every third of their TTL) — and
 * written again if Redis lost them (a restart) — so a socket connected for longer than the window
 * is still recoverable when its gateway dies.
 */
import type { Logger } from 'pino';
import type { Session } from 'socket.io-adapter';
import { openRedis, type RedisConnection, type RedisSource } from '../shared/redis-connection.js';

/** socket.io-adapter's Session without missedPackets (those are replayed from the event log) */
export type StoredSession = Omit<Session, 'missedPackets'>;

export const sessionKey = (pid: string): string => `qx:session:${pid}`;

export interface RedisSessionStoreOptions {
  redis: RedisSource;
  logger: Logger;
  /** how often the sessions of connected sockets get their TTL back (default: a third of the smallest TTL, at least 1 s) */
  refreshEveryMs?: number;
  /** how long `take` and `save` wait for Redis before answering null / false (default 1000 ms) */
  timeoutMs?: number;
}

interface Entry {
  session: StoredSession;
  ttlMs: number;
  connected: boolean;
  /** bumped by each save; written = the version in Redis */
  version: number;
  written: number;
  writing: boolean;
  waiters: { version: number; resolve: (ok: boolean) => void }[];
}

export class RedisSessionStore {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing = false;
  private closed = false;

  private constructor(
    private readonly conn: RedisConnection,
    private readonly opts: RedisSessionStoreOptions,
  ) {}

  static async open(opts: RedisSessionStoreOptions): Promise<RedisSessionStore> {
    return new RedisSessionStore(await openRedis(opts.redis, opts.logger, 'qx-sessions'), opts);
  }

  /**
   * Saves the session of `pid` for `ttlMs`. `connected: false` (the socket has gone) lets the TTL
   * run; otherwise it is renewed while this node lives. Resolves true once this state (or a newer
   * one) is in Redis, false when the write failed or took longer than `timeoutMs` (logged; it is
   * retried by the next save or refresh).
   */
  save(pid: string, session: StoredSession, ttlMs: number, opts: { connected?: boolean } = {}): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!(ttlMs >= 1)) return Promise.reject(new RangeError(`bad ttlMs ${ttlMs}`));
    let entry = this.entries.get(pid);
    if (!entry) {
      entry = { session, ttlMs, connected: true, version: 0, written: 0, writing: false, waiters: [] };
      this.entries.set(pid, entry);
    }
    entry.session = session;
    entry.ttlMs = ttlMs;
    entry.connected = opts.connected ?? true;
    const version = ++entry.version;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      entry.waiters.push({ version, resolve });
      // the write goes on (node-redis holds it until Redis is back); the caller is not kept waiting
      timer = setTimeout(() => resolve(false), this.opts.timeoutMs ?? 1000);
    }).finally(() => clearTimeout(timer));
    if (!entry.writing) void this.write(pid, entry);
    this.schedule();
    return done;
  }

  /**
   * The session of `pid`, removed from Redis in the same command; null when there is none (or it
   * expired), or when Redis does not answer within `timeoutMs` (the client then starts afresh).
   */
  async take(pid: string): Promise<StoredSession | null> {
    this.forget(pid);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.opts.timeoutMs ?? 1000)));
    let text: string | null;
    try {
      text = await Promise.race([this.conn.commands.getDel(sessionKey(pid)), timeout]);
    } catch (err) {
      this.opts.logger.warn({ pid, err: (err as Error).message }, 'recovery session could not be read');
      text = null;
    } finally {
      clearTimeout(timer);
    }
    if (text === null) return null;
    const session = parseSession(text);
    if (!session || session.pid !== pid) {
      this.opts.logger.warn({ pid }, 'malformed recovery session dropped');
      return null;
    }
    return session;
  }

  /** Deletes the session of `pid` (the socket left for good). */
  async drop(pid: string): Promise<void> {
    this.forget(pid);
    await this.conn.commands.del(sessionKey(pid));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const entry of this.entries.values()) for (const w of entry.waiters.splice(0)) w.resolve(entry.written >= w.version);
    this.entries.clear();
    await this.conn.release();
  }

  private forget(pid: string): void {
    const entry = this.entries.get(pid);
    if (!entry) return;
    this.entries.delete(pid);
    for (const w of entry.waiters.splice(0)) w.resolve(entry.written >= w.version);
  }

  private async write(pid: string, entry: Entry): Promise<void> {
    entry.writing = true;
    while (entry.written < entry.version && this.entries.get(pid) === entry && !this.closed) {
      const version = entry.version;
      let ok = true;
      try {
        await this.conn.commands.set(sessionKey(pid), JSON.stringify(entry.session), { expiration: { type: 'PX', value: entry.ttlMs } });
        entry.written = version;
      } catch (err) {
        ok = false;
        this.opts.logger.warn({ pid, err: (err as Error).message }, 'saving a recovery session failed');
      }
      const settled = entry.waiters.filter((w) => w.version <= version || !ok);
      entry.waiters = entry.waiters.filter((w) => !settled.includes(w));
      for (const w of settled) w.resolve(ok && entry.written >= w.version);
      if (!ok) break;
    }
    entry.writing = false;
    // a session whose socket is gone is Redis's to expire now
    if (!entry.connected && entry.written === entry.version && this.entries.get(pid) === entry) this.entries.delete(pid);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    let every = this.opts.refreshEveryMs;
    if (every === undefined) {
      let smallest = Infinity;
      for (const e of this.entries.values()) smallest = Math.min(smallest, e.ttlMs);
      every = Math.max(1000, Math.floor(smallest / 3));
    }
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  /** Renews the TTL of connected sockets' sessions; writes again those Redis no longer has. */
  private async refresh(): Promise<void> {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    try {
      const live = [...this.entries].filter(([, e]) => e.connected && !e.writing && e.written === e.version);
      for (let i = 0; i < live.length; i += 500) {
        const chunk = live.slice(i, i + 500);
        // one command per key (on a cluster the keys live on different shards, one of which may be away); node-redis pipelines them
        const replies = await Promise.allSettled(chunk.map(([pid, e]) => this.conn.commands.pExpire(sessionKey(pid), e.ttlMs)));
        chunk.forEach(([pid, e], j) => {
          const reply = replies[j];
          if (reply?.status === 'fulfilled' && Number(reply.value) === 0 && this.entries.get(pid) === e) {
            // Redis lost it (restart): write it again
            e.version++;
            void this.write(pid, e);
          }
        });
        const failed = replies.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) this.opts.logger.warn({ err: (failed.reason as Error).message }, 'refreshing some recovery sessions failed');
      }
      // entries whose write failed are retried here
      for (const [pid, e] of this.entries) if (!e.writing && e.written < e.version) void this.write(pid, e);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'refreshing recovery sessions failed');
    } finally {
      this.refreshing = false;
    }
  }
}

function parseSession(text: string): StoredSession | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const s = value as Record<string, unknown>;
  if (typeof s['sid'] !== 'string' || typeof s['pid'] !== 'string' || !Array.isArray(s['rooms']) || !s['rooms'].every((r) => typeof r === 'string')) return null;
  return { sid: s['sid'], pid: s['pid'], rooms: s['rooms'], data: s['data'] };
}
