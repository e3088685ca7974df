/**
 * The writer's side of the bus in a cluster: committed events go out on Redis, in commit order.
 * A publish that fails (Redis down or restarting) is retried, in order, with backoff; the events
 * are already in PostgreSQL, so a gateway that never sees them on the bus still finds them — by
 * the seq gap the next event shows, or by the re-check after its own Redis connection comes back.
 * The outbox is bounded: past `maxQueued` the oldest are dropped from it (and only from it).
 *
 * On a Redis Cluster one shard may be away (a failover) while the others serve: a batch of which
 * only some streams were published (PartialPublishError) keeps the others' events, in order, and
 * is tried again soon, so the streams of the other shards keep flowing meanwhile.
 */
import type { Logger } from 'pino';
import type { BusEvent, EventBus } from '../../backplane.js';
import { reconnectDelay } from './redis-connection.js';
import { PartialPublishError } from './redis-bus.js';
import { traceBusWrite, tracer } from '../../../tracing/order-tracing.js';
import { wallClock } from '../../../core/wall-clock.js';

export interface BusOutboxOptions {
  publish: (events: readonly BusEvent[]) => Promise<unknown>;
  logger: Logger;
  /** most events waiting to be published (default 100,000) */
  maxQueued?: number;
  /** most events per publish (default 500) */
  batchSize?: number;
}

/** how soon a batch of which some streams went out is tried again */
const PARTIAL_RETRY_MS = 50;

export class BusOutbox implements EventBus {
  private readonly queue: BusEvent[] = [];
  private running = false;
  /** failed publishes in a row with nothing published (the backoff) */
  private failures = 0;
  /** failed publishes since the last one that went out whole (for the log) */
  private failed = 0;
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

  /** Redis is back: try what waits now rather than at the end of the backoff. */
  retryNow(): void {
    if (!this.timer || this.closed) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.kick();
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
        this.failed = 0;
      } catch (err) {
        const partial = err instanceof PartialPublishError;
        // a batch partly published is progress: the backoff starts again when nothing goes out
        this.failures = partial ? 0 : this.failures + 1;
        this.failed++;
        if (this.failed === 1 || this.failed % 20 === 0) {
          this.opts.logger.warn({ err, queued: this.queue.length, failures: this.failed }, 'bus publish failed; retrying');
        }
        let delay = reconnectDelay(this.failures);
        if (partial) {
          // what went out leaves the queue; the rest stays where it was, in order
          this.queue.splice(0, batch.length, ...batch.filter((e) => !err.published.has(e.stream)));
          delay = PARTIAL_RETRY_MS;
        }
        this.running = false;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.kick();
        }, delay);
        this.timer.unref();
        return;
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
