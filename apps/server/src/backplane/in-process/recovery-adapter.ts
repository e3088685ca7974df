/**
 * Connection state recovery for our data plane. Socket.IO keeps a disconnected socket's session
 * (id, rooms, data) for a while and restores it when the client comes back with its session id;
 * the stock adapter then insists on finding the client's offset among the packets it broadcast
 * itself. Our data events do not go through the adapter (the hub writes them), and the missed
 * ones are replayed from the durable event log instead — so this adapter restores the session
 * whatever the offset, and leaves `missedPackets` empty.
 */
import { Adapter, type PrivateSessionId, type Session } from 'socket.io-adapter';

type SessionToPersist = Omit<Session, 'missedPackets'>;

/**
 * Whether a saved session may be recovered: false when what it may have missed is more than one
 * replay sends (the bound), so the client starts a fresh session instead of a silently short one.
 */
export type CanRecover = (data: unknown) => boolean | Promise<boolean>;

/** The single-process adapter, with the recovery bound. */
export function recoveryAdapter(canRecover: CanRecover): typeof Adapter {
  return class BoundedRecoveryAdapter extends RecoveryAdapter {
    override async restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
      const session = await super.restoreSession(pid, offset);
      return (session && (await canRecover(session.data)) ? session : null) as unknown as Session;
    }
  };
}

export class RecoveryAdapter extends Adapter {
  private readonly sessions = new Map<PrivateSessionId, { session: SessionToPersist; disconnectedAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(nsp: unknown) {
    super(nsp);
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private get windowMs(): number {
    const opts = (this.nsp as { server: { opts: { connectionStateRecovery?: { maxDisconnectionDuration?: number } } } }).server.opts;
    return opts.connectionStateRecovery?.maxDisconnectionDuration ?? 0;
  }

  override persistSession(session: SessionToPersist): void {
    this.sessions.set(session.pid, { session, disconnectedAt: Date.now() });
  }

  override restoreSession(pid: PrivateSessionId, _offset: string): Promise<Session> {
    const entry = this.sessions.get(pid);
    this.sessions.delete(pid);
    if (!entry || Date.now() - entry.disconnectedAt > this.windowMs) return Promise.resolve(null as unknown as Session);
    return Promise.resolve({ ...entry.session, missedPackets: [] });
  }

  override close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.windowMs;
    for (const [pid, entry] of this.sessions) if (entry.disconnectedAt < cutoff) this.sessions.delete(pid);
  }
}
