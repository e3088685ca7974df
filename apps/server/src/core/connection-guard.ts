/**
 * Cancel-on-disconnect, as a trading desk knows it from Deribit and CME: a connection asks that,
 * should it end and not come back, the orders placed through it (scope `connection`) or all its
 * user's orders once the user's last such connection is gone (scope `account`) be cancelled.
 *
 * The trading core keeps the registrations — not the gateway, which may be the thing that dies —
 * and journals every change with the step that makes it, so a new engine leader (or the single
 * process after a restart) still cancels what it must. A connection is lost when its gateway
 * says so (the socket closed), or when its gateway is gone (its node no longer alive); it is
 * cancelled `graceMs` later unless it came back meanwhile (connection state recovery, on any
 * node). Pure bookkeeping: the caller commits the records it returns and cancels what `due` lists.
 */
import type { ConnectionRecord } from '@qx/engine';
import type { CancelOnDisconnectScope } from '@qx/protocol';

export const CANCEL_ON_DISCONNECT_REASON = 'cancel_on_disconnect';

/** At most this many order ids are kept per connection (the oldest closed ones are dropped first). */
const MAX_ORDERS_PER_CONNECTION = 10_000;

export class ConnectionGuard {
  private readonly connections = new Map<string, ConnectionRecord>();

  constructor(private readonly graceMs: number) {}

  /** Takes a journaled registration back (a tombstone is dropped). */
  restore(record: ConnectionRecord): void {
    if (record.scope === 'off') this.connections.delete(record.id);
    else this.connections.set(record.id, { ...record, orders: [...record.orders] });
  }

  scopeOf(id: string): CancelOnDisconnectScope {
    return this.connections.get(id)?.scope ?? 'off';
  }

  /** Sets a connection's scope (`off`: forgets it). Null when another user holds that connection id. */
  register(id: string, userId: string, node: string, scope: CancelOnDisconnectScope, nowMs: number): ConnectionRecord | null {
    const known = this.connections.get(id);
    if (known && known.userId !== userId) return null;
    const record: ConnectionRecord = { id, userId, node, scope, orders: known?.orders ?? [], lostAt: null, updatedAt: nowMs };
    if (scope === 'off') {
      this.connections.delete(id);
      return { ...record, orders: [] };
    }
    this.connections.set(id, record);
    return { ...record, orders: [...record.orders] };
  }

  /**
   * An order placed through a connection: remembered when the connection cancels its own orders.
   * `isOpen` drops the ids of orders that have finished meanwhile. Null when nothing changed.
   */
  placed(id: string, userId: string, orderId: string, isOpen: (orderId: string) => boolean, nowMs: number): ConnectionRecord | null {
    const c = this.connections.get(id);
    if (!c || c.userId !== userId || c.scope !== 'connection' || c.orders.includes(orderId)) return null;
    const orders = c.orders.filter(isOpen);
    orders.push(orderId);
    if (orders.length > MAX_ORDERS_PER_CONNECTION) orders.splice(0, orders.length - MAX_ORDERS_PER_CONNECTION);
    c.orders = orders;
    c.updatedAt = nowMs;
    return { ...c, orders: [...orders] };
  }

  /** The connection ended (it may still come back within the grace). */
  lost(id: string, atMs: number): ConnectionRecord | null {
    const c = this.connections.get(id);
    if (!c || c.lostAt !== null) return null;
    c.lostAt = atMs;
    c.updatedAt = atMs;
    return { ...c, orders: [...c.orders] };
  }

  /** The connection came back (recovered, possibly on another node): nothing is cancelled. */
  restored(id: string, node: string, nowMs: number): ConnectionRecord | null {
    const c = this.connections.get(id);
    if (!c || (c.lostAt === null && c.node === node)) return null;
    c.lostAt = null;
    c.node = node;
    c.updatedAt = nowMs;
    return { ...c, orders: [...c.orders] };
  }

  /** Nodes that have connections not known to be lost (their liveness is watched). */
  liveNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const c of this.connections.values()) if (c.lostAt === null) nodes.add(c.node);
    return nodes;
  }

  /** A node is gone: each of its connections is lost as of `atMs`. */
  nodeLost(node: string, atMs: number): ConnectionRecord[] {
    const out: ConnectionRecord[] = [];
    for (const c of this.connections.values()) {
      if (c.node !== node || c.lostAt !== null) continue;
      c.lostAt = atMs;
      c.updatedAt = atMs;
      out.push({ ...c, orders: [...c.orders] });
    }
    return out;
  }

  /**
   * The lost connections whose grace is over, each with what to cancel: the orders placed through
   * it, or every order of its user (scope `account`, when no other account-scoped connection of
   * the user is still there). Each is forgotten (its tombstone to journal comes with it).
   */
  due(nowMs: number): { record: ConnectionRecord; cancel: { userId: string; orders: string[] } | { userId: string; all: true } | null }[] {
    const out: { record: ConnectionRecord; cancel: { userId: string; orders: string[] } | { userId: string; all: true } | null }[] = [];
    for (const c of [...this.connections.values()]) {
      if (c.lostAt === null || c.lostAt + this.graceMs > nowMs) continue;
      this.connections.delete(c.id);
      let cancel: { userId: string; orders: string[] } | { userId: string; all: true } | null = null;
      if (c.scope === 'connection') cancel = c.orders.length ? { userId: c.userId, orders: [...c.orders] } : null;
      else if (!this.hasAccountScope(c.userId)) cancel = { userId: c.userId, all: true };
      out.push({ record: { ...c, scope: 'off', orders: [], updatedAt: nowMs }, cancel });
    }
    return out;
  }

  /** When the next lost connection's grace ends (null: none is lost). */
  nextDue(): number | null {
    let next: number | null = null;
    for (const c of this.connections.values()) {
      if (c.lostAt === null) continue;
      const at = c.lostAt + this.graceMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Whether the user still has an account-scoped connection (connected, or lost but within its grace). */
  private hasAccountScope(userId: string): boolean {
    for (const c of this.connections.values()) if (c.userId === userId && c.scope === 'account') return true;
    return false;
  }
}
