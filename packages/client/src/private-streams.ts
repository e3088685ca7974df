/**
 * Private streams (orders, trades, compliance, system alerts) delivered once and in order across
 * drops, token refreshes and reconnects: duplicates are dropped, events after a hole are held,
 * the gateway is asked to `resume` from the last seq held, and what it cannot replay is read from
 * the REST event log; what nobody holds any more is reported once as `stream-gap`.
 */
import { ClientEvent, DataEvent, SYSTEM_STREAM, ServerEvent, rooms, type DataEventName, type Envelope } from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { QuantEnergxError } from './errors.js';
import type { EventLogApi } from './event-log-api.js';
import { OrderedStreams } from './ordered-streams.js';
import type { Requests } from './requests.js';
import type { Session } from './session.js';
import type { Subscriptions } from './subscriptions.js';

/** The gateway's limit on streams in one `resume`, and the event log's page size. */
const RESUME_CHUNK = 16;
const LOG_PAGE = 1000;

interface PrivateEvent {
  event: DataEventName;
  envelope: Envelope;
}

/** The stream a data envelope belongs to (`orders-user-1`, `system`), or null for market data. */
export function streamOf(event: DataEventName, envelope: Envelope): string | null {
  const owner = () => envelope.userId ?? (envelope.payload as { userId?: string }).userId ?? '';
  switch (event) {
    case DataEvent.SystemAlert:
      return SYSTEM_STREAM;
    case DataEvent.TradeUpdate:
      return rooms.trading(owner());
    case DataEvent.OrderUpdate:
      return rooms.orders(owner());
    case DataEvent.ComplianceAlert:
      return rooms.compliance(owner());
    default:
      return null;
  }
}

export class PrivateStreams {
  private readonly ordered = new OrderedStreams<PrivateEvent>();
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly readingLog = new Set<string>();
  private readonly gapTimeoutMs: number;

  constructor(
    private readonly ctx: ClientContext,
    private readonly requests: Requests,
    private readonly session: Session,
    private readonly log: EventLogApi,
    private readonly follows: () => Subscriptions,
  ) {
    this.gapTimeoutMs = ctx.options.gapTimeoutMs ?? 3_000;
  }

  install(): void {
    const s = this.ctx.socket;
    s.on(ServerEvent.TradeUpdate, (envelope) => this.receive(DataEvent.TradeUpdate, envelope));
    s.on(ServerEvent.OrderUpdate, (envelope) => this.receive(DataEvent.OrderUpdate, envelope));
    s.on(ServerEvent.ComplianceAlert, (envelope) => this.receive(DataEvent.ComplianceAlert, envelope));
    s.on(ServerEvent.SystemAlert, (envelope) => this.receive(DataEvent.SystemAlert, envelope));
  }

  positions(): Record<string, number> {
    return this.ordered.positions();
  }

  /** Where the system stream stands, read once after the first sign-in. */
  authenticated(): void {
    if (this.ordered.position(SYSTEM_STREAM) === undefined) void this.readPosition(SYSTEM_STREAM);
  }

  close(): void {
    for (const t of this.gapTimers.values()) clearTimeout(t);
    this.gapTimers.clear();
  }

  forget(stream: string): void {
    this.ordered.forget(stream);
    const timer = this.gapTimers.get(stream);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(stream);
  }

  async resumeAll(session: number): Promise<void> {
    try {
      await this.resume(undefined, session);
    } catch (err) {
      if (session === this.session.session && this.ctx.socket.connected) this.ctx.report(err);
    }
  }

  /**
   * `resume {stream: lastSeq}` for the given streams (default: all): the gateway replays what
   * followed. A full replay means more may remain, which is then read from the REST event log.
   */
  private async resume(only: readonly string[] | undefined, session = this.session.session): Promise<void> {
    const entries = Object.entries(this.ordered.positions()).filter(([s]) => !only || only.includes(s));
    const limit = this.ctx.options.serverReplayLimit ?? 1000;
    for (let i = 0; i < entries.length; i += RESUME_CHUNK) {
      let chunk = entries.slice(i, i + RESUME_CHUNK);
      while (chunk.length > 0) {
        if (session !== this.session.session || !this.ctx.socket.connected) return;
        try {
          this.ctx.stats.resumes++;
          const result = await this.requests.call(ClientEvent.Resume, Object.fromEntries(chunk));
          for (const [stream, r] of Object.entries(result.streams)) {
            if (r.replayed >= limit) void this.readLog(stream, r.lastSeq, false);
          }
          break;
        } catch (err) {
          // a stream the gateway no longer has us in: stop tracking it, resume the others
          const field = err instanceof QuantEnergxError && (err.code === 'FORBIDDEN' || err.code === 'INVALID_STREAM') ? err.field : undefined;
          if (field === undefined) throw err;
          chunk = chunk.filter(([s]) => s !== field);
          this.forget(field);
        }
      }
    }
  }

