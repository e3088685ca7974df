import { wireError, type WireError } from '@qx/protocol';
import type { DeadManRecord, UserControlRecord } from './journal.js';

/** A user's kill switch as the exchange reports it. */
export interface TradingStatus {
  userId: string;
  tradingEnabled: boolean;
  /** why it was last switched (null: never) */
  reason: string | null;
  /** who switched it */
  by: string | null;
  /** when (ms; null: never) */
  updatedAt: number | null;
}

/**
 * Per-user trading controls: the kill switch (a risk manager stops a user's trading: new orders
 * and amends refused with TRADING_DISABLED, cancels allowed) and the dead-man's switch deadline
 * (all the user's open orders are cancelled when it passes unless re-armed). State only: the
 * cancellations are the exchange's.
 */
export class UserControls {
  private readonly controls = new Map<string, UserControlRecord>();
  private readonly deadlines = new Map<string, number>();

  status(userId: string): TradingStatus {
    const c = this.controls.get(userId);
    if (c === undefined) return { userId, tradingEnabled: true, reason: null, by: null, updatedAt: null };
    return { userId, tradingEnabled: c.tradingEnabled, reason: c.reason, by: c.by, updatedAt: c.updatedAt };
  }

  /** TRADING_DISABLED while the user's kill switch is on, else null. */
  refusal(userId: string): WireError | null {
    const c = this.controls.get(userId);
    if (c === undefined || c.tradingEnabled) return null;
    return wireError('TRADING_DISABLED', `Trading is disabled for this account${c.reason === null ? '' : `: ${c.reason}`}`);
  }

  setTrading(userId: string, tradingEnabled: boolean, reason: string | null, by: string | null, nowMs: number): UserControlRecord {
    const record: UserControlRecord = { userId, tradingEnabled, reason, by, updatedAt: nowMs };
    this.controls.set(userId, record);
    return { ...record };
  }

  /** Sets (or with null clears) the user's deadline; null when nothing changed (nothing to journal). */
  arm(userId: string, firesAt: number | null, nowMs: number): DeadManRecord | null {
    const before = this.deadlines.get(userId) ?? null;
    if (before === firesAt) return null;
    if (firesAt === null) this.deadlines.delete(userId);
    else this.deadlines.set(userId, firesAt);
    return { userId, firesAt, updatedAt: nowMs };
  }

  deadline(userId: string): number | null {
    return this.deadlines.get(userId) ?? null;
  }

  /** Users whose deadline has passed (≤ now), earliest first (then by id). */
  due(nowMs: number): string[] {
    return [...this.deadlines]
      .filter(([, at]) => at <= nowMs)
      .sort(([ua, a], [ub, b]) => a - b || (ua < ub ? -1 : ua > ub ? 1 : 0))
      .map(([userId]) => userId);
  }

  nextDeadline(): number | null {
    let next: number | null = null;
    for (const at of this.deadlines.values()) if (next === null || at < next) next = at;
    return next;
  }

  restoreControl(record: UserControlRecord): void {
    this.controls.set(record.userId, { ...record });
  }

  restoreDeadMan(record: DeadManRecord): void {
    if (record.firesAt === null) this.deadlines.delete(record.userId);
    else this.deadlines.set(record.userId, record.firesAt);
  }
}
