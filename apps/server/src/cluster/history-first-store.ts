/**
 * A gateway's view of the store: the PostgreSQL store, except that replays read the Redis history
 * first — recent events are there, and PostgreSQL is spared the reads of a reconnect storm —
 * and PostgreSQL for whatever the history does not cover (trimmed, expired, lost in a restart).
 */
import type { Logger } from 'pino';
import { isDataEvent } from '@qx/protocol';
import type { RedisBus } from './redis-bus.js';
import type { LoggedEvent, Store } from '../store/store.js';

export function historyFirst(store: Store, bus: RedisBus, logger: Logger): Store {
  const readEvents = async (stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> => {
    let fromHistory: LoggedEvent[] = [];
    try {
      const h = await bus.history(stream, afterSeq, limit);
      // the event log's streams only (the tape's market-trade never is one of them)
      fromHistory = h.events.flatMap((m) => (isDataEvent(m.event) ? [{ stream, seq: m.seq, event: m.event, envelope: m.envelope, createdAt: 0 }] : []));
      if (h.complete) return fromHistory;
    } catch (err) {
      logger.debug({ err, stream }, 'history unavailable: reading the store');
    }
    const last = fromHistory.at(-1)?.seq ?? afterSeq;
    const rest = await store.readEvents(stream, last, limit - fromHistory.length);
    return fromHistory.concat(rest);
  };
  return {
    kind: store.kind,
    commit: (write, fence) => store.commit(write, fence),
    readEvents,
    lastSeq: (s) => store.lastSeq(s),
    pruneEvents: (c) => store.pruneEvents(c),
    loadForRestore: () => store.loadForRestore(),
    loadMarketSnapshots: () => store.loadMarketSnapshots(),
    order: (id) => store.order(id),
    orders: (q) => store.orders(q),
    trades: (q) => store.trades(q),
    close: () => store.close(),
  };
}
