import type {
  ComplianceAlertPayload,
  DataEvent,
  OrderUpdatePayload,
  SystemAlertPayload,
  TradeUpdatePayload,
  WireError,
} from '@qx/protocol';
import type { JournalRecord } from './journal.js';
import type { MarketStatusChange } from './market-status.js';

/**
 * What the engine hands back for the server to publish: the event name, the user whose private
 * rooms receive it (absent for system-wide alerts), and the payload in its wire shape.
 */
export type EngineEvent =
  | { event: typeof DataEvent.OrderUpdate; userId: string; payload: OrderUpdatePayload }
  | { event: typeof DataEvent.TradeUpdate; userId: string; payload: TradeUpdatePayload }
  | { event: typeof DataEvent.ComplianceAlert; userId: string; payload: ComplianceAlertPayload }
  | { event: typeof DataEvent.SystemAlert; userId?: undefined; payload: SystemAlertPayload };

/**
 * One trade as the public tape shows it: every fill, simulated agents' included, with the
 * aggressor's side and no user or order ids (integer ticks and units, time in ms).
 */
export interface MarketPrint {
  /** the trade id (shared by both sides' trade-update) */
  id: string;
  /** trade id sequence */
  seq: number;
  commodity: string;
  priceTicks: number;
  quantity: number;
  aggressor: 'buy' | 'sell';
  executedAt: number;
}

/** The output of every state-changing operation: persist `journal`, then publish `events`. */
export interface EngineBatch {
  events: EngineEvent[];
  journal: JournalRecord[];
  /** the operation's trades for the public tape and the candles (absent: none) */
  prints?: MarketPrint[];
  /**
   * changes of a commodity's market status (open, halted, closed), in order, to publish as
   * `market-status` events (the server numbers them: `seq`); absent: none
   */
  marketStatus?: MarketStatusChange[];
}

/** The result of `submit` and `cancel`, in wire shapes. */
export type OrderResult =
  | ({ ok: true; order: OrderUpdatePayload } & EngineBatch)
  | ({ ok: false; error: WireError; order?: OrderUpdatePayload } & EngineBatch);
