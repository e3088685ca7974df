import {
  CANCEL_ALL_AFTER_MAX_MS,
  CANCEL_ALL_AFTER_MIN_MS,
  DataEvent,
  wireError,
  type OrderUpdatePayload,
  type WireError,
} from '@qx/protocol';
import { complianceAlert } from './compliance-monitor.js';
import type { EngineBatch } from './events.js';
import type { MarketStatusBoard, StatusTransition } from './market-status.js';
import type { MatchingEngine } from './matching-engine.js';
import type { DeadManFiring, DeadManResult, MarketStatusResult, TradingControlResult } from './operations.js';
import type { Order } from './order.js';
import type { OrderRegistry } from './order-registry.js';
import { isAgentUser } from './types.js';
import type { UserControls } from './user-controls.js';
import { isoTime } from './wire.js';

/** Reasons (kill switch, halts, bulk cancels) are 1–256 characters; who switched, 1–128. */
export const MAX_REASON_LENGTH = 256;
export const MAX_BY_LENGTH = 128;
/** At most this many order ids in one `cancelOrders`. */
export const MAX_CANCEL_IDS = 10_000;

/** The reasons the safety nets put on the orders they cancel. */
export const CancelReason = {
  deadManSwitch: 'dead_man_switch',
  killSwitch: (why: string) => `kill_switch: ${why}`,
} as const;

export interface TradingSafetyParts {
  orders: OrderRegistry;
  engine: MatchingEngine;
  controls: UserControls;
  status: MarketStatusBoard;
  wire: (order: Order) => OrderUpdatePayload;
}

/**
 * The safety nets of a trading desk, as exchanges offer them: bulk cancels with a reason
 * (cancel-on-disconnect), the per-user kill switch, the dead-man's switch (Kraken's
 * cancel_all_orders_after), and operator halts and trading-session closures. Each operation
 * returns its batch; bad input is an INVALID_PAYLOAD (or UNKNOWN_COMMODITY) and changes nothing.
 */
export class TradingSafety {
  private readonly orders: OrderRegistry;
  private readonly engine: MatchingEngine;
  private readonly controls: UserControls;
  private readonly status: MarketStatusBoard;
  private readonly wire: (order: Order) => OrderUpdatePayload;

  constructor(parts: TradingSafetyParts) {
    this.orders = parts.orders;
    this.engine = parts.engine;
    this.controls = parts.controls;
    this.status = parts.status;
    this.wire = parts.wire;
  }

  /** Cancels those of `orderIds` that are open orders of the user (others skipped), each with `reason`. */
  cancelOrders(userId: string, orderIds: readonly string[], reason: string, nowMs: number): ({ ok: true; cancelled: OrderUpdatePayload[] } & EngineBatch) | Refused {
    if (!Array.isArray(orderIds) || orderIds.length > MAX_CANCEL_IDS || !orderIds.every((id) => typeof id === 'string')) {
      return refused(wireError('INVALID_PAYLOAD', `orderIds must be an array of at most ${MAX_CANCEL_IDS} order ids`, 'orderIds'));
    }
    const bad = checkText(reason, MAX_REASON_LENGTH, 'reason');
    if (bad !== null) return refused(bad);
    const seen = new Set<string>();
    const mine: Order[] = [];
    for (const id of orderIds) {
      const order = this.orders.openOrder(id);
      if (order === undefined || order.userId !== userId || seen.has(id)) continue;
      seen.add(id);
      mine.push(order);
    }
    return this.cancel(mine, reason, nowMs);
  }

  /** Cancels the given open orders with `reason` in one operation. */
  cancel(orders: readonly Order[], reason: string, nowMs: number): { ok: true; cancelled: OrderUpdatePayload[] } & EngineBatch {
    if (orders.length === 0) return { ok: true, cancelled: [], events: [], journal: [] };
    const { events, journal } = this.engine.takeOffAll(orders, 'cancelled', reason, nowMs);
    return { ok: true, cancelled: orders.map((o) => this.wire(o)), events, journal };
  }

  /**
   * The kill switch. Disabling cancels all the user's open orders (reason `kill_switch: <why>`)
   * and refuses their new orders and amends from then on; enabling lifts it. The user gets a
   * `compliance-alert` (`kill_switch`: critical when disabled, low when enabled again).
   */
  setTradingEnabled(userId: string, enabled: boolean, who: { reason?: string | undefined; by: string }, nowMs: number): TradingControlResult {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128 || isAgentUser(userId)) {
      return refused(wireError('INVALID_PAYLOAD', 'userId must be a user id (1-128 characters, not a simulated agent)', 'userId'));
    }
    if (typeof enabled !== 'boolean') return refused(wireError('INVALID_PAYLOAD', 'enabled must be true or false', 'enabled'));
    const reason = who.reason ?? (enabled ? 'Trading enabled' : undefined);
    const bad = checkText(reason ?? null, MAX_REASON_LENGTH, 'reason') ?? checkText(who.by, MAX_BY_LENGTH, 'by');
    if (bad !== null || reason === undefined) return refused(bad ?? wireError('INVALID_PAYLOAD', 'reason must be 1-256 characters', 'reason'));

