import { wireError, type MarketStatusPayload, type WireError } from '@qx/protocol';
import type { MarketStatusName, MarketStatusRecord } from './journal.js';
import { isoTime } from './wire.js';

/** A commodity's status as the exchange reports it (times in ms). */
export interface MarketStatusView {
  commodity: string;
  status: MarketStatusName;
  reason: string;
  /** when the commodity entered this status */
  since: number;
  /** a halt's planned end; null when not halted or halted until reopened */
  until: number | null;
  /** +1 per change of what the commodity shows (0: never changed since it was listed) */
  seq: number;
}

/** A status change, as the `market-status` event carries it (numbered by the exchange, per commodity). */
export type MarketStatusChange = MarketStatusPayload;

/** What one status operation did: the record to journal, and the change to publish (none when only the cause changed). */
export interface StatusTransition {
  record: MarketStatusRecord;
  change: MarketStatusChange | null;
}

export const OPEN_REASON = {
  session: 'Trading session open',
  reopened: 'Reopened',
  haltEnded: 'Halt ended',
} as const;
export const CLOSED_REASON = 'Trading session closed';

interface StatusState {
  halt: { reason: string; since: number; until: number | null } | null;
  closed: { reason: string; since: number } | null;
  /** what it shows; null until its first change: open since its trading session started */
  view: MarketStatusView | null;
}

/**
 * Each commodity's market status. Two things can stop a market: a halt (velocity or an
 * operator's; with an end time or until reopened) and a closed trading session. A halt shows
 * over a closure; when it ends, a market still closed shows closed. While either holds, new
 * orders and amends are refused (MARKET_HALTED / MARKET_CLOSED); cancels are not, and resting
 * orders stay. Every change is a journal record; a change of what clients see is also a
 * `market-status` event.
 */
export class MarketStatusBoard {
  private readonly states = new Map<string, StatusState>();

  /** `sessionStart(c)`: when c's trading session started (a market that never changed is open since then). */
  constructor(
    commodities: readonly string[],
    private readonly sessionStart: (commodity: string) => number,
  ) {
    for (const commodity of commodities) this.states.set(commodity, { halt: null, closed: null, view: null });
  }

  has(commodity: string): boolean {
    return this.states.has(commodity);
  }

  view(commodity: string): MarketStatusView | null {
    const s = this.states.get(commodity);
    return s === undefined ? null : this.shown(commodity, s);
  }

  views(): MarketStatusView[] {
    return [...this.states].map(([commodity, s]) => this.shown(commodity, s));
  }

  isOpen(commodity: string): boolean {
    const v = this.states.get(commodity)?.view;
    return v !== undefined && (v === null || v.status === 'open');
  }

  /** Why a new order or an amend in the commodity is refused now, or null when it may trade. */
  refusal(commodity: string): WireError | null {
    const v = this.states.get(commodity)?.view;
    if (v === undefined || v === null || v.status === 'open') return null;
    if (v.status === 'halted') {
      const until = v.until === null ? 'until it is reopened' : `until ${isoTime(v.until)}`;
      return wireError('MARKET_HALTED', `Trading in ${commodity} is halted ${until}: ${v.reason}`, 'commodity');
    }
    return wireError('MARKET_CLOSED', `The ${commodity} market is closed: ${v.reason}`, 'commodity');
  }

  /** Halts the commodity (again: the new reason and end replace the old) until `until` (null: until reopened). */
  halt(commodity: string, reason: string, until: number | null, nowMs: number): StatusTransition | null {
    const s = this.states.get(commodity);
    if (s === undefined) return null;
    s.halt = { reason, since: s.halt?.since ?? nowMs, until };
    return this.settle(commodity, s, nowMs, OPEN_REASON.reopened);
  }

  /** Lifts whatever stops the commodity (a halt, a closed session). */
  reopen(commodity: string, nowMs: number): StatusTransition | null {
    const s = this.states.get(commodity);
    if (s === undefined || (s.halt === null && s.closed === null)) return null;
    s.halt = null;
    s.closed = null;
    return this.settle(commodity, s, nowMs, OPEN_REASON.reopened);
  }

  /** Closes the commodity's trading session (a halt, if any, still shows). */
  closeSession(commodity: string, nowMs: number): StatusTransition | null {
    const s = this.states.get(commodity);
    if (s === undefined || s.closed !== null) return null;
    s.closed = { reason: CLOSED_REASON, since: nowMs };
    return this.settle(commodity, s, nowMs, OPEN_REASON.session);
  }

  /** Opens the commodity's trading session (a halt, if any, still holds). */
  openSession(commodity: string, nowMs: number): StatusTransition | null {
    const s = this.states.get(commodity);
    if (s === undefined || s.closed === null) return null;
    s.closed = null;
    return this.settle(commodity, s, nowMs, OPEN_REASON.session);
  }

  /** Ends the halts whose time is up (`until` ≤ now), in commodity order. */
  expireHalts(nowMs: number): StatusTransition[] {
    const out: StatusTransition[] = [];
    for (const [commodity, s] of this.states) {
      if (s.halt === null || s.halt.until === null || s.halt.until > nowMs) continue;
      s.halt = null;
      out.push(this.settle(commodity, s, nowMs, OPEN_REASON.haltEnded));
    }
    return out;
  }

  /** The earliest planned end of a halt, or null when none is planned. */
  nextChange(): number | null {
    let next: number | null = null;
    for (const s of this.states.values()) {
      const until = s.halt?.until ?? null;
      if (until !== null && (next === null || until < next)) next = until;
    }
    return next;
  }

  /** Restore: takes a journaled status as it was (no event). Unknown commodities are skipped (false). */
  restore(record: MarketStatusRecord): boolean {
    const s = this.states.get(record.commodity);
    if (s === undefined) return false;
    s.halt = record.halt === null ? null : { ...record.halt };
    s.closed = record.closed === null ? null : { ...record.closed };
    s.view = { commodity: record.commodity, status: record.status, reason: record.reason, since: record.since, until: record.until, seq: record.seq ?? 0 };
    return true;
  }

  private shown(commodity: string, s: StatusState): MarketStatusView {
    return s.view === null ? { commodity, status: 'open', reason: OPEN_REASON.session, since: this.sessionStart(commodity), until: null, seq: 0 } : { ...s.view };
  }

  /** Recomputes what the commodity shows after its causes changed. */
  private settle(commodity: string, s: StatusState, nowMs: number, openReason: string): StatusTransition {
    const before = this.shown(commodity, s);
    let next: MarketStatusView;
    const seq = before.seq + 1;
    if (s.halt !== null) next = { commodity: before.commodity, status: 'halted', reason: s.halt.reason, since: nowMs, until: s.halt.until, seq };
    else if (s.closed !== null) next = { commodity: before.commodity, status: 'closed', reason: s.closed.reason, since: nowMs, until: null, seq };
    else next = { commodity: before.commodity, status: 'open', reason: openReason, since: nowMs, until: null, seq };
    const shows = next.status !== before.status || next.reason !== before.reason || next.until !== before.until;
    if (next.status === before.status) next.since = before.since;
    if (shows) s.view = next;
    const record: MarketStatusRecord = {
      ...this.shown(commodity, s),
      halt: s.halt === null ? null : { ...s.halt },
      closed: s.closed === null ? null : { ...s.closed },
      updatedAt: nowMs,
    };
    return { record, change: shows ? toChange(next) : null };
  }
}

export function toChange(v: MarketStatusView): MarketStatusChange {
  return { commodity: v.commodity, status: v.status, reason: v.reason, since: isoTime(v.since), until: v.until === null ? null : isoTime(v.until), seq: v.seq };
}
