/**
 * Connection state recovery across the cluster. Socket.IO saves a session only when a socket
 * closes cleanly, which a crashed gateway never does; so here the session of every recoverable
 * socket (its id, private id, rooms and data — the authentication and where each stream stands)
 * is written to Redis whenever it changes — a join, a leave, a sign-in, a confirmed delivery —
 * with the recovery window as TTL, renewed while the socket is connected. A client that comes back
 * on any gateway with its private id gets its session there; the events it missed are replayed
 * from the Redis history or PostgreSQL by the channels (the adapter's `missedPackets` stay empty,
 * as in one process: our data events do not go through the adapter).
 */
import { Adapter, type PrivateSessionId, type Session } from 'socket.io-adapter';
import type { RedisSessionStore, StoredSession } from './session-store.js';
import type { QxSocket } from '../../../realtime/types.js';

export interface ClusterRecoveryOptions {
  sessions: RedisSessionStore;
  windowMs: number;
  /** false: too much was missed to replay in one go; the client gets a fresh session */
  canRecover?: (data: unknown) => boolean | Promise<boolean>;
}

export interface SessionTracker {
  /** the socket's session changed outside the adapter (its data): save it again */
  touch(socket: QxSocket): void;
}

export function clusterRecoveryAdapter(opts: ClusterRecoveryOptions): typeof Adapter {
  return class ClusterRecoveryAdapter extends Adapter implements SessionTracker {
    private readonly pids = new Map<string, string>();
    private readonly dirty = new Set<string>();
    private scheduled = false;

    override addAll(id: string, rooms: Set<string>): void {
      void super.addAll(id, rooms);
      this.mark(id);
    }

    override del(id: string, room: string): void {
      void super.del(id, room);
      if (this.sids.has(id)) this.mark(id);
    }

    override delAll(id: string): void {
      super.delAll(id);
      const pid = this.pids.get(id);
      this.pids.delete(id);
      this.dirty.delete(id);
      if (!pid) return;
      // the socket is gone: a recoverable close saved its session just before (persistSession), whose
      // TTL now runs; one the server closed for good (abuse, an operator) must not be recovered
      if (this.persisted.delete(pid)) void opts.sessions.save(pid, this.lastSaved.get(pid) ?? { sid: id, pid, rooms: [], data: {} }, opts.windowMs, { connected: false });
      else opts.sessions.drop(pid).catch(() => undefined);
      this.lastSaved.delete(pid);
    }

    private readonly lastSaved = new Map<string, StoredSession>();
    /** sessions Socket.IO persisted on a recoverable close, until the socket's rooms are cleaned up */
    private readonly persisted = new Set<string>();

    touch(socket: QxSocket): void {
      this.mark(socket.id);
    }

    override persistSession(session: StoredSession): void {
      this.persisted.add(session.pid);
      this.lastSaved.set(session.pid, session);
      void opts.sessions.save(session.pid, session, opts.windowMs, { connected: false });
    }

    override async restoreSession(pid: PrivateSessionId, _offset: string): Promise<Session> {
      const session = await opts.sessions.take(pid);
      if (session && opts.canRecover && !(await opts.canRecover(session.data))) return null as unknown as Session;
      return (session ? { ...session, missedPackets: [] } : null) as unknown as Session;
    }

    private mark(id: string): void {
      this.dirty.add(id);
      if (this.scheduled) return;
      this.scheduled = true;
      // one save per socket per turn, after every change of that turn
      setImmediate(() => this.flush());
    }

    private flush(): void {
      this.scheduled = false;
      const sockets = (this.nsp as unknown as { sockets: Map<string, QxSocket> }).sockets;
      for (const id of this.dirty) {
        const socket = sockets.get(id);
        // the private id Socket.IO gives a recoverable socket (and the client sends back to recover)
        const pid = (socket as unknown as { pid?: string } | undefined)?.pid;
        if (!socket || !pid || !socket.connected) continue;
        this.pids.set(id, pid);
        const session: StoredSession = { sid: socket.id, pid, rooms: [...socket.rooms], data: socket.data };
        this.lastSaved.set(pid, session);
        void opts.sessions.save(pid, session, opts.windowMs, { connected: true });
      }
      this.dirty.clear();
    }
  };
}
