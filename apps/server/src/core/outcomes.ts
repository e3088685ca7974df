/** What the trading core answers: a result, or a coded error in the seed's shape. */
import type { OrderUpdatePayload, WireError } from '@qx/protocol';

export type SubmitOutcome =
  | { ok: true; order: OrderUpdatePayload; replayed: boolean }
  | { ok: false; error: WireError; order?: OrderUpdatePayload | undefined };

export type CancelAllOutcome = { ok: true; cancelled: OrderUpdatePayload[] } | { ok: false; error: WireError };
export type Outcome<T> = ({ ok: true } & T) | { ok: false; error: WireError };
