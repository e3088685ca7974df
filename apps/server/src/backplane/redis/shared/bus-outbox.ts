/**
 * The writer's side of the bus in a cluster: committed events go out on Redis, in commit order.
 * A publish that fails (Redis down or restarting) is retried, in order, with backoff; the events
 * are already in PostgreSQL, so a gateway that never sees them on the bus still finds them — by
 * the seq gap the next event shows, or by the re-check after its own Redis connection comes back.
 * The outbox is bounded: past `maxQueued` the oldest are dropped from it (and only from it).
 */
import type { Logger } from 'pino';
import type { BusEvent, EventBus } from '../../backplane.js';
import { reconnectDelay } from './redis-connection.js';
import { traceBusWrite, tracer } from '../../../tracing/order-tracing.js';
import { wallClock } from '../../../core/wall-clock.js';

export interface BusOutboxOptions {
  publish: (events: readonly BusEvent[]) => Promise<unknown>;
  logger: Logger;
  /** most events waiting to be published (default 100,000) */
  maxQueued?: number;
  /** most events per publish script (default 500) */
  batchSize?: number;
}

export class BusOutbox implements EventBus {
  private readonly queue: BusEvent[] = [];
  private running = false;
  private failures = 0;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  /** events dropped from the outbox because it was full (the store still has them) */
  dropped = 0;

  constructor(private readonly opts: BusOutboxOptions) {}

  publish(events: readonly BusEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) {
      // one that Redis would refuse for ever must not hold back every event behind it
      if (!Number.isSafeInteger(e.seq) || e.seq < 1) {
        this.opts.logger.error({ stream: e.stream, seq: e.seq, event: e.event }, 'an event without a valid seq was not published');
        continue;
      }
      this.queue.push(e);
    }
    const max = this.opts.maxQueued ?? 100_000;
    if (this.queue.length > max) {
      const excess = this.queue.length - max;
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.opts.logger.error({ dropped: excess }, 'bus outbox full: oldest events not published (gateways read them from the store)');
    }
    this.kick();
  }

  /** How many events wait to go out. */
  get size(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far has been published (or `timeoutMs` passed). */
  idle(timeoutMs = 5000): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private kick(): void {
    if (this.running || this.closed || this.timer) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    const batchSize = this.opts.batchSize ?? 500;
    while (this.queue.length && !this.closed) {
      const batch = this.queue.slice(0, batchSize);
      const startedAt = tracer ? wallClock() : 0;
      try {
        await this.opts.publish(batch);
        if (tracer) traceBusWrite(batch, startedAt);
        this.queue.splice(0, batch.length);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.opts.logger.warn({ err, queued: this.queue.length, failures: this.failures }, 'bus publish failed; retrying');
        }
        this.running = false;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.kick();
        }, reconnectDelay(this.failures));
        this.timer.unref();
        return;
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
