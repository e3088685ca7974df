/** The sockets each user holds on this node (one process: the whole deployment). */
import type { UserPresence } from '../backplane.js';

export class LocalPresence implements UserPresence {
  private readonly sockets = new Map<string, Set<string>>();

  tryAdd(userId: string, socketId: string, limit: number): Promise<{ ok: boolean }> {
    let set = this.sockets.get(userId);
    if (set?.has(socketId)) return Promise.resolve({ ok: true });
    if ((set?.size ?? 0) >= limit) return Promise.resolve({ ok: false });
    if (!set) this.sockets.set(userId, (set = new Set()));
    set.add(socketId);
    return Promise.resolve({ ok: true });
  }

  remove(userId: string, socketId: string): void {
    const set = this.sockets.get(userId);
    if (!set?.delete(socketId)) return;
    if (set.size === 0) this.sockets.delete(userId);
  }
}