    const record = this.controls.setTrading(userId, enabled, reason, who.by, nowMs);
    const open = enabled ? [] : this.orders.openOf(userId);
    const done = this.cancel(open, CancelReason.killSwitch(reason), nowMs);
    done.journal.push({ kind: 'user-control', control: record });
    const message = enabled ? `Trading enabled again by ${who.by}: ${reason}` : `Trading disabled by ${who.by}: ${reason}`;
    done.events.push({
      event: DataEvent.ComplianceAlert,
      userId,
      payload: complianceAlert('kill_switch', enabled ? 'low' : 'critical', message, userId, isoTime(nowMs), {
        tradingEnabled: enabled,
        reason,
        by: who.by,
        cancelledOrders: done.cancelled.length,
      }),
    });
    return { ...done, status: this.controls.status(userId) };
  }

  /**
   * Arms the dead-man's switch: unless armed again within `timeoutMs`, all the user's open orders
   * are cancelled (`fireDue`). Re-arming moves the deadline; 0 disarms. 1 s … 24 h.
   */
  arm(userId: string, timeoutMs: number, nowMs: number): DeadManResult {
    if (typeof userId !== 'string' || userId.length === 0 || isAgentUser(userId)) {
      return refused(wireError('INVALID_PAYLOAD', 'userId must be a user id (not a simulated agent)', 'userId'));
    }
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > CANCEL_ALL_AFTER_MAX_MS || (timeoutMs > 0 && timeoutMs < CANCEL_ALL_AFTER_MIN_MS)) {
      return refused(
        wireError('INVALID_PAYLOAD', `timeoutMs must be 0 (disarm) or a whole number of ms from ${CANCEL_ALL_AFTER_MIN_MS} to ${CANCEL_ALL_AFTER_MAX_MS}`, 'timeoutMs'),
      );
    }
    const firesAt = timeoutMs === 0 ? null : nowMs + timeoutMs;
    const record = this.controls.arm(userId, firesAt, nowMs);
    return { ok: true, firesAt, events: [], journal: record === null ? [] : [{ kind: 'dead-man', deadMan: record }] };
  }

  /** Fires every dead-man's switch whose deadline has passed: one batch of cancellations, deadlines cleared. */
  fireDue(nowMs: number): DeadManFiring {
    const fired = this.controls.due(nowMs);
    if (fired.length === 0) return { events: [], journal: [], fired };
    const { events, journal } = this.cancel(fired.flatMap((u) => this.orders.openOf(u)), CancelReason.deadManSwitch, nowMs);
    for (const userId of fired) {
      const record = this.controls.arm(userId, null, nowMs);
      if (record !== null) journal.push({ kind: 'dead-man', deadMan: record });
    }
    return { events, journal, fired };
  }

  /** An operator's halt (or a new end for one): until `untilMs`, or until reopened when null. */
  halt(commodity: string, reason: string, untilMs: number | null, nowMs: number): MarketStatusResult {
    if (!this.status.has(commodity)) return unknownCommodity(commodity);
    const bad = checkText(reason, MAX_REASON_LENGTH, 'reason');
    if (bad !== null) return refused(bad);
    if (untilMs !== null && (!Number.isSafeInteger(untilMs) || untilMs <= nowMs)) {
      return refused(wireError('INVALID_PAYLOAD', 'untilMs must be a time (ms since the epoch) after now, or null', 'untilMs'));
    }
    return this.statusResult([this.status.halt(commodity, reason, untilMs, nowMs)], [commodity]);
  }

  /** Lifts a halt or a closed session of the commodity. */
  reopen(commodity: string, nowMs: number): MarketStatusResult {
    if (!this.status.has(commodity)) return unknownCommodity(commodity);
    return this.statusResult([this.status.reopen(commodity, nowMs)], [commodity]);
  }

  /** Closes (or opens) the trading session of one commodity, or of all when none is given. */
  session(open: boolean, commodity: string | undefined, nowMs: number): MarketStatusResult {
    if (commodity !== undefined && !this.status.has(commodity)) return unknownCommodity(commodity);
    const which = commodity === undefined ? this.status.views().map((v) => v.commodity) : [commodity];
    return this.statusResult(
      which.map((c) => (open ? this.status.openSession(c, nowMs) : this.status.closeSession(c, nowMs))),
      which,
    );
  }

  /** Ends the halts whose time is up. */
  expireHalts(nowMs: number): EngineBatch {
    return statusBatch(this.status.expireHalts(nowMs));
  }

  private statusResult(transitions: readonly (StatusTransition | null)[], commodities: readonly string[]): MarketStatusResult {
    const statuses = commodities.map((c) => this.status.view(c)).filter((v) => v !== null);
    return { ok: true, statuses, ...statusBatch(transitions) };
  }
}

type Refused = { ok: false; error: WireError } & EngineBatch;

function refused(error: WireError): Refused {
  return { ok: false, error, events: [], journal: [] };
}

function unknownCommodity(commodity: unknown): Refused {
  return refused(wireError('UNKNOWN_COMMODITY', `Unknown commodity: ${String(commodity)}`, 'commodity'));
}

/** A required text of 1–max characters (not only spaces). */
export function checkText(value: unknown, max: number, field: string): WireError | null {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > max) {
    return wireError('INVALID_PAYLOAD', `${field} must be 1-${max} characters`, field);
  }
  return null;
}

/** Status transitions as a batch: their journal records, and the changes clients see. */
export function statusBatch(transitions: readonly (StatusTransition | null)[]): EngineBatch {
  const batch: EngineBatch = { events: [], journal: [] };
  for (const t of transitions) {
    if (t === null) continue;
    batch.journal.push({ kind: 'market-status', status: t.record });
    if (t.change !== null) (batch.marketStatus ??= []).push(t.change);
  }
  return batch;
}
