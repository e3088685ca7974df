/**
 * The journal: what the server must persist, atomically, before it answers a request or
 * publishes the events of the same operation. Every record is a plain JSON-able object in the
 * engine's integer units (prices in ticks of the catalogue's tickSize, quantities in units,
 * times in ms since the epoch).
 *
 * Keys (upsert semantics; a later record with the same key replaces the earlier one):
 * - `order`      by `order.id`             (one record per order changed in the operation)
 * - `trade`      by (`trade.id`, `trade.side`) insert-only: one record per real user's side
 * - `position`   by (`userId`, `commodity`)
 * - `compliance` by (`userId`, `commodity`) the post-trade threshold level already alerted
 * - `session`    by `commodity`            written by `startSession`
 * - `user-control`  by `userId`           the kill switch: trading enabled or not, why, by whom
 * - `dead-man`      by `userId`           the dead-man's switch deadline (absolute ms; null: disarmed)
 * - `market-status` by `commodity`        open / halted / closed, what holds it (a halt, a closed session)
 *
 * An amend (cancel/replace) is journaled as the order's record with its new `priceTicks` and
 * `quantity` (`remainingQuantity` = quantity − filled). A quantity decrease keeps the order's
 * place in its queue; a price change or a quantity increase sends it to the back, which the
 * record shows as a `queuePriority` from the order sequence; `placed` keeps the original terms. A crossing amend journals its
 * trades and positions in the same operation, as a new order would.
 *
 * Restore contract: `Exchange.restore(records)` on a fresh Exchange accepts the records in the
 * order they were journaled (or only the latest record per key, in any order: orders are ranked
 * by `priority`, resting orders queued by `queuePriority ?? priority`, trades by `seq`). It
 * rebuilds the books with the same time priority, the open orders, positions, compliance
 * levels, the clientOrderId index, the session reference prices, last price and volume (from
 * this session's journaled trades), the id counters, each user's kill switch and dead-man
 * deadline, and each commodity's market status. Deadlines and halt ends are absolute times: a
 * restored exchange whose deadline or halt end has already passed acts on the next
 * `fireDeadManSwitches(now)` / `tick(now)` (the caller runs both right after a restore).
 * Simulated agents (user ids starting with `~`) are never journaled; the simulator re-creates
 * their quotes after a restart.
 */
import type { ErrorCodeName } from '@qx/protocol';
import type { Liquidity, OrderStatus, OrderType, Side, TimeInForce } from './types.js';

export interface OrderRecord {
  id: string;
  /** the order id sequence (monotonic, unique); its time priority unless `queuePriority` is set */
  priority: number;
  /**
   * set once an amend lost the order its time priority: its place in the price level's queue,
   * from the same sequence as `priority` (absent: `priority`)
   */
  queuePriority?: number;
  /** set once amended: the terms the order was placed with (a clientOrderId retry is compared with them) */
  placed?: { priceTicks: number | null; quantity: number };
  userId: string;
  commodity: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  priceTicks: number | null;
  quantity: number;
  filledQuantity: number;
  cancelledQuantity: number;
  remainingQuantity: number;
  /** Σ price × quantity of fills (ticks × units) */
  filledNotional: number;
  status: OrderStatus;
  reason: string | null;
  rejectCode: ErrorCodeName | null;
  clientOrderId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One side of one trade, for a real user (a trade between two real users has two records). */
export interface TradeRecord {
  id: string;
  /** trade id sequence (shared by both sides of the trade) */
  seq: number;
  commodity: string;
  priceTicks: number;
  quantity: number;
  executedAt: number;
  userId: string;
  orderId: string;
  side: Side;
  liquidity: Liquidity;
  counterpartyOrderId: string;
}

export interface PositionRecord {
  userId: string;
  commodity: string;
  netQuantity: number;
  /** Σ price × quantity of the open position (ticks × units, ≥ 0) */
  openCost: number;
  /** realized P&L in ticks × units */
  realizedPnl: number;
  updatedAt: number;
}

export interface ComplianceRecord {
  userId: string;
  commodity: string;
  /** how many utilization thresholds are currently crossed (and were alerted) */
  level: number;
  updatedAt: number;
}

export interface SessionRecord {
  commodity: string;
  startedAt: number;
  referencePriceTicks: number;
}

/** The kill switch of one user (the latest state; enabling again is journaled too). */
export interface UserControlRecord {
  userId: string;
  tradingEnabled: boolean;
  reason: string | null;
  /** who switched it (an operator's id) */
  by: string | null;
  updatedAt: number;
}

/** The dead-man's switch of one user: all open orders are cancelled at `firesAt` unless re-armed. */
export interface DeadManRecord {
  userId: string;
  /** absolute time in ms since the epoch; null once disarmed or fired */
  firesAt: number | null;
  updatedAt: number;
}

/**
 * A connection's cancel-on-disconnect, as the server's trading core keeps it (the exchange itself
 * only carries it through its journal): journaled with the steps that change it, so that a new
 * engine leader, or the single process after a restart, still cancels what it must.
 */
export interface ConnectionRecord {
  /** the connection's id (its Socket.IO session id: the same across a recovery) */
  id: string;
  userId: string;
  /** the node the connection is on */
  node: string;
  /** `off`: the connection no longer asks for it (a tombstone: dropped at restore) */
  scope: 'connection' | 'account' | 'off';
  /** the orders placed through this connection (scope `connection`) that may still be open */
  orders: string[];
  /** when the connection was lost (null: connected) */
  lostAt: number | null;
  updatedAt: number;
}

export type MarketStatusName = 'open' | 'halted' | 'closed';

/** A commodity's market status: the status it shows, and what holds it (both may: the halt shows). */
export interface MarketStatusRecord {
  commodity: string;
  status: MarketStatusName;
  reason: string;
  /** when the commodity entered `status` */
  since: number;
  /** a halt's planned end (null: until reopened; always null unless halted) */
  until: number | null;
  halt: { reason: string; since: number; until: number | null } | null;
  closed: { reason: string; since: number } | null;
  /** +1 per change of what the commodity shows (the `market-status` seq; absent in records before it: 0) */
  seq?: number;
  updatedAt: number;
}

export type JournalRecord =
  | { kind: 'order'; order: OrderRecord }
  | { kind: 'trade'; trade: TradeRecord }
  | { kind: 'position'; position: PositionRecord }
  | { kind: 'compliance'; compliance: ComplianceRecord }
  | { kind: 'session'; session: SessionRecord }
  | { kind: 'user-control'; control: UserControlRecord }
  | { kind: 'dead-man'; deadMan: DeadManRecord }
  | { kind: 'market-status'; status: MarketStatusRecord }
  | { kind: 'connection'; connection: ConnectionRecord };
