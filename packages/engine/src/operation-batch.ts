import type { CommodityMarket } from './commodity-market.js';
import type { EngineBatch, EngineEvent, MarketPrint } from './events.js';
import type { JournalRecord } from './journal.js';
import type { MarketStatusChange, StatusTransition } from './market-status.js';
import type { Order } from './order.js';
import type { Position } from './position.js';
import { isoTime } from './wire.js';

/**
 * What one exchange operation changed: events in publication order, journal records, and the
 * real users' orders and positions to journal (once each) when the operation finishes.
 */
export class OperationBatch {
  events: EngineEvent[] = [];
  journal: JournalRecord[] = [];
  prints: MarketPrint[] = [];
  marketStatus: MarketStatusChange[] = [];
  readonly orders = new Set<Order>();
  readonly positions = new Set<Position>();
  /** the market that traded during the operation (volatility is observed once, at the end) */
  traded: CommodityMarket | null = null;
  now = 0;
  private iso: string | null = null;

  begin(nowMs: number): this {
    // the arrays were handed out by the previous take(); only an unfinished batch leaves any
    if (this.events.length > 0) this.events = [];
    if (this.journal.length > 0) this.journal = [];
    if (this.prints.length > 0) this.prints = [];
    if (this.marketStatus.length > 0) this.marketStatus = [];
    if (this.orders.size > 0) this.orders.clear();
    if (this.positions.size > 0) this.positions.clear();
    this.traded = null;
    this.now = nowMs;
    this.iso = null;
    return this;
  }

  /** ISO time of the operation, computed once. */
  get timestamp(): string {
    this.iso ??= isoTime(this.now);
    return this.iso;
  }

  /** A market status transition: journaled, and published when it changes what clients see. */
  addStatus(transition: StatusTransition | null): void {
    if (transition === null) return;
    this.journal.push({ kind: 'market-status', status: transition.record });
    if (transition.change !== null) this.marketStatus.push(transition.change);
  }

  take(): EngineBatch {
    const out: EngineBatch = { events: this.events, journal: this.journal };
    if (this.prints.length > 0) {
      out.prints = this.prints;
      this.prints = [];
    }
    if (this.marketStatus.length > 0) {
      out.marketStatus = this.marketStatus;
      this.marketStatus = [];
    }
    this.events = [];
    this.journal = [];
    return out;
  }
}
