/**
 * The data plane. Each data event is encoded once (`OutboundFrame`); each recipient socket gets a
 * reference in its queue; once per event-loop turn every socket with pending frames is flushed in
 * one write (corked), straight onto its WebSocket when it is on one. A socket that cannot keep up
 * (its kernel-side buffer is over the limit) gets market data conflated — the latest per commodity
 * wins — and its private events queued; past the queue limit it is told why and disconnected, and
 * its private events wait in the event log for it to resume.
 */
import type { Socket as NetSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { OutboundFrame } from './frame.js';
import type { QxServer, QxSocket } from './types.js';
import type { Metrics } from '../metrics.js';
import { traceDelivery } from '../tracing/order-tracing.js';

/** Longest stretch, in ms, that one flush pass keeps the event loop before yielding. */
const SLICE_MS = 1;

export interface HubLimits {
  /** bytes waiting in a socket's write buffer above which it counts as slow */
  slowConsumerBufferBytes: number;
  /** frames a slow socket may have queued (after conflation) before it is disconnected */
  slowConsumerMaxPending: number;
}

interface EngineConn {
  readyState: string;
  writeBuffer: unknown[];
  upgrading: boolean;
  transport: { name: string; socket?: { readyState: number; _socket?: NetSocket } };
  write(data: string, options?: { wsPreEncodedFrame?: Buffer[] }): void;
}

/** The TCP socket under a WebSocket transport that may be written to directly, if there is one. */
function directSocket(conn: EngineConn): NetSocket | undefined {
  if (conn.transport.name !== 'websocket' || conn.writeBuffer.length !== 0 || conn.upgrading) return undefined;
  const ws = conn.transport.socket;
  return ws?.readyState === 1 ? ws._socket : undefined;
}

/** Live frames of one stream kept back from one socket while its replay is being read. */
interface Hold {
  count: number;
  /** the newest seq the replays delivered: held frames up to it are duplicates */
  upTo: number;
  frames: OutboundFrame[];
}

class Subscriber {
  queue: OutboundFrame[] = [];
  /** streams whose live frames wait for a replay being read (async stores only) */
  held: Map<string, Hold> | null = null;
  /** while slow: index in `queue` of the pending market frame per commodity, for conflation */
  marketAt: Map<string, number> | null = null;
  slow = false;
  scheduled = false;
  /** in the hub's urgent list: it has a private event waiting */
  urgent = false;
  private waitingDrain = false;

  constructor(
    readonly socket: QxSocket,
    private readonly hub: Hub,
  ) {}

  enqueue(frame: OutboundFrame): void {
    const key = frame.conflateKey;
    // only a slow socket's market data is conflated: a socket that keeps up sees every update
    if (key !== null && this.slow) {
      const marketAt = (this.marketAt ??= new Map<string, number>());
      const at = marketAt.get(key);
      if (at !== undefined) {
        this.queue[at] = frame.conflated ? frame.conflated() : frame;
        this.hub.metrics.conflated.inc();
        return;
      }
      marketAt.set(key, this.queue.length);
    }
    this.queue.push(frame);
    // a burst within one turn (an engine batch, a replay) is flushed at its end: only a socket
    // that has shown it cannot keep up is held to the limit
    if (this.slow && this.queue.length > this.hub.limits.slowConsumerMaxPending) {
      this.hub.dropSlowConsumer(this);
      return;
    }
    if (key === null && !this.urgent) {
      // a private event (or system alert) does not wait behind a market-data fan-out
      this.urgent = true;
      this.scheduled = true;
      this.hub.schedule(this, true);
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.hub.schedule(this);
    }
  }

  /**
   * Writes `frame` at once when nothing is queued ahead of it and the socket keeps up; false
   * when it must be queued instead (so a socket's frames always leave in order).
   */
  writeNow(frame: OutboundFrame): boolean {
    if (this.queue.length !== 0 || this.slow || this.scheduled) return false;
    const conn = this.socket.conn as unknown as EngineConn;
    if (conn.readyState !== 'open') return false;
    const raw = directSocket(conn);
    if (!raw || raw.writableLength > this.hub.limits.slowConsumerBufferBytes) return false;
    raw.write(frame.wsFrame);
    if (frame.conflateKey === null) {
      this.socket.data.written[frame.stream] = frame.seq;
      this.hub.onDurableWrite?.(this.socket);
    }
    return true;
  }

  /** Writes what is queued, unless the socket is still digesting earlier writes. */
  flush(): void {
    this.urgent = false;
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    const conn = this.socket.conn as unknown as EngineConn;
    if (conn.readyState !== 'open') {
      // closing: what is queued stays in the event log for recovery
      this.reset();
      return;
    }
    const raw = directSocket(conn);
    if (raw) {
      if (raw.writableLength > this.hub.limits.slowConsumerBufferBytes) {
        this.markSlow(raw);
        return;
      }
      this.slow = false;
      if (queue.length === 1) {
        raw.write((queue[0] as OutboundFrame).wsFrame);
      } else {
        raw.cork();
        for (const frame of queue) raw.write(frame.wsFrame);
        raw.uncork();
      }
    } else {
      // polling, or mid-upgrade: go through Engine.IO, which keeps order with its own buffer
      if (conn.writeBuffer.length > 256) {
        this.slow = true;
        setTimeout(() => this.hub.schedule(this), 50).unref();
        return;
      }
      for (const frame of queue) conn.write(frame.packet, { wsPreEncodedFrame: [frame.wsFrame] });
    }
    this.hub.recordWritten(this.socket, queue);
    this.reset();
  }

  private reset(): void {
    // reused, not reallocated: one array per socket per publish would be garbage at fan-out rates
    this.queue.length = 0;
    this.marketAt?.clear();
  }

  private markSlow(raw: NetSocket): void {
    this.slow = true;
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    raw.once('drain', () => {
      this.waitingDrain = false;
      if (!this.scheduled && this.queue.length) {
        this.scheduled = true;
        this.hub.schedule(this);
      }
    });
  }
}

export class Hub {
  private readonly subscribers = new Map<string, Subscriber>();
  /** sockets with something queued, in the order they got it; flushed from `cursor` on */
  private dirty: Subscriber[] = [];
  private cursor = 0;
  /** sockets with a private event queued: flushed first */
  private urgent: Subscriber[] = [];
  private flushScheduled = false;
  /** frames first written during the current flush, timed once it has finished */
  private justWritten: OutboundFrame[] = [];
  /** a recoverable (non-conflated) frame was written to `socket`: the gateway asks it to confirm */
  onDurableWrite: ((socket: QxSocket) => void) | null = null;

  constructor(
    private readonly io: QxServer,
    readonly limits: HubLimits,
    readonly metrics: Metrics,
    private readonly onSlowConsumer: (socket: QxSocket) => void,
  ) {}

  /**
   * Sends `frame` to every local socket in `room`; returns how many. With `direct`, a socket
   * with nothing queued gets the frame written at once, as the loop walks the room (for about
   * SLICE_MS; the rest are queued and flushed in slices); otherwise everything is queued, so that
   * a batch leaves in one write per socket.
   */
  deliverToRoom(room: string, frame: OutboundFrame, direct = false): number {
    const nsp = this.io.of('/');
    const ids = nsp.adapter.rooms.get(room);
    if (!ids || ids.size === 0) return 0;
    const start = direct ? performance.now() : 0;
    let n = 0;
    let written = 0;
    for (const id of ids) {
      const sub = this.subscribers.get(id) ?? this.subscriber(id, nsp.sockets.get(id));
      if (!sub) continue;
      n++;
      if (sub.held !== null && frame.conflateKey === null) {
        const hold = sub.held.get(frame.stream);
        if (hold) {
          hold.frames.push(frame);
          continue;
        }
      }
      if (direct && sub.writeNow(frame)) {
        written++;
        if ((written & 31) === 0 && performance.now() - start > SLICE_MS) direct = false;
      } else {
        sub.enqueue(frame);
      }
    }
    if (written && !frame.timed) {
      frame.timed = true;
      if (written === n) this.timed(frame, performance.now());
      else this.justWritten.push(frame);
    }
    if (n) this.metrics.eventsEmitted.labels(frame.event).inc(n);
    return n;
  }

  deliverToSocket(socket: QxSocket, frame: OutboundFrame): void {
    const sub = this.subscriber(socket.id, socket);
    if (!sub) return;
    sub.enqueue(frame);
    this.metrics.eventsEmitted.labels(frame.event).inc();
  }

  /**
   * Keeps `stream`'s live frames back from `socket` until `release`: while a replay (or the start
   * of a subscription) is read from a store that answers asynchronously, newer events must not
   * overtake it. Holds nest.
   */
  hold(socket: QxSocket, stream: string): void {
    const sub = this.subscriber(socket.id, socket);
    if (!sub) return;
    sub.held ??= new Map();
    const hold = sub.held.get(stream);
    if (hold) hold.count++;
    else sub.held.set(stream, { count: 1, upTo: 0, frames: [] });
  }

  /**
   * Ends one hold: `upTo` is the newest seq the caller delivered (or the subscription's start).
   * When the last hold of the stream ends, the frames kept back that are newer go out, in order.
   */
  release(socket: QxSocket, stream: string, upTo: number): void {
    const sub = this.subscribers.get(socket.id);
    const hold = sub?.held?.get(stream);
    if (!sub || !hold) return;
    hold.upTo = Math.max(hold.upTo, upTo);
    if (--hold.count > 0) return;
    sub.held!.delete(stream);
    if (sub.held!.size === 0) sub.held = null;
    let last = hold.upTo;
    for (const frame of hold.frames.sort((a, b) => a.seq - b.seq)) {
      if (frame.seq <= last) continue;
      last = frame.seq;
      sub.enqueue(frame);
    }
  }

  /** Drops what is held back from `socket` (it may no longer receive it); the holds themselves stay until released. */
  dropHeld(socket: QxSocket): void {
    const held = this.subscribers.get(socket.id)?.held;
    if (held) for (const hold of held.values()) hold.frames = [];
  }

  /** Forgets a socket that has gone (its queue, if any, is dropped: the event log keeps it). */
  detach(socketId: string): void {
    this.subscribers.delete(socketId);
  }

  schedule(sub: Subscriber, urgent = false): void {
    (urgent ? this.urgent : this.dirty).push(sub);
    this.scheduleFlush();
  }

  /**
   * Writes pending queues now: after a publish (its whole batch queued), at shutdown, or at the
   * end of the turn. Sockets with private events go first; then the fan-out proceeds in slices of
   * about SLICE_MS, yielding to the event loop in between, so an order or a fill never waits
   * behind a whole fan-out to thousands of sockets (and a socket still waiting when the next
   * publish comes gets both in one write).
   */
  readonly flushAll = (): void => {
    this.flushScheduled = false;
    const start = performance.now();
    if (this.urgent.length) {
      const urgent = this.urgent;
      this.urgent = [];
      for (const sub of urgent) sub.flush();
    }
    const dirty = this.dirty;
    let i = this.cursor;
    // new sockets may be appended while flushing; they are picked up in the same pass
    while (i < dirty.length) {
      (dirty[i] as Subscriber).flush();
      i++;
      if ((i & 31) === 0 && performance.now() - start > SLICE_MS) break;
    }
    if (i < dirty.length) {
      this.cursor = i;
      this.scheduleFlush();
    } else {
      dirty.length = 0;
      this.cursor = 0;
    }
    if (this.justWritten.length) {
      const now = performance.now();
      for (const frame of this.justWritten) this.timed(frame, now);
      this.justWritten = [];
    }
  };

  /** The frame's fan-out has been written (`now`: performance.now()): publish to emit, and an order's path. */
  private timed(frame: OutboundFrame, now: number): void {
    this.metrics.publishToEmit.observe((now - frame.publishedAt) / 1000);
    if (frame.path) {
      this.metrics.observeOrderPath(frame.path.times, frame.path.deliveredAt, performance.timeOrigin + now);
      traceDelivery(frame.event, frame.path, performance.timeOrigin + now);
    }
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  recordWritten(socket: QxSocket, frames: readonly OutboundFrame[]): void {
    const written = socket.data.written;
    let durable = false;
    for (const frame of frames) {
      if (frame.conflateKey === null) {
        written[frame.stream] = frame.seq;
        durable = true;
      }
      if (!frame.timed) {
        frame.timed = true;
        this.justWritten.push(frame);
      }
    }
    if (durable) this.onDurableWrite?.(socket);
  }

  dropSlowConsumer(sub: Subscriber): void {
    this.subscribers.delete(sub.socket.id);
    sub.queue = [];
    this.metrics.slowConsumerDisconnects.inc();
    this.onSlowConsumer(sub.socket);
  }

  private subscriber(id: string, socket: QxSocket | undefined): Subscriber | undefined {
    let sub = this.subscribers.get(id);
    if (!sub) {
      if (!socket) return undefined;
      sub = new Subscriber(socket, this);
      this.subscribers.set(id, sub);
    }
    return sub;
  }
}