  /** Delivers a private event in order (held behind a hole, dropped when seen before). */
  receive(event: DataEventName, envelope: Envelope): void {
    const stream = streamOf(event, envelope);
    if (stream === null || typeof envelope.seq !== 'number') {
      this.deliver({ event, envelope });
      return;
    }
    if (this.follows().isDropped(stream)) return;
    const hadGap = this.ordered.gap(stream) !== null;
    const { deliver, duplicate } = this.ordered.receive(stream, envelope.seq, { event, envelope });
    if (duplicate) this.ctx.stats.duplicatesDropped++;
    for (const item of deliver) this.deliver(item);
    const gap = this.ordered.gap(stream);
    if (gap) this.onGap(stream);
    else if (hadGap) {
      this.ctx.stats.gapsRecovered++;
      const timer = this.gapTimers.get(stream);
      if (timer) clearTimeout(timer);
      this.gapTimers.delete(stream);
    }
  }

  private deliver(item: PrivateEvent): void {
    (this.ctx.emit as (event: DataEventName, envelope: Envelope) => void)(item.event, item.envelope);
  }

  /** Events are missing before the ones held: ask the gateway now, the event log if that is not enough. */
  private onGap(stream: string): void {
    if (this.readingLog.has(stream) || this.gapTimers.has(stream)) return;
    this.gapTimers.set(
      stream,
      setTimeout(() => {
        this.gapTimers.delete(stream);
        void this.readLog(stream, undefined, true);
      }, this.gapTimeoutMs),
    );
    if (this.session.authenticated) void this.resume([stream]).catch((err: unknown) => this.ctx.report(err));
  }

  /**
   * Reads a stream from the REST event log after `after` (default: where we stand) and feeds
   * what it finds through the same in-order path. With `giveUp`, missing events the log no longer
   * holds are reported as a `stream-gap` and the events held behind them released.
   */
  private async readLog(stream: string, after: number | undefined, giveUp: boolean): Promise<void> {
    const from = after ?? this.ordered.gap(stream)?.after ?? this.ordered.position(stream);
    if (from === undefined || this.readingLog.has(stream) || this.session.closed) return;
    this.readingLog.add(stream);
    let complete = false;
    try {
      const token = await this.session.currentToken();
      let cursor = from;
      for (;;) {
        this.ctx.stats.logReads++;
        const page = await this.log.page(stream, cursor, LOG_PAGE, token);
        for (const e of page.events) this.receive(e.event, e.envelope);
        const lastEvent = page.events.at(-1);
        if (!page.hasMore || !lastEvent) break;
        cursor = lastEvent.seq;
      }
      complete = true;
    } catch (err) {
      this.ctx.report(err);
    } finally {
      this.readingLog.delete(stream);
    }
    if (this.session.closed || this.follows().isDropped(stream)) return;
    if (complete && giveUp) {
      for (let skipped = this.ordered.skipGap(stream); skipped; skipped = this.ordered.skipGap(stream)) {
        this.ctx.stats.eventsLost += skipped.missing.to - skipped.missing.from + 1;
        this.ctx.emit('stream-gap', { stream, ...skipped.missing });
        for (const item of skipped.deliver) this.deliver(item);
      }
    } else if (this.ordered.gap(stream)) {
      this.onGap(stream);
    }
  }

  /** Where a stream stands when it is first followed, so a reconnect before its first event loses nothing. */
  async readPosition(stream: string): Promise<void> {
    if (this.ctx.options.fetchStreamPositions === false) return;
    try {
      const token = await this.session.currentToken();
      const last = await this.log.lastSeq(stream, token);
      if (!this.follows().isDropped(stream)) this.ordered.setFloor(stream, last);
    } catch (err) {
      this.ctx.report(err);
    }
  }
}
