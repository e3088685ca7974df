import type { GroupStats } from './worker-protocol.js';

/** Mutable counters behind one GroupStats; cheap to bump on the hot path. */
export class GroupCounters {
  sockets = 0;
  marketUpdates = 0;
  orderUpdates = 0;
  marketSeqGaps = 0;
  orderSeqGaps = 0;
  readonly otherEvents = new Map<string, number>();
  readonly closes = new Map<string, number>();

  snapshot(open: number, lastMarketSeq: Record<string, number>): GroupStats {
    return {
      sockets: this.sockets,
      open,
      marketUpdates: this.marketUpdates,
      orderUpdates: this.orderUpdates,
      otherEvents: Object.fromEntries(this.otherEvents),
      marketSeqGaps: this.marketSeqGaps,
      orderSeqGaps: this.orderSeqGaps,
      lastMarketSeq,
      closes: Object.fromEntries(this.closes),
    };
  }
}

export function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}
