import type {
  ComplianceAlertPayload,
  DataEvent,
  OrderUpdatePayload,
  SystemAlertPayload,
  TradeUpdatePayload,
  WireError,
} from '@qx/protocol';
import type { JournalRecord } from './journal.js';

/**
 * What the engine hands back for the server to publish: the event name, the user whose private
 * rooms receive it (absent for system-wide alerts), and the payload in its wire shape.
 */
export type EngineEvent =
  | { event: typeof DataEvent.OrderUpdate; userId: string; payload: OrderUpdatePayload }
  | { event: typeof DataEvent.TradeUpdate; userId: string; payload: TradeUpdatePayload }
  | { event: typeof DataEvent.ComplianceAlert; userId: string; payload: ComplianceAlertPayload }
  | { event: typeof DataEvent.SystemAlert; userId?: undefined; payload: SystemAlertPayload };

/** The output of every state-changing operation: persist `journal`, then publish `events`. */
export interface EngineBatch {
  events: EngineEvent[];
  journal: JournalRecord[];
}

/** The result of `submit` and `cancel`, in wire shapes. */
export type OrderResult =
  | ({ ok: true; order: OrderUpdatePayload } & EngineBatch)
  | ({ ok: false; error: WireError; order?: OrderUpdatePayload } & EngineBatch);
