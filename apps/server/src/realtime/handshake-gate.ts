/**
 * Admits new Socket.IO sessions a few at a time. When a gateway dies, thousands of clients come
 * back to the survivors within the same instant; taken all at once, each one's handshake,
 * authentication, subscriptions and resume interleave with everyone else's, so every client waits
 * for nearly the whole storm, the first as long as the last. Admitted `limit` at a time (engine.io's
 * `allowRequest`), the first sessions are up and resumed at once and the rest follow in order: the
 * total is the same work, but nobody waits for work queued after theirs.
 *
 * A slot is held from the admission until the session has connected (Socket.IO's `connection`: the
 * handshake and its authentication done), until it closes, or for `holdMs` at most (a client that
 * opens a transport and never connects). Requests whose client went away while they waited are
 * dropped without taking a slot.
 */
import type { IncomingMessage } from 'node:http';

export interface HandshakeGateOptions {
  /** sessions between admission and connection at most */
  limit: number;
  /** how long an admitted session holds its slot at most, ms */
  holdMs: number;
}

export class HandshakeGate {
  private active = 0;
  private readonly queue: Array<{ req: IncomingMessage; admit: () => void }> = [];
  private readonly holding = new WeakMap<IncomingMessage, NodeJS.Timeout>();

  constructor(private readonly opts: HandshakeGateOptions) {
    if (!(opts.limit >= 1) || !(opts.holdMs > 0)) throw new RangeError('HandshakeGate needs limit >= 1 and holdMs > 0');
  }

  /** sessions waiting for a slot */
  get waiting(): number {
    return this.queue.length;
  }

  /** sessions admitted and not connected yet */
  get admitted(): number {
    return this.active;
  }

  /** Calls `admit` once `req`'s session may go on (at once while fewer than `limit` are in progress). */
  enter(req: IncomingMessage, admit: () => void): void {
    if (this.active < this.opts.limit && this.queue.length === 0) this.start(req, admit);
    else this.queue.push({ req, admit });
  }

  /** `req`'s session connected or closed: its slot goes to the next waiting one (a no-op when it holds none). */
  done(req: IncomingMessage): void {
    const timer = this.holding.get(req);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.holding.delete(req);
    this.active--;
    this.next();
  }

  private start(req: IncomingMessage, admit: () => void): void {
    this.active++;
    const timer = setTimeout(() => this.done(req), this.opts.holdMs);
    timer.unref();
    this.holding.set(req, timer);
    admit();
  }

  private next(): void {
    while (this.active < this.opts.limit && this.queue.length > 0) {
      const { req, admit } = this.queue.shift()!;
      // the client left while it waited: nothing to admit
      if (req.socket.destroyed) continue;
      this.start(req, admit);
    }
  }
}
